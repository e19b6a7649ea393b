//! `[dialogue]`: which engine answers and the settings of each part (knowledge base, policy,
//! safety, LLM, connectors). Defined in the dialogue, not in the engine-wide config file, so
//! the dialogue depends on its own section only; the engine's `Config` holds it as `dialogue`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::connectors::config::{RasaConfig, RelayConfig};
use super::engine_choice::EngineChoice;
use super::knowledge::engine::DEFAULT_FAQ_THRESHOLD;
use super::llm::config::{LlmConfig, ToolConfig};
use crate::lang::Lang;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DialogueConfig {
    /// FAQ file (CSV or YAML). Empty: the embedded demo-shop FAQ.
    pub kb: Option<PathBuf>,
    /// Language answered in when nothing else tells.
    pub default_language: Lang,
    /// Calibrated retrieval score (0..1) above which the FAQ answer is given directly, when
    /// FAQ matching is lexical only (no embedding model).
    pub faq_threshold: f32,
    /// Sentence-embedding model for matching by meaning: a manifest id (`e5-small-q4`), a
    /// folder holding its files, or "none" for lexical matching only.
    pub embedding_model: String,
    /// A second sentence-embedding model whose similarities rank FAQ topics together with
    /// the first's (`use-multilingual-v3`, or a folder holding its files), or "none": rank
    /// with the first model alone. Used only when `embedding_model` loads.
    pub second_embedding_model: String,
    /// OpenMP threads per embedding (one turn at a time on one worker thread).
    pub embedding_threads: usize,
    /// Where FAQ embeddings are kept by content hash between starts; empty: not kept.
    pub embedding_cache: Option<PathBuf>,
    /// Hand the caller to a human when they ask for one (转人工, 搵真人, agent ...).
    pub transfer_on_request: bool,
    /// Hand an angry caller to a human at once (priority).
    pub transfer_when_angry: bool,
    /// Negative caller turns in a call before a priority transfer; 0: never.
    pub negative_turns_before_transfer: u32,
    /// Turns in a row without a satisfying answer (no FAQ match, or the caller repeating
    /// the question) before a transfer; 0: never.
    pub unresolved_turns_before_transfer: u32,
    /// Decide each turn's language (and so the reply's) from its text as well as from ASR.
    pub detect_language: bool,
    /// Which engine answers: kb (FAQ only), llm, rasa or relay.
    pub engine: EngineChoice,
    /// Replace IDs, card numbers, phones and emails by placeholders in what is sent to an LLM
    /// or external bot and in transcripts that are stored or logged.
    pub redact_pii: bool,
    /// Words the bot must never say (added to a small built-in list); a sentence holding
    /// one is replaced by a safe sentence before it is spoken.
    pub blacklist: Vec<String>,
    pub llm: LlmConfig,
    /// Company HTTP APIs the LLM may call (`[[dialogue.tools]]`).
    pub tools: Vec<ToolConfig>,
    pub rasa: RasaConfig,
    pub relay: RelayConfig,
}

impl Default for DialogueConfig {
    fn default() -> Self {
        Self {
            kb: None,
            default_language: Lang::Zh,
            faq_threshold: DEFAULT_FAQ_THRESHOLD,
            embedding_model: crate::embedding::EMBEDDING_MODEL.to_string(),
            second_embedding_model: crate::embedding::USE_MODEL.to_string(),
            embedding_threads: 1,
            embedding_cache: Some(PathBuf::from("data/cache/embeddings")),
            transfer_on_request: true,
            transfer_when_angry: true,
            negative_turns_before_transfer: 2,
            unresolved_turns_before_transfer: 3,
            detect_language: true,
            engine: EngineChoice::Kb,
            redact_pii: true,
            blacklist: Vec::new(),
            llm: LlmConfig::default(),
            tools: Vec::new(),
            rasa: RasaConfig::default(),
            relay: RelayConfig::default(),
        }
    }
}
