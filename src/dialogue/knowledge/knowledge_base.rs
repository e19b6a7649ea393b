//! The FAQ as a searchable knowledge base: entries plus a precomputed index over their phrasings.
//!
//! Shared by the FAQ engine (answer when the best hit passes a threshold), later by the LLM
//! engine (retrieved context) and `hotline kb eval`. Document passages (imported Markdown or
//! text, see [`Passage`]) are indexed beside the FAQ and searched with
//! [`KnowledgeBase::search_passages`], each passage its own "topic", calibrated the same way.
//!
//! # Score calibration
//!
//! Raw BM25 grows with the length and rarity of the query's words, so it cannot be compared
//! with a fixed threshold. Every query term has a weight `w = kind weight × idf` (idf over
//! topics; a word the FAQ never uses weighs like the rarest word it does use), and the query's
//! *self-score* `S = Σ w` is what a perfect match would score. A topic's calibrated score is
//! the mean of two shares of `S`, each in 0..=1:
//!
//! - **phrasing**: BM25 of the topic's best phrasing divided by `S` (clamped to 1; a phrasing
//!   shorter than average can slightly exceed its share through length normalisation): how
//!   closely one way of asking matches the question;
//! - **coverage**: the weight of the query terms found anywhere in the topic's phrasings,
//!   divided by `S`: how much of the question the topic's vocabulary explains, even when the
//!   words are spread over several paraphrases.
//!
//! So 1.0 means one phrasing holds every meaningful word of the question; a question about
//! something the FAQ never mentions stays near 0, because its unknown words keep the full
//! weight in `S` and none in either share.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::bm25_index::Bm25Index;
use super::faq_entry::FaqEntry;
use super::faq_file::{parse_faq_csv, parse_faq_yaml, read_faq_file};
use super::passage_store::{Passage, passages_path_for, read_passages};
use crate::dialogue::faq_error::FaqError;
use crate::dialogue::language::match_text::TextAnalyzer;
use crate::lang::Lang;

/// The demo shop's FAQ (an electronics shop in Guangzhou and Hong Kong), built into the binary.
pub const DEMO_FAQ_CSV: &str = include_str!("demo_faq.csv");

/// One FAQ topic found for a question, best first in [`KnowledgeBase::search`]'s answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The topic (`shipping_fee`).
    pub faq_id: String,
    /// Calibrated similarity in 0..=1 (see the module documentation).
    pub score: f32,
    /// The phrasing (question or alternative) that matched best, and its language.
    pub matched_question: String,
    pub matched_lang: Lang,
    /// The answer to speak: in the requested language when the topic has it, else in the
    /// language of the best-matching phrasing.
    pub answer: String,
    pub answer_lang: Lang,
}

/// A document passage found for a question.
#[derive(Debug, Clone, PartialEq)]
pub struct PassageHit {
    pub passage: Passage,
    /// Calibrated similarity in 0..=1, like [`Hit::score`].
    pub score: f32,
}

/// Where an indexed phrasing comes from.
#[derive(Debug, Clone, Copy)]
struct Phrasing {
    topic: usize,
    entry: usize,
    index_in_entry: usize,
}

/// FAQ entries and the index over their questions.
#[derive(Debug)]
pub struct KnowledgeBase {
    entries: Vec<FaqEntry>,
    /// Entry numbers of each topic, topics numbered in order of first appearance.
    topics: Vec<Vec<usize>>,
    phrasings: Vec<Phrasing>,
    index: Bm25Index,
    passages: Vec<Passage>,
    passage_index: Bm25Index,
    analyzer: Arc<TextAnalyzer>,
}

impl KnowledgeBase {
    /// Indexes already-validated entries.
    pub fn from_entries(entries: Vec<FaqEntry>) -> Result<Self, FaqError> {
        let analyzer = TextAnalyzer::shared()?;
        let mut topic_of_id: HashMap<&str, usize> = HashMap::new();
        let mut topics: Vec<Vec<usize>> = Vec::new();
        let mut phrasings = Vec::new();
        let mut docs = Vec::new();
        for (entry_number, entry) in entries.iter().enumerate() {
            let topic = *topic_of_id.entry(entry.id.as_str()).or_insert_with(|| {
                topics.push(Vec::new());
                topics.len() - 1
            });
            topics[topic].push(entry_number);
            for (index_in_entry, text) in entry.phrasings().enumerate() {
                phrasings.push(Phrasing {
                    topic,
                    entry: entry_number,
                    index_in_entry,
                });
                docs.push((topic, analyzer.terms(text)));
            }
        }
        let index = Bm25Index::build(&docs);
        Ok(Self {
            entries,
            topics,
            phrasings,
            index,
            passages: Vec::new(),
            passage_index: Bm25Index::build(&[]),
            analyzer,
        })
    }

    /// The same knowledge base with `passages` (replacing any it had) indexed for search.
    pub fn with_passages(mut self, passages: Vec<Passage>) -> Self {
        let docs: Vec<(usize, Vec<_>)> = passages
            .iter()
            .enumerate()
            .map(|(i, p)| (i, self.analyzer.terms(&format!("{}\n{}", p.title, p.text))))
            .collect();
        self.passage_index = Bm25Index::build(&docs);
        self.passages = passages;
        self
    }

