//! hotline: a real-time voice contact-center engine.
//!
//! The library holds everything the `hotline` binary runs: configuration, ASR, TTS, dialogue,
//! the conversation state machine and the channels calls arrive on. See ARCHITECTURE.md.

pub mod asr;
pub mod call;
pub mod channel;
pub mod cli;
pub mod config;
pub mod dialogue;
pub mod embedding;
pub mod engine;
pub mod engine_runtime;
pub mod engine_warm_up;
pub mod lang;
pub mod lifecycle;
pub mod model_cpu;
pub mod offline_call;
pub mod store;
pub mod thread_priority;
pub mod tts;
pub mod web;
