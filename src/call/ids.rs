//! Identifiers the session hands to the driver with each piece of work it asks for, so results
//! that arrive after the work was cancelled (or superseded) are recognised and dropped.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One transcription request (a partial, a speculative final or a final decode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestId(pub u32);

/// One bot turn: a dialogue answer, or a system message (greeting, re-prompt, transfer notice).
/// Dialogue requests, their reply events and the speech of their sentences carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TurnId(pub u32);

/// One sentence sent to TTS; its audio comes back under the same id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SentenceId(pub u32);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "asr#{}", self.0)
    }
}

impl fmt::Display for TurnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "turn#{}", self.0)
    }
}

impl fmt::Display for SentenceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sentence#{}", self.0)
    }
}

/// Hands out fresh ids of every kind, counting from 1.
#[derive(Debug, Default)]
pub(crate) struct IdSource {
    request: u32,
    turn: u32,
    sentence: u32,
}

impl IdSource {
    pub(crate) fn request(&mut self) -> RequestId {
        self.request += 1;
        RequestId(self.request)
    }

    pub(crate) fn turn(&mut self) -> TurnId {
        self.turn += 1;
        TurnId(self.turn)
    }

    pub(crate) fn sentence(&mut self) -> SentenceId {
        self.sentence += 1;
        SentenceId(self.sentence)
    }
}