    /// Loads and indexes an FAQ file (`.csv`, `.yaml`, `.yml`), and the document passages
    /// stored beside it (`NAME.passages.jsonl`) when there are any.
    pub fn load(path: &Path) -> Result<Self, FaqError> {
        let passages = read_passages(&passages_path_for(path))?;
        Ok(Self::from_entries(read_faq_file(path)?)?.with_passages(passages))
    }

    /// Parses and indexes FAQ CSV text; `source` names it in errors.
    pub fn from_csv_str(source: &str, text: &str) -> Result<Self, FaqError> {
        Self::from_entries(parse_faq_csv(source, text)?)
    }

    /// Parses and indexes FAQ YAML text; `source` names it in errors.
    pub fn from_yaml_str(source: &str, text: &str) -> Result<Self, FaqError> {
        Self::from_entries(parse_faq_yaml(source, text)?)
    }

    /// The built-in demo shop FAQ ([`DEMO_FAQ_CSV`]).
    pub fn demo() -> Result<Self, FaqError> {
        Self::from_csv_str("demo_faq.csv (built in)", DEMO_FAQ_CSV)
    }

    /// All entries, in file order.
    pub fn entries(&self) -> &[FaqEntry] {
        &self.entries
    }

    /// Number of distinct FAQ ids.
    pub fn topic_count(&self) -> usize {
        self.topics.len()
    }

    /// The distinct FAQ ids, in order of first appearance.
    pub fn topic_ids(&self) -> Vec<String> {
        self.topics
            .iter()
            .filter_map(|entries| entries.first().map(|&e| self.entries[e].id.clone()))
            .collect()
    }

    /// The document passages, in stored order.
    pub fn passages(&self) -> &[Passage] {
        &self.passages
    }

    /// The `k` passages best matching `query`, best first (none sharing no term).
    pub fn search_passages(&self, query: &str, k: usize) -> Vec<PassageHit> {
        let terms = self.analyzer.terms(query);
        let perfect = self.passage_index.self_score(&terms);
        if k == 0 || perfect <= 0.0 || self.passages.is_empty() {
            return Vec::new();
        }
        let coverage = self.passage_index.topic_coverage(&terms);
        let mut ranked: Vec<(usize, f32)> = self
            .passage_index
            .scores(&terms)
            .into_iter()
            .enumerate()
            .filter(|(_, s)| *s > 0.0)
            .map(|(i, s)| (i, 0.5 * ((s / perfect).clamp(0.0, 1.0) + coverage[i])))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
            .into_iter()
            .take(k)
            .map(|(i, score)| PassageHit {
                passage: self.passages[i].clone(),
                score: score.clamp(0.0, 1.0),
            })
            .collect()
    }

    /// The `k` best topics for `query`, best first, answers chosen for a caller speaking
    /// `lang`. Topics sharing no term with the query are not returned.
    pub fn search(&self, query: &str, lang: Lang, k: usize) -> Vec<Hit> {
        let terms = self.analyzer.terms(query);
        let perfect = self.index.self_score(&terms);
        if k == 0 || perfect <= 0.0 {
            return Vec::new();
        }
        let scores = self.index.scores(&terms);
        let coverage = self.index.topic_coverage(&terms);
        // Best phrasing per topic.
        let mut best: Vec<Option<(usize, f32)>> = vec![None; self.topics.len()];
        for (doc, &score) in scores.iter().enumerate() {
            if score <= 0.0 {
                continue;
            }
            let topic = self.phrasings[doc].topic;
            if best[topic].is_none_or(|(_, s)| score > s) {
                best[topic] = Some((doc, score));
            }
        }
        let mut ranked: Vec<(usize, f32)> = best
            .into_iter()
            .enumerate()
            .filter_map(|(topic, found)| {
                let (doc, score) = found?;
                let phrasing = (score / perfect).clamp(0.0, 1.0);
                Some((doc, 0.5 * (phrasing + coverage[topic])))
            })
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
            .into_iter()
            .take(k)
            .map(|(doc, score)| self.hit(doc, score.clamp(0.0, 1.0), lang))
            .collect()
    }

    fn hit(&self, doc: usize, score: f32, lang: Lang) -> Hit {
        let phrasing = self.phrasings[doc];
        let matched = &self.entries[phrasing.entry];
        let answering = self.topics[phrasing.topic]
            .iter()
            .map(|&e| &self.entries[e])
            .find(|e| e.lang == lang)
            .unwrap_or(matched);
        Hit {
            faq_id: matched.id.clone(),
            score,
            matched_question: matched
                .phrasings()
                .nth(phrasing.index_in_entry)
                .unwrap_or(&matched.question)
                .to_string(),
            matched_lang: matched.lang,
            answer: answering.answer.clone(),
            answer_lang: answering.lang,
        }
    }
}
