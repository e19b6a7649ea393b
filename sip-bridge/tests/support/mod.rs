//! Shared pieces of the integration tests: sipp runner, a bridge with a scripted engine,
//! and an RTP peer that plays a tone and listens for what comes back.

#![allow(dead_code)]

pub mod engine;
pub mod rtp_peer;
pub mod sipp;
