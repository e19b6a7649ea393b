//! Shared pieces of the integration tests: sipp runner, a bridge with a scripted engine,
//! an RTP peer that plays a tone and listens for what comes back, and the Opus side of a
//! phone (encoding and decoding at 48 kHz with libopus, as a softphone does).

#![allow(dead_code)]

pub mod engine;
pub mod opus_phone;
pub mod rtp_peer;
pub mod sip_probe;
pub mod sipp;
pub mod test_logs;
