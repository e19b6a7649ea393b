//! Where calls come from. Every channel (SIP via sip-bridge, the Twilio-style media WebSocket,
//! the browser widget over WebRTC, files in tests) yields a [`MediaLeg`], so the conversation never knows which.
//! The human line (agents' phones, over SIP) is reached through the [`HumanLine`].

mod busy_announcement;
mod human_line;
mod media_leg;
mod sip_channel;
mod sip_config;
mod sip_leg;
pub mod twilio_media_stream;
mod twilio_media_stream_audio;
mod twilio_media_stream_control;
mod twilio_media_stream_messages;
pub mod webrtc;

pub use human_line::HumanLine;
pub use media_leg::{LegControl, LegEvent, LegFuture, MediaLeg, TransferOutcome, TransferTarget};
pub use sip_channel::{SipChannelError, run_sip_channel};
pub use sip_config::{
    SipConfig, SipConfigError, SipInboundAuthConfig, SipRegisterConfig, SipTransferConfig,
    SipTransferMode, SipUserConfig, SipWhenFull,
};
pub use sip_leg::{SipLegControl, SipTransferPolicy, sip_media_leg};
