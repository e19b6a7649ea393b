//! The engine crate's network parsers, compiled here from their own source files.
//!
//! They live in the `hotline` crate, whose build pulls in whisper.cpp, ONNX Runtime, SQLite and
//! webrtc-rs; building all that again with sanitizer instrumentation for each fuzz run would
//! cost more than the fuzzing. These files import nothing of the engine (only serde, base64,
//! thiserror and hotline-audio), so they are compiled here as they are: the fuzzers test the
//! very code the engine runs, and this crate stops compiling if one of them starts to depend on
//! the rest of the engine.

/// Twilio Media Streams JSON messages (`src/channel/twilio_media_stream_messages.rs`).
#[path = "../../../src/channel/twilio_media_stream_messages.rs"]
pub mod twilio_media_stream_messages;

/// Twilio media payloads: base64 μ-law to 16 kHz frames (`src/channel/twilio_media_stream_audio.rs`).
#[path = "../../../src/channel/twilio_media_stream_audio.rs"]
pub mod twilio_media_stream_audio;

/// The first look at a browser's SDP offer (`src/channel/webrtc/offer_check.rs`).
#[path = "../../../src/channel/webrtc/offer_check.rs"]
pub mod offer_check;

/// The browser call's data-channel messages (`src/channel/webrtc/browser_messages.rs`).
#[path = "../../../src/channel/webrtc/browser_messages.rs"]
pub mod browser_messages;
