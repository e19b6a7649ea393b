//! Dialogue: what the bot says back. Engines sit behind one trait and answer with a stream.
//!
//! - [`DialogueEngine`]: `respond(DialogueRequest) -> ReplyStream` of [`ReplyEvent`]s.
//! - [`KnowledgeBase`]: FAQ entries (CSV/YAML) indexed for Mandarin, Cantonese and English
//!   questions; [`KnowledgeBaseEngine`] answers from it.
//!
//! The trait, its request and reply types and the choice of engine sit here; the parts live in
//! folders: `knowledge/` (FAQ, passages, retrieval, the FAQ engine), `language/` (language
//! detection, match-term folding), `llm/`, `policy/`, `safety/`, `connectors/` (Rasa, relay).

mod action;
mod config;
mod connectors;
mod engine;
mod engine_choice;
mod engine_from_config;
mod engine_load_error;
mod faq_error;
mod knowledge;
mod language;
mod llm;
mod policy;
mod reloadable_engine;
mod reply_event;
mod reply_stream;
mod request;
mod safety;

#[cfg(test)]
mod test_support;

pub use action::{DialogueAction, TransferReason};
pub use config::DialogueConfig;
pub use connectors::config::{RasaConfig, RelayConfig};
pub use connectors::rasa_engine::RasaEngine;
pub use connectors::relay_engine::RelayEngine;
pub use connectors::relay_messages::{RelayInbound, RelayOutbound};
pub use connectors::sessions::ConversationIds;
pub use engine::{DialogueEngine, EngineDescription};
pub use engine_choice::EngineChoice;
pub use engine_from_config::{load_engine, load_engine_with, with_policy};
pub use engine_load_error::EngineLoadError;
pub use faq_error::{FaqError, FaqLocation};
pub use knowledge::document_chunks::{PASSAGE_CHARS, chunk_document};
pub use knowledge::engine::{
    CONFIRM_THRESHOLD, DEFAULT_FAQ_THRESHOLD, FaqDecision, KnowledgeBaseEngine, confirm_sentence,
    not_sure_sentence, yes_or_no,
};
pub use knowledge::eval::{
    Accuracy, CaseOutcome, EvalCase, EvalCasesError, EvalReport, Expectation, TransferFigures,
    evaluate, parse_eval_cases,
};
pub use knowledge::faq_entry::FaqEntry;
pub use knowledge::faq_file::{parse_faq_csv, parse_faq_yaml, read_faq_file};
pub use knowledge::import::{
    DEFAULT_FAQ_FILE, ImportKind, ImportSummary, add_to_faq_file, faq_to_csv, faq_to_yaml,
    import_document, import_faq, merge_entries, target_faq_path,
};
pub use knowledge::knowledge_base::{
    DEMO_FAQ_CSV, Hit, KnowledgeBase, PassageHit, SEMANTIC_ANSWER_THRESHOLDS, TopicEvidence,
};
pub use knowledge::passage_store::{
    Passage, merge_passages, parse_passages, passages_path_for, passages_to_jsonl, read_passages,
};
pub use language::cantonese_forms::CantoneseForms;
pub use language::detect::{LanguageDetector, LanguageEvidence, detect_turn_language};
pub use language::match_text::{Term, TermKind, TextAnalyzer};
pub use llm::config::{LlmConfig, LlmFallback, ToolConfig, ToolMethod};
pub use llm::engine::{LlmEngine, filler_sentence, transfer_sentence};
pub use llm::error::LlmError;
pub use llm::secret_value::SecretValue;
pub use policy::caller_closing::is_closing;
pub use policy::emotion::{Emotion, EmotionDetector, EmotionLabel};
pub use policy::engine::{PolicyConfig, PolicyEngine, TurnAssessment};
pub use policy::handover::{HandoverFacts, handover_sentence, spoken_briefing, transfer_summary};
pub use policy::human_intent::{HumanIntent, HumanIntentEvidence};
pub use policy::human_request::HumanRequestDetector;
pub use reloadable_engine::ReloadableEngine;
pub use reply_event::ReplyEvent;
pub use reply_stream::{
    DEFAULT_REPLY_BUFFER, Pending, ReplySender, ReplyStream, ReplyStreamClosed,
};
pub use request::{DialogueRequest, Speaker, Turn};
pub use safety::blacklist::{Blacklist, DEFAULT_BLACKLIST};
pub use safety::filter::{SafetyFilter, safe_sentence};
pub use safety::pii_checks::{is_card_number, is_valid_hkid, is_valid_mainland_id, passes_luhn};
pub use safety::pii_redaction::{redact_for_storage, redact_request};
pub use safety::pii_scanner::{PiiKind, PiiMatch, PiiScanner};
