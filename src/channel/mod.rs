//! Where calls come from. Every channel (SIP via sip-bridge, the Twilio-style media WebSocket,
//! the browser widget over WebRTC, files in tests) yields a [`MediaLeg`], so the conversation never knows which.
//! The human line (agents' phones, over SIP) is reached through the [`HumanLine`].

mod human_line;
mod media_leg;
mod sip;
pub mod twilio_media_stream;
mod twilio_media_stream_audio;
mod twilio_media_stream_control;
mod twilio_media_stream_messages;
pub mod webrtc;

pub use human_line::HumanLine;
pub use media_leg::{LegControl, LegEvent, LegFuture, MediaLeg, TransferOutcome, TransferTarget};
pub(crate) use sip::NO_TRANSFER_TARGET;
pub use sip::{
    SipChannelError, SipConfig, SipConfigError, SipInboundAuthConfig, SipLegControl,
    SipRegisterConfig, SipTransferConfig, SipTransferMode, SipTransferPolicy, SipUserConfig,
    SipWhenFull, run_sip_channel, sip_media_leg,
};
