//! Which engine answers callers: `[dialogue] engine = "kb" | "llm" | "rasa" | "relay"`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineChoice {
    /// FAQ answers only (no network).
    #[default]
    #[serde(alias = "faq")]
    Kb,
    /// FAQ first, then an OpenAI-compatible LLM with the FAQ as context and company tools.
    Llm,
    /// An external Rasa bot over its REST channel.
    Rasa,
    /// An external bot over the ConversationRelay-style WebSocket protocol.
    Relay,
}

impl EngineChoice {
    /// True for engines that send the caller's words out of the process (redact first).
    pub fn leaves_the_process(self) -> bool {
        !matches!(self, EngineChoice::Kb)
    }
}
