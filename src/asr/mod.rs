//! Speech recognition: one shared Whisper model, a pool of decode states on a bounded blocking
//! pool, and the text clean-up Whisper output needs before anyone reads it (script
//! normalisation, hallucination filter).

mod asr_language;
mod decode_cancel;
mod decode_stats;
mod hallucination_filter;
mod script_normaliser;
mod state_pool;
mod transcriber;
mod vocabulary_prompt;

pub use asr_language::AsrLanguage;
pub use decode_cancel::DecodeCancel;
pub use decode_stats::{DecodeKind, DecodeStats, thread_cpu_time};
pub use hallucination_filter::{HallucinationFilter, Rejection};
pub use script_normaliser::{ChineseScript, DEFAULT_CANTONESE_KEEP, ScriptNormaliser};
pub use transcriber::{AsrError, Transcriber, TranscriberOptions, Transcript, warm_up_tone};
pub use vocabulary_prompt::{MAX_PROMPT_CHARS, vocabulary_prompt};
