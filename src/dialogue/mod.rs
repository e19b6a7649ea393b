//! Dialogue: what the bot says back. Engines sit behind one trait and answer with a stream.
//!
//! - [`DialogueEngine`]: `respond(DialogueRequest) -> ReplyStream` of [`ReplyEvent`]s.
//! - [`KnowledgeBase`]: FAQ entries (CSV/YAML) indexed for Mandarin, Cantonese and English
//!   questions; [`KnowledgeBaseEngine`] answers from it.

mod action;
mod answer_sentences;
mod bm25_index;
mod cantonese_forms;
mod engine;
mod engine_from_config;
mod english_words;
mod faq_entry;
mod faq_error;
mod faq_file;
mod kb_engine;
mod knowledge_base;
mod match_text;
mod reply_event;
mod reply_stream;
mod request;

#[cfg(test)]
mod demo_faq_tests;

pub use action::{DialogueAction, TransferReason};
pub use answer_sentences::split_sentences;
pub use cantonese_forms::CantoneseForms;
pub use engine::{DialogueEngine, EngineDescription};
pub use engine_from_config::load_engine;
pub use faq_entry::FaqEntry;
pub use faq_error::{FaqError, FaqLocation};
pub use faq_file::{parse_faq_csv, parse_faq_yaml, read_faq_file};
pub use kb_engine::{DEFAULT_FAQ_THRESHOLD, KnowledgeBaseEngine, not_sure_sentence};
pub use knowledge_base::{DEMO_FAQ_CSV, Hit, KnowledgeBase};
pub use match_text::{Term, TermKind, TextAnalyzer};
pub use reply_event::ReplyEvent;
pub use reply_stream::{
    DEFAULT_REPLY_BUFFER, Pending, ReplySender, ReplyStream, ReplyStreamClosed,
};
pub use request::{DialogueRequest, Speaker, Turn};
