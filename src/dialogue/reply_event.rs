//! One item of an engine's answer. An answer is a stream of these, ended by the stream closing.

use serde::{Deserialize, Serialize};

use super::action::DialogueAction;
use crate::lang::Lang;

/// One event of a reply, in the order the call should act on them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReplyEvent {
    /// A sentence to speak now (TTS may start on it while later events are still coming).
    Sentence { text: String, lang: Lang },
    /// The FAQ entry that answered, with its calibrated score in 0..=1 (for logs, JSON, review).
    Matched { faq_id: String, score: f32 },
    /// No FAQ entry passed the threshold; the closest one and its score, for the
    /// "unanswered questions" review and for the policy layer counting unresolved turns.
    NoMatch {
        best_faq_id: Option<String>,
        best_score: f32,
    },
    /// The FAQ may know this, but not surely: the bot asks whether the caller means one (or
    /// one of two) topics, best first; the caller's yes or no in the next turn resolves it.
    Confirm { faq_ids: Vec<String>, score: f32 },
    /// Something to do after the sentences before it have been spoken.
    Action(DialogueAction),
}

impl ReplyEvent {
    /// A sentence event.
    pub fn sentence(text: impl Into<String>, lang: Lang) -> Self {
        ReplyEvent::Sentence {
            text: text.into(),
            lang,
        }
    }
}
