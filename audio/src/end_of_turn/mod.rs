//! Acoustic end of turn: whether a caller who paused has finished, from the sound alone.
//!
//! [`SmartTurnModel`] runs the Smart Turn v3 model on the last 8 s of an utterance at a pause;
//! [`smart_turn_features`] makes its input (Whisper-style log-mel features). The engine combines
//! the verdict with what the words say (digits being dictated, a trailing filler).

mod log_mel;
mod smart_turn;

pub use log_mel::{MEL_BANDS, MEL_FRAMES, WINDOW_SAMPLES, smart_turn_features};
pub use smart_turn::{SmartTurnError, SmartTurnModel};
