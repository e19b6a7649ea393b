//! Requests for a human recognised by meaning: callers ask for "a living person", "someone
//! from billing", "not the machine", "有冇同事聽電話" without any of the key words the rules of
//! [`HumanRequestDetector`](super::HumanRequestDetector) look for. The caller's turn is
//! compared with hand-written examples of asking for a person and of close wording that is
//! not a request (questions about the bot, "no need for an agent"), and with the FAQ's own
//! phrasings: the turn is a request when it is nearer to asking for a person than to anything
//! else by a margin.

use std::sync::Arc;

use crate::dialogue::knowledge::knowledge_base::KnowledgeBase;
use crate::dialogue::language::match_text::TextAnalyzer;
use crate::embedding::{Embedder, EmbeddingError, TextKind, VectorCache, cosine, embed_cached};

/// The examples: `kind<TAB>lang<TAB>text` lines, kind `ask` or `not`.
const EXAMPLES: &str = include_str!("human_request_examples.tsv");

/// How the turn compares with the examples and with the FAQ.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct HumanIntentEvidence {
    /// Best cosine similarity to a way of asking for a person.
    pub ask: f32,
    /// Best cosine similarity to close wording that is not a request.
    pub not: f32,
    /// Best cosine similarity to a phrasing of the FAQ (0 without one).
    pub faq: f32,
}

/// The embedded examples.
#[derive(Debug)]
pub struct HumanIntent {
    embedder: Arc<Embedder>,
    analyzer: Arc<TextAnalyzer>,
    ask: Vec<Vec<f32>>,
    not: Vec<Vec<f32>>,
    /// The FAQ whose phrasings compete with asking for a person.
    faq: Option<Arc<KnowledgeBase>>,
}

impl HumanIntent {
    /// Embeds the built-in examples (about 45 short texts, ≈ 1 s once at start).
    pub fn new(
        embedder: Arc<Embedder>,
        analyzer: Arc<TextAnalyzer>,
        cache: Option<&VectorCache>,
    ) -> Result<Self, EmbeddingError> {
        let mut ask_texts = Vec::new();
        let mut not_texts = Vec::new();
        for line in EXAMPLES
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let mut fields = line.split('\t');
            let (Some(kind), Some(_lang), Some(text)) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let folded = analyzer.normalise(text);
            match kind {
                "ask" => ask_texts.push(folded),
                _ => not_texts.push(folded),
            }
        }
        let ask = embed_cached(&embedder, &ask_texts, TextKind::Query, cache)?;
        let not = embed_cached(&embedder, &not_texts, TextKind::Query, cache)?;
        Ok(Self {
            embedder,
            analyzer,
            ask,
            not,
            faq: None,
        })
    }

    /// The same examples, competing with the phrasings of `faq` (which must have its
    /// semantic index loaded to count).
    pub fn with_faq(mut self, faq: Arc<KnowledgeBase>) -> Self {
        self.faq = Some(faq);
        self
    }

    /// The folded text a turn is embedded from.
    pub fn query_text(&self, text: &str) -> String {
        self.analyzer.normalise(text)
    }

    /// The turn's evidence (embedding it, or reusing the embedder's recent vector).
    pub fn evidence(&self, text: &str) -> Result<HumanIntentEvidence, EmbeddingError> {
        let vector = self.embedder.query_blocking(&self.query_text(text))?;
        Ok(self.evidence_of(&vector))
    }

    /// The evidence of an already embedded turn.
    pub fn evidence_of(&self, vector: &[f32]) -> HumanIntentEvidence {
        let best = |set: &[Vec<f32>]| {
            set.iter()
                .map(|v| cosine(vector, v))
                .fold(f32::MIN, f32::max)
        };
        let faq = self
            .faq
            .as_ref()
            .and_then(|kb| kb.semantic())
            .map_or(0.0, |index| {
                index
                    .similarities(vector)
                    .into_iter()
                    .fold(0.0f32, f32::max)
            });
        HumanIntentEvidence {
            ask: best(&self.ask),
            not: best(&self.not),
            faq,
        }
    }

    pub fn embedder(&self) -> &Arc<Embedder> {
        &self.embedder
    }

    /// Every embedder a turn goes through: this one, and the FAQ's second model when it has
    /// one (both embed the same folded text).
    pub fn embedders(&self) -> Vec<Arc<Embedder>> {
        let second = self
            .faq
            .as_ref()
            .and_then(|kb| kb.second_semantic())
            .map(|index| Arc::clone(index.embedder()));
        std::iter::once(Arc::clone(&self.embedder))
            .chain(second)
            .collect()
    }
}
