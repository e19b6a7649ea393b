//! What an engine is asked: the caller's latest words, their language, and what was said before.
//!
//! Engines that keep multi-turn context (an LLM, an external bot) read the history; the FAQ
//! engine only looks at the transcript. The policy layer reads the history too (how many turns
//! went unanswered).

use serde::{Deserialize, Serialize};

use crate::lang::Lang;

/// One request to a [`DialogueEngine`](super::DialogueEngine): answer `transcript`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DialogueRequest {
    /// The caller's latest utterance as ASR wrote it (may be Simplified script, may hold errors).
    pub transcript: String,
    /// The language the caller speaks, and so the language the answer should be in.
    pub lang: Lang,
    /// Earlier turns of this call, oldest first; the current transcript is not in it.
    pub history: Vec<Turn>,
}

impl DialogueRequest {
    /// A request with no history (the first turn of a call).
    pub fn new(transcript: impl Into<String>, lang: Lang) -> Self {
        Self {
            transcript: transcript.into(),
            lang,
            history: Vec::new(),
        }
    }

    /// The same request with the earlier turns of the call attached.
    pub fn with_history(mut self, history: Vec<Turn>) -> Self {
        self.history = history;
        self
    }
}

/// Who spoke a [`Turn`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    Caller,
    Bot,
}

/// One earlier turn of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    pub speaker: Speaker,
    /// What was said. For a bot turn cut short by barge-in, only the part actually played.
    pub text: String,
    pub lang: Lang,
    /// True when the caller barged in and `text` is the truncated, actually-spoken part.
    #[serde(default)]
    pub interrupted: bool,
}

impl Turn {
    /// A caller turn.
    pub fn caller(text: impl Into<String>, lang: Lang) -> Self {
        Self {
            speaker: Speaker::Caller,
            text: text.into(),
            lang,
            interrupted: false,
        }
    }

    /// A bot turn that was played to the end.
    pub fn bot(text: impl Into<String>, lang: Lang) -> Self {
        Self {
            speaker: Speaker::Bot,
            text: text.into(),
            lang,
            interrupted: false,
        }
    }

    /// A bot turn the caller interrupted: `spoken` is what was played before the barge-in.
    pub fn bot_interrupted(spoken: impl Into<String>, lang: Lang) -> Self {
        Self {
            interrupted: true,
            ..Self::bot(spoken, lang)
        }
    }
}
