//! The fuzz targets of hotline: one module per parser that reads bytes from the network, each
//! with a `run(data)` that feeds the parser and checks what it returns (beyond "no panic":
//! lengths within the input, render → parse round trips). The cargo-fuzz binaries in
//! `fuzz/fuzz_targets/` call these; `tests/smoke.rs` replays the committed corpora and
//! regressions through them (plus seeded mutations) inside `cargo test`.

pub mod browser_message;
pub mod dtmf;
pub mod engine_parsers;
pub mod mutate;
pub mod rtcp;
pub mod rtp;
pub mod sdp;
pub mod sip_message;
pub mod sip_stream;
pub mod sipfrag;
pub mod twilio_message;
pub mod wav;
pub mod webrtc_offer;

/// A target's body: feeds one input to its parser and checks what comes back.
pub type Target = fn(&[u8]);

/// Every target by name (the name of its binary, corpus and regression folders).
pub const TARGETS: &[(&str, Target)] = &[
    ("browser_message", browser_message::run),
    ("dtmf", dtmf::run),
    ("rtcp", rtcp::run),
    ("rtp", rtp::run),
    ("sdp", sdp::run),
    ("sip_message", sip_message::run),
    ("sip_stream", sip_stream::run),
    ("sipfrag", sipfrag::run),
    ("twilio_message", twilio_message::run),
    ("wav", wav::run),
    ("webrtc_offer", webrtc_offer::run),
];
