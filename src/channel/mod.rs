//! Where calls come from. Every channel (SIP via sip-bridge, the Twilio-style media WebSocket,
//! WebRTC later, files in tests) yields a [`MediaLeg`], so the conversation never knows which.

mod media_leg;
mod sip_channel;
mod sip_config;
mod sip_leg;

pub use media_leg::{LegControl, LegEvent, MediaLeg, TransferOutcome, TransferTarget};
pub use sip_channel::{SipChannelError, run_sip_channel};
pub use sip_config::{
    SipConfig, SipConfigError, SipInboundAuthConfig, SipRegisterConfig, SipTransferConfig,
    SipTransferMode, SipUserConfig,
};
pub use sip_leg::{SipLegControl, SipTransferPolicy, sip_media_leg};
