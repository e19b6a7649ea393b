//! A precomputed BM25 index over short documents (FAQ phrasings) grouped into topics.
//!
//! Document frequency is counted per *topic* (an FAQ id), not per phrasing: ten paraphrases
//! of "refund time" all say 退款, and must not make 退款 look common. Term kinds carry weights
//! ([`TermKind::weight`]). Scores are raw BM25; [`Bm25Index::self_score`] gives the score a
//! perfect match of the query would get, which callers use to calibrate.
//! [`Bm25Index::topic_coverage`] adds a topic-level view: how much of the query's weight the
//! union of a topic's phrasings contains, so a question whose words are spread over several
//! paraphrases of one topic is still recognised.

use std::collections::{HashMap, HashSet};

use crate::dialogue::language::match_text::{Term, TermKind};

/// BM25 term-frequency saturation.
const K1: f32 = 1.2;
/// BM25 length normalisation. Lower than the usual 0.75: FAQ phrasings are all short, and a
/// long paraphrase should not lose much against a short one.
const B: f32 = 0.5;

#[derive(Debug)]
struct Posting {
    doc: u32,
    term_frequency: f32,
}

#[derive(Debug)]
struct TermEntry {
    kind: TermKind,
    idf: f32,
    postings: Vec<Posting>,
    /// Topics having the term in at least one phrasing.
    topics: Vec<u32>,
}

/// The index: postings per term, document lengths, and each document's topic.
#[derive(Debug)]
pub struct Bm25Index {
    terms: HashMap<String, TermEntry>,
    doc_len: Vec<f32>,
    average_len: f32,
    /// The weight given to a term no topic contains: the idf of a term in exactly one topic.
    unseen_idf: f32,
    topic_count: usize,
}

impl Bm25Index {
    /// Indexes `docs`, each given as (topic number, terms). Topics are numbered from 0.
    pub fn build(docs: &[(usize, Vec<Term>)]) -> Self {
        let topic_count = docs.iter().map(|(t, _)| t + 1).max().unwrap_or(0) as f32;
        let mut terms: HashMap<String, TermEntry> = HashMap::new();
        let mut topics_with: HashMap<String, HashSet<usize>> = HashMap::new();
        let mut doc_len = Vec::with_capacity(docs.len());
        for (doc, (topic, doc_terms)) in docs.iter().enumerate() {
            doc_len.push(doc_terms.len() as f32);
            let mut counts: HashMap<&Term, f32> = HashMap::new();
            for term in doc_terms {
                *counts.entry(term).or_default() += 1.0;
            }
            for (term, count) in counts {
                let key = term_key(term);
                topics_with.entry(key.clone()).or_default().insert(*topic);
                terms
                    .entry(key)
                    .or_insert_with(|| TermEntry {
                        kind: term.kind,
                        idf: 0.0,
                        postings: Vec::new(),
                        topics: Vec::new(),
                    })
                    .postings
                    .push(Posting {
                        doc: doc as u32,
                        term_frequency: count,
                    });
            }
        }
        for (key, entry) in terms.iter_mut() {
            let mut topics: Vec<u32> = topics_with
                .get(key)
                .map(|set| set.iter().map(|&t| t as u32).collect())
                .unwrap_or_default();
            topics.sort_unstable();
            entry.idf = idf(topic_count, topics.len() as f32);
            entry.topics = topics;
        }
        let average_len = if doc_len.is_empty() {
            1.0
        } else {
            (doc_len.iter().sum::<f32>() / doc_len.len() as f32).max(1.0)
        };
        Self {
            terms,
            doc_len,
            average_len,
            unseen_idf: idf(topic_count, 1.0),
            topic_count: topic_count as usize,
        }
    }

    /// BM25 score of every document that shares a term with `query` (others score 0).
    /// Query terms count once each (a repeated word in a question is not more important).
    pub fn scores(&self, query: &[Term]) -> Vec<f32> {
        let mut scores = vec![0.0; self.doc_len.len()];
        for term in distinct(query) {
            let Some(entry) = self.terms.get(&term_key(term)) else {
                continue;
            };
            let weight = entry.kind.weight() * entry.idf;
            for posting in &entry.postings {
                let len_norm = 1.0 - B + B * self.doc_len[posting.doc as usize] / self.average_len;
                let tf = posting.term_frequency;
                scores[posting.doc as usize] += weight * tf * (K1 + 1.0) / (tf + K1 * len_norm);
            }
        }
        scores
    }

