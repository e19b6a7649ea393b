//! Builds the dialogue engine the `[dialogue]` configuration asks for.
//!
//! Today that is the FAQ engine over the configured file, or over the built-in demo FAQ when
//! no file is set. The LLM engine, external bots and the policy/safety wrappers are chosen here
//! as they arrive.

use std::sync::Arc;

use super::engine::DialogueEngine;
use super::faq_error::FaqError;
use super::kb_engine::KnowledgeBaseEngine;
use super::knowledge_base::KnowledgeBase;
use super::policy_engine::{PolicyConfig, PolicyEngine};
use crate::config::DialogueConfig;

/// The engine for `config`, ready to share between calls.
pub fn load_engine(config: &DialogueConfig) -> Result<Arc<dyn DialogueEngine>, FaqError> {
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
    let faq: Arc<dyn DialogueEngine> = Arc::new(
        KnowledgeBaseEngine::new(Arc::new(knowledge)).with_threshold(config.faq_threshold),
    );
    with_policy(faq, config)
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
