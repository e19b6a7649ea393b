//! Dialogue: what the bot says back. Engines sit behind one trait and answer with a stream.
//!
//! - [`DialogueEngine`]: `respond(DialogueRequest) -> ReplyStream` of [`ReplyEvent`]s.
//! - [`KnowledgeBase`]: FAQ entries (CSV/YAML) indexed for Mandarin, Cantonese and English
//!   questions; [`KnowledgeBaseEngine`] answers from it.

mod action;
mod bm25_index;
mod cantonese_forms;
mod connector_config;
mod connector_sessions;
mod document_chunks;
mod domain_folds;
mod engine;
mod engine_choice;
mod engine_from_config;
mod engine_load_error;
mod english_words;
mod faq_entry;
mod faq_error;
mod faq_file;
mod follow_up;
mod kb_engine;
mod kb_eval;
mod kb_import;
mod knowledge_base;
mod language_detect;
mod llm_chunk;
mod llm_client;
mod llm_config;
mod llm_engine;
mod llm_error;
mod llm_messages;
mod llm_sse;
mod llm_think_filter;
mod llm_tool_calls;
mod llm_tools;
mod match_text;
mod passage_store;
mod phrase_rewriter;
mod pii_checks;
mod pii_normalised_text;
mod pii_redaction;
mod pii_scanner;
mod policy_emotion;
mod policy_engine;
mod policy_handover;
mod policy_human_intent;
mod policy_human_request;
mod policy_unresolved;
mod rasa_engine;
mod relay_engine;
mod relay_messages;
mod reply_event;
mod reply_stream;
mod request;
mod safety_blacklist;
mod safety_filter;
mod semantic_index;
mod secret_value;

#[cfg(test)]
mod demo_faq_tests;
#[cfg(test)]
mod llm_engine_tests;
#[cfg(test)]
mod mock_http_server;
#[cfg(test)]
mod pii_tests;
#[cfg(test)]
mod policy_engine_tests;

pub use action::{DialogueAction, TransferReason};
pub use cantonese_forms::CantoneseForms;
pub use connector_config::{RasaConfig, RelayConfig};
pub use connector_sessions::ConversationIds;
pub use document_chunks::{PASSAGE_CHARS, chunk_document};
pub use engine::{DialogueEngine, EngineDescription};
pub use engine_choice::EngineChoice;
pub use engine_from_config::{load_engine, load_engine_with, with_policy};
pub use engine_load_error::EngineLoadError;
pub use faq_entry::FaqEntry;
pub use faq_error::{FaqError, FaqLocation};
pub use faq_file::{parse_faq_csv, parse_faq_yaml, read_faq_file};
pub use kb_engine::{DEFAULT_FAQ_THRESHOLD, KnowledgeBaseEngine, not_sure_sentence};
pub use kb_eval::{
    Accuracy, CaseOutcome, EvalCase, EvalCasesError, EvalReport, Expectation, TransferFigures,
    evaluate, parse_eval_cases,
};
pub use kb_import::{
    DEFAULT_FAQ_FILE, ImportKind, ImportSummary, faq_to_csv, faq_to_yaml, import_document,
    import_faq, merge_entries, target_faq_path,
};
pub use knowledge_base::{DEMO_FAQ_CSV, Hit, KnowledgeBase, PassageHit, TopicEvidence};
pub use language_detect::{LanguageDetector, LanguageEvidence, detect_turn_language};
pub use llm_config::{LlmConfig, LlmFallback, ToolConfig, ToolMethod};
pub use llm_engine::{LlmEngine, filler_sentence, transfer_sentence};
pub use llm_error::LlmError;
pub use match_text::{Term, TermKind, TextAnalyzer};
pub use passage_store::{
    Passage, merge_passages, parse_passages, passages_path_for, passages_to_jsonl, read_passages,
};
pub use pii_checks::{is_card_number, is_valid_hkid, is_valid_mainland_id, passes_luhn};
pub use pii_redaction::{redact_for_storage, redact_request};
pub use pii_scanner::{PiiKind, PiiMatch, PiiScanner};
pub use policy_emotion::{Emotion, EmotionDetector, EmotionLabel};
pub use policy_engine::{PolicyConfig, PolicyEngine, TurnAssessment};
pub use policy_handover::{HandoverFacts, handover_sentence, spoken_briefing, transfer_summary};
pub use policy_human_intent::{HumanIntent, HumanIntentEvidence};
pub use policy_human_request::HumanRequestDetector;
pub use rasa_engine::RasaEngine;
pub use relay_engine::RelayEngine;
pub use relay_messages::{RelayInbound, RelayOutbound};
pub use reply_event::ReplyEvent;
pub use reply_stream::{
    DEFAULT_REPLY_BUFFER, Pending, ReplySender, ReplyStream, ReplyStreamClosed,
};
pub use request::{DialogueRequest, Speaker, Turn};
pub use safety_blacklist::{Blacklist, DEFAULT_BLACKLIST};
pub use safety_filter::{SafetyFilter, safe_sentence};
pub use secret_value::SecretValue;