    /// The score of a document of average length holding each query term once: what a perfect
    /// match of the query scores. A term the FAQ never uses counts like the rarest term it
    /// does use (idf of one topic), so a question full of unknown words cannot score high.
    pub fn self_score(&self, query: &[Term]) -> f32 {
        distinct(query)
            .map(|term| {
                let idf = self
                    .terms
                    .get(&term_key(term))
                    .map_or(self.unseen_idf, |e| e.idf);
                term.kind.weight() * idf
            })
            .sum()
    }
}

impl Bm25Index {
    /// For each topic, the weight (`kind weight × idf`) of the distinct query terms found in any
    /// of its phrasings, divided by [`self_score`](Self::self_score): 0..=1.
    pub fn topic_coverage(&self, query: &[Term]) -> Vec<f32> {
        let mut covered = vec![0.0; self.topic_count];
        let total = self.self_score(query);
        if total <= 0.0 {
            return covered;
        }
        for term in distinct(query) {
            if let Some(entry) = self.terms.get(&term_key(term)) {
                for &topic in &entry.topics {
                    covered[topic as usize] += entry.kind.weight() * entry.idf / total;
                }
            }
        }
        covered.iter_mut().for_each(|c| *c = f32::min(*c, 1.0));
        covered
    }
}

/// BM25 idf (the Robertson–Spärck Jones form, +1 inside the log so it is never negative).
fn idf(topic_count: f32, df: f32) -> f32 {
    (1.0 + (topic_count - df + 0.5) / (df + 0.5)).ln()
}

fn term_key(term: &Term) -> String {
    let tag = match term.kind {
        TermKind::HanWord => 'w',
        TermKind::HanBigram => 'b',
        TermKind::HanChar => 'c',
        TermKind::Latin => 'l',
    };
    let mut key = String::with_capacity(term.text.len() + 1);
    key.push(tag);
    key.push_str(&term.text);
    key
}

fn distinct(query: &[Term]) -> impl Iterator<Item = &Term> {
    query
        .iter()
        .enumerate()
        .filter(move |(i, t)| !query[..*i].contains(t))
        .map(|(_, t)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn latin(words: &str) -> Vec<Term> {
        words
            .split_whitespace()
            .map(|w| Term {
                kind: TermKind::Latin,
                text: w.to_string(),
            })
            .collect()
    }

    #[test]
    fn the_matching_document_scores_highest_and_rare_terms_weigh_more() {
        let index = Bm25Index::build(&[
            (0, latin("refund time")),
            (1, latin("shipping time")),
            (2, latin("shipping fee")),
        ]);
        let scores = index.scores(&latin("refund time"));
        assert!(scores[0] > scores[1] && scores[1] > 0.0, "{scores:?}");
        assert_eq!(scores[2], 0.0);
        // "refund" (one topic) says more than "time" (two topics).
        let refund = index.scores(&latin("refund"))[0];
        let time = index.scores(&latin("time"))[0];
        assert!(refund > time, "refund {refund} time {time}");
    }

    #[test]
    fn paraphrases_of_one_topic_do_not_dilute_its_words() {
        let one = Bm25Index::build(&[(0, latin("refund")), (1, latin("ship"))]);
        let many = Bm25Index::build(&[
            (0, latin("refund")),
            (0, latin("refund money")),
            (0, latin("refund back")),
            (1, latin("ship")),
        ]);
        assert_eq!(
            one.self_score(&latin("refund")),
            many.self_score(&latin("refund"))
        );
    }

    #[test]
    fn self_score_counts_unknown_terms_like_the_rarest_known_ones() {
        let index = Bm25Index::build(&[(0, latin("refund")), (1, latin("ship refund"))]);
        assert_eq!(
            index.self_score(&latin("weather")),
            index.self_score(&latin("ship"))
        );
        assert!(index.self_score(&latin("weather")) > index.self_score(&latin("refund")));
        assert_eq!(index.scores(&latin("weather")), vec![0.0, 0.0]);
    }

    #[test]
    fn topic_coverage_pools_the_words_of_all_phrasings_of_a_topic() {
        let index = Bm25Index::build(&[
            (0, latin("accept octopus")),
            (0, latin("credit card")),
            (1, latin("card address")),
        ]);
        let coverage = index.topic_coverage(&latin("accept credit card"));
        assert!((coverage[0] - 1.0).abs() < 1e-6, "{coverage:?}");
        assert!(coverage[1] > 0.0 && coverage[1] < 0.5, "{coverage:?}");
        let half = index.topic_coverage(&latin("accept weather"));
        assert!((half[0] - 0.5).abs() < 1e-6, "{half:?}");
    }
}
