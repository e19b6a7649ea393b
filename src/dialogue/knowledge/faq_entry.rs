//! One row of a company's FAQ: a question, the ways callers phrase it, and the answer to speak.

use serde::{Deserialize, Serialize};

use crate::lang::Lang;

/// A curated question and its answer in one language. The same `id` may appear once per
/// language: the same topic answered in Mandarin, Cantonese and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaqEntry {
    /// The topic, shared by the entry's translations (`shipping_fee`).
    pub id: String,
    /// The canonical question.
    pub question: String,
    /// Other ways callers ask the same thing; matched like `question`.
    pub alt_questions: Vec<String>,
    /// What the bot says: short, speakable (no Markdown, no URLs).
    pub answer: String,
    /// The language of `question` and `answer`.
    pub lang: Lang,
}

impl FaqEntry {
    /// The question followed by its alternative phrasings.
    pub fn phrasings(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.question.as_str()).chain(self.alt_questions.iter().map(String::as_str))
    }
}
