//! hotline: a real-time voice contact-center engine.
//!
//! The library holds everything the `hotline` binary runs: configuration, ASR, TTS, dialogue,
//! the conversation state machine and the channels calls arrive on. See ARCHITECTURE.md.

pub mod dialogue;
pub mod lang;
