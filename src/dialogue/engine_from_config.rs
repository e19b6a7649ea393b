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
use super::language::match_text::TextAnalyzer;
use super::llm::engine::LlmEngine;
use super::llm::secret_value::process_env;
use super::policy::engine::{PolicyConfig, PolicyEngine};
use super::policy::human_intent::HumanIntent;
use super::safety::blacklist::Blacklist;
use super::safety::filter::SafetyFilter;
use crate::embedding::{Embedders, VectorCache};

/// The engine for `config`, ready to share between calls, matching the FAQ by words only.
pub fn load_engine(config: &DialogueConfig) -> Result<Arc<dyn DialogueEngine>, EngineLoadError> {
    load_engine_with(config, Embedders::default())
}

/// The engine for `config`; with a primary embedder, the FAQ is also matched by meaning and
/// requests for a human are recognised by meaning too; with a second one as well, FAQ topics
/// are ranked by both models' similarities.
pub fn load_engine_with(
    config: &DialogueConfig,
    embedders: Embedders,
) -> Result<Arc<dyn DialogueEngine>, EngineLoadError> {
    let embedder = embedders.primary.clone();
    let load_knowledge = || -> Result<Arc<KnowledgeBase>, EngineLoadError> {
        let mut knowledge = match &config.kb {
            Some(path) => KnowledgeBase::load(path)?,
            None => KnowledgeBase::demo()?,
        };
        if let Some(embedder) = &embedder {
            let cache = config.embedding_cache.as_ref().map(VectorCache::new);
            knowledge = knowledge
                .with_semantic(Arc::clone(embedder), cache.as_ref())
                .map_err(|e| EngineLoadError::Embedding(e.to_string()))?;
            if let Some(second) = embedders.second() {
                knowledge = knowledge.with_second_semantic(Arc::clone(second), cache.as_ref());
            }
        }
        tracing::info!(
            entries = knowledge.entries().len(),
            topics = knowledge.topic_count(),
            source = %config.kb.as_ref().map_or("built-in demo FAQ".to_string(), |p| p.display().to_string()),
            "FAQ knowledge base loaded"
        );
        Ok(Arc::new(knowledge))
    };
    let mut loaded_faq: Option<Arc<KnowledgeBase>> = None;
    let mut knowledge = || -> Result<Arc<KnowledgeBase>, EngineLoadError> {
        let kb = load_knowledge()?;
        loaded_faq = Some(Arc::clone(&kb));
        Ok(kb)
    };
    let engine: Arc<dyn DialogueEngine> = match config.engine {
        EngineChoice::Kb => {
            Arc::new(KnowledgeBaseEngine::new(knowledge()?).with_threshold(config.faq_threshold))
        }
        EngineChoice::Llm => Arc::new(LlmEngine::new(
            knowledge()?,
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
    let human_intent = match &embedder {
        Some(embedder) => {
            let analyzer = TextAnalyzer::shared()?;
            let cache = config.embedding_cache.as_ref().map(VectorCache::new);
            let intent = HumanIntent::new(Arc::clone(embedder), analyzer, cache.as_ref())
                .map_err(|e| EngineLoadError::Embedding(e.to_string()))?;
            Some(Arc::new(match loaded_faq {
                Some(faq) => intent.with_faq(faq, cache.as_ref()),
                None => intent,
            }))
        }
        None => None,
    };
    Ok(PolicyEngine::shared(
        safe,
        PolicyConfig::from_dialogue(config),
        human_intent,
    )?)
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
