//! The FAQ by meaning: one sentence embedding per phrasing (question and alternatives, every
//! language), so a caller who shares no word with the FAQ still finds the topic.
//!
//! Texts are folded first ([`TextAnalyzer::fold`]: Cantonese colloquial forms to written
//! Chinese, Traditional to Simplified), because e5's vocabulary lacks many Cantonese
//! characters (撳 噉 嘥 …). Phrasings and caller turns are both embedded as e5 queries (a
//! question against a question). Vectors are computed once per FAQ content and model, and
//! kept on disk ([`VectorCache`]).

use std::sync::Arc;

use crate::dialogue::language::match_text::TextAnalyzer;
use crate::embedding::{
    Embedder, EmbeddingError, PendingQuery, TextKind, VectorCache, cosine, embed_cached,
};

/// Embeddings of every phrasing, in the knowledge base's phrasing order.
#[derive(Debug)]
pub struct SemanticIndex {
    embedder: Arc<Embedder>,
    analyzer: Arc<TextAnalyzer>,
    vectors: Vec<Vec<f32>>,
    /// One e5 *passage* per FAQ entry (its question and answer), for questions whose words
    /// are in the answer rather than in any phrasing ("晚交要多收几多" → the late-fee answer).
    passages: Vec<Vec<f32>>,
}

impl SemanticIndex {
    /// Embeds `phrasings` (or reads them from `cache`).
    pub fn build(
        embedder: Arc<Embedder>,
        analyzer: Arc<TextAnalyzer>,
        phrasings: &[&str],
        passages: &[String],
        cache: Option<&VectorCache>,
    ) -> Result<Self, EmbeddingError> {
        let texts: Vec<String> = phrasings.iter().map(|p| analyzer.normalise(p)).collect();
        let vectors = embed_cached(&embedder, &texts, TextKind::Query, cache)?;
        let passage_texts: Vec<String> = passages.iter().map(|p| analyzer.normalise(p)).collect();
        let passages = embed_cached(&embedder, &passage_texts, TextKind::Passage, cache)?;
        Ok(Self {
            embedder,
            analyzer,
            vectors,
            passages,
        })
    }

    /// Every phrasing's vector, in the knowledge base's phrasing order.
    pub fn phrasing_vectors(&self) -> &[Vec<f32>] {
        &self.vectors
    }

    /// Every entry's passage vector, in entry order.
    pub fn passage_vectors(&self) -> &[Vec<f32>] {
        &self.passages
    }

    /// Cosine similarity of `query` to each entry's passage (question and answer).
    pub fn passage_similarities(&self, query: &[f32]) -> Vec<f32> {
        self.passages.iter().map(|v| cosine(query, v)).collect()
    }
}

impl SemanticIndex {
    /// The caller's words as a vector (from the embedder's recent queries when a layer before
    /// this one already embedded them).
    pub fn embed_query(&self, text: &str) -> Result<Arc<[f32]>, EmbeddingError> {
        self.embedder.query_blocking(&self.analyzer.normalise(text))
    }

    /// Hands the caller's words to the embedder without waiting (see
    /// [`Embedder::start_query`]).
    pub fn start_query(&self, text: &str) -> Result<PendingQuery<'_>, EmbeddingError> {
        self.embedder.start_query(&self.analyzer.normalise(text))
    }

    /// The embedder behind this index.
    pub fn embedder(&self) -> &Arc<Embedder> {
        &self.embedder
    }

    /// Cosine similarity of `query` to each phrasing.
    pub fn similarities(&self, query: &[f32]) -> Vec<f32> {
        self.vectors.iter().map(|v| cosine(query, v)).collect()
    }

    /// Embeds extra texts (built-in examples) the same way as phrasings.
    pub fn embed_examples(
        &self,
        texts: &[&str],
        cache: Option<&VectorCache>,
    ) -> Result<Vec<Vec<f32>>, EmbeddingError> {
        let folded: Vec<String> = texts.iter().map(|t| self.analyzer.normalise(t)).collect();
        embed_cached(&self.embedder, &folded, TextKind::Query, cache)
    }
}
