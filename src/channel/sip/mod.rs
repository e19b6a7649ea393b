//! Calls over SIP (the phone hotline, through sip-bridge): the `[sip]` settings, the channel
//! that answers calls and connects the human line, each call as a media leg, and the busy
//! announcement a full node can answer with.

mod busy_announcement;
mod channel;
mod config;
mod leg;

pub use channel::{SipChannelError, run_sip_channel};
pub use config::{
    SipConfig, SipConfigError, SipInboundAuthConfig, SipRegisterConfig, SipTransferConfig,
    SipTransferMode, SipUserConfig, SipWhenFull,
};
pub(crate) use leg::NO_TRANSFER_TARGET;
pub use leg::{SipLegControl, SipTransferPolicy, sip_media_leg};
