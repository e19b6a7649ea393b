//! Builds the dialogue engine the `[dialogue]` configuration asks for: the FAQ engine, the
//! LLM engine (FAQ first), or a connector to an external bot (Rasa, ConversationRelay-style
//! WebSocket), always inside the [`SafetyFilter`] (blacklist before TTS; personal data
//! redacted from requests that leave the process when `redact_pii` is on), and around that
//! the policy layer (transfer on request, distress, unresolved turns; language per turn).

use std::sync::Arc;

use super::config::DialogueConfig;
use super::connectors::rasa_engine::RasaEngine;
use super::connectors::relay_engine::RelayEngine;
use super::engine::DialogueEngine;
use super::engine_choice::EngineChoice;
use super::engine_load_error::EngineLoadError;
use super::faq_error::FaqError;
use super::knowledge::engine::KnowledgeBaseEngine;
use super::knowledge::knowledge_base::KnowledgeBase;
use super::llm::engine::LlmEngine;
use super::llm::secret_value::process_env;
use super::policy::engine::{PolicyConfig, PolicyEngine};
use super::safety::blacklist::Blacklist;
use super::safety::filter::SafetyFilter;

/// The engine for `config`, ready to share between calls.
pub fn load_engine(config: &DialogueConfig) -> Result<Arc<dyn DialogueEngine>, EngineLoadError> {
    let load_knowledge = || -> Result<Arc<KnowledgeBase>, EngineLoadError> {
        let knowledge = match &config.kb {
            Some(path) => KnowledgeBase::load(path)?,
            None => KnowledgeBase::demo()?,
        };
        tracing::info!(
            entries = knowledge.entries().len(),
            topics = knowledge.topic_count(),
            source = %config.kb.as_ref().map_or("built-in demo FAQ".to_string(), |p| p.display().to_string()),
            "FAQ knowledge base loaded"
        );
        Ok(Arc::new(knowledge))
    };
    let engine: Arc<dyn DialogueEngine> = match config.engine {
        EngineChoice::Kb => Arc::new(
            KnowledgeBaseEngine::new(load_knowledge()?).with_threshold(config.faq_threshold),
        ),
        EngineChoice::Llm => Arc::new(LlmEngine::new(
            load_knowledge()?,
            config.faq_threshold,
            &config.llm,
            &config.tools,
            &process_env,
        )?),
        EngineChoice::Rasa => Arc::new(RasaEngine::new(&config.rasa)?),
        EngineChoice::Relay => Arc::new(RelayEngine::new(&config.relay)?),
    };
    let redact = config.redact_pii && config.engine.leaves_the_process();
    let safe: Arc<dyn DialogueEngine> = Arc::new(
        SafetyFilter::new(engine, Blacklist::with_defaults(&config.blacklist))
            .redacting_requests(redact),
    );
    Ok(with_policy(safe, config)?)
}

/// `engine` inside the policy layer configured by `config`.
pub fn with_policy(
    engine: Arc<dyn DialogueEngine>,
    config: &DialogueConfig,
) -> Result<Arc<dyn DialogueEngine>, FaqError> {
    Ok(Arc::new(PolicyEngine::new(
        engine,
        PolicyConfig::from_dialogue(config),
    )?))
}
