//! Knowledge base and retrieval: the curated FAQ (CSV/YAML) and document passages, indexed
//! with BM25 over match terms, searched for an answer; the FAQ engine that answers from it
//! directly; importing into it (`hotline kb import`) and evaluating on labelled cases
//! (`hotline kb eval`).

pub(super) mod bm25_index;
pub(super) mod document_chunks;
pub(super) mod engine;
pub(super) mod eval;
pub(super) mod faq_entry;
pub(super) mod faq_file;
pub(super) mod follow_up;
pub(super) mod import;
pub(super) mod knowledge_base;
pub(super) mod passage_store;
pub(super) mod semantic_index;
pub(super) mod topic_classifier;

#[cfg(test)]
mod demo_faq_tests;
