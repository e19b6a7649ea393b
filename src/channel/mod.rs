//! Where calls come from. Every channel (SIP via sip-bridge, the Twilio-style media WebSocket,
//! WebRTC later, files in tests) yields a [`MediaLeg`], so the conversation never knows which.

mod media_leg;

pub use media_leg::{LegControl, LegEvent, MediaLeg, TransferOutcome, TransferTarget};
