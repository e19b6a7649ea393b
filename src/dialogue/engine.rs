//! The one trait every way of answering a caller implements: FAQ, LLM, external bot, and the
//! policy and safety layers that wrap any of them.

use super::knowledge::knowledge_base::Hit;
use super::reply_stream::ReplyStream;
use super::request::DialogueRequest;
use crate::lang::Lang;

/// Answers a caller's utterance with a stream of sentences and actions.
///
/// `respond` must return quickly: an engine that needs time (network, model) spawns its work
/// and sends events into the stream as they are ready, so the first sentence can be spoken
/// before the last is produced. The answer is complete when the stream closes. If the consumer
/// drops the stream (barge-in), sends fail and the engine should stop.
///
/// Object-safe: the call driver holds an `Arc<dyn DialogueEngine>`.
pub trait DialogueEngine: Send + Sync {
    /// A short name for logs and metrics (`"faq"`, `"llm"`, `"rasa"` ...).
    fn name(&self) -> &str;

    /// Starts answering `request`; events arrive on the returned stream.
    fn respond(&self, request: DialogueRequest) -> ReplyStream;

    /// The opening sentence of every answer this engine gives word for word (the FAQ's
    /// answers), in the answer's language, so warm-up can synthesize them before the first
    /// call. Empty for engines whose answers are written per turn.
    fn answer_openings(&self) -> Vec<(Lang, String)> {
        Vec::new()
    }

    /// The FAQ entries nearest to `text` (a caller's words, in `lang`), best first, at most
    /// `k`: suggestions for a human agent. Empty for engines without a local knowledge base.
    /// Blocks while the text is embedded: call it off the async runtime.
    fn suggestions(&self, _text: &str, _lang: Lang, _k: usize) -> Vec<Hit> {
        Vec::new()
    }

    /// What this engine is, for `/healthz`, logs and the CLI.
    fn describe(&self) -> EngineDescription {
        EngineDescription {
            name: self.name().to_string(),
            entries: 0,
        }
    }
}

/// A summary of a loaded engine.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EngineDescription {
    /// The engine's [`DialogueEngine::name`].
    pub name: String,
    /// Knowledge entries it answers from (FAQ rows); 0 for engines without a local knowledge base.
    pub entries: usize,
}
