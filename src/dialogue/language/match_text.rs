//! Turns any question (FAQ phrasing or caller transcript) into match terms, the same way for both.
//!
//! Folding, in order: full-width ASCII to ASCII and lower case; written-Cantonese forms to
//! standard written Chinese ([`CantoneseForms`]); Traditional (Hong Kong variants included) to
//! Simplified (OpenCC `hk2s`); a few Simplified variants that differ by region (帐/账).
//!
//! Terms are cut after one more fold, of frequent ASR homophones and synonyms
//! ([`DomainFolds`]). For Han text, jieba words (minus function words) and the character bigrams inside
//! words of three or more characters (支付宝 also matches 支付), and at a lower weight the
//! single characters of multi-character words (下单 also meets 下了单); for Latin
//! text stemmed English words (see [`english_key`]). Bigrams across word boundaries are not
//! used: they are mostly noise (店地, 址在) that no FAQ phrasing contains, and they dragged the
//! calibrated score of good matches down. Each term kind has a weight, used by the index.

use crate::lang::is_han;
use std::sync::{Arc, OnceLock};

use ferrous_opencc::OpenCC;
use ferrous_opencc::config::BuiltinConfig;
use jieba_rs::Jieba;

use super::cantonese_forms::CantoneseForms;
use super::domain_folds::{DomainFolds, english_synonym};
use super::english_words::english_key;
use crate::dialogue::faq_error::FaqError;

/// Regional Simplified variants folded to one form after OpenCC (the matching side only).
const SIMPLIFIED_VARIANTS: &[(char, char)] = &[('帐', '账')];

/// Han function words, pronouns, politeness and modal verbs: they carry no topic ("我想",
/// "请问", "能不能" are in every kind of question).
const HAN_STOPWORDS: &[&str] = &[
    "的", "了", "吗", "呢", "吧", "啊", "呀", "啦", "喇", "嘛", "么", "哦", "喔", "我", "你", "您",
    "他", "她", "它", "我们", "你们", "他们", "请", "请问", "一下", "是", "也", "都", "就", "和",
    "与", "这", "那", "个", "在", "想", "要", "会", "能", "可以", "一般", "先",
];

/// What kind of evidence a term is; decides its weight in scoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TermKind {
    /// A jieba word of Han text.
    HanWord,
    /// Two adjacent Han characters inside a longer word.
    HanBigram,
    /// One character of a multi-character Han word (下单 also gives 下 and 单, so it still
    /// meets 下了单, which jieba cuts into single characters).
    HanChar,
    /// A stemmed English (or other Latin-script / numeric) word.
    Latin,
}

impl TermKind {
    /// Relative weight: bigrams overlap the word they come from, so they count half.
    pub fn weight(self) -> f32 {
        match self {
            TermKind::HanWord | TermKind::Latin => 1.0,
            TermKind::HanBigram => 0.5,
            TermKind::HanChar => 0.3,
        }
    }
}

/// One match term: its kind and its folded text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Term {
    pub kind: TermKind,
    pub text: String,
}

/// Folds text and cuts it into terms. Expensive to build (dictionaries); share one.
pub struct TextAnalyzer {
    cantonese: CantoneseForms,
    domain: DomainFolds,
    to_simplified: OpenCC,
    jieba: Jieba,
}

impl std::fmt::Debug for TextAnalyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextAnalyzer").finish_non_exhaustive()
    }
}

static SHARED: OnceLock<Arc<TextAnalyzer>> = OnceLock::new();

impl TextAnalyzer {
    /// Builds an analyzer (loads the jieba dictionary and OpenCC tables: tens of milliseconds).
    pub fn new() -> Result<Self, FaqError> {
        let to_simplified =
            OpenCC::from_config(BuiltinConfig::Hk2s).map_err(|e| FaqError::ScriptTables {
                detail: e.to_string(),
            })?;
        Ok(Self {
            cantonese: CantoneseForms::new(),
            domain: DomainFolds::new(),
            to_simplified,
            jieba: Jieba::new(),
        })
    }

    /// The process-wide analyzer, built on first use.
    pub fn shared() -> Result<Arc<Self>, FaqError> {
        if let Some(analyzer) = SHARED.get() {
            return Ok(analyzer.clone());
        }
        let built = Arc::new(Self::new()?);
        Ok(SHARED.get_or_init(|| built).clone())
    }

    /// The folded form of `text` that terms are cut from.
    pub fn fold(&self, text: &str) -> String {
        let narrowed: String = text
            .chars()
            .map(|c| match c {
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                '\u{3000}' => ' ',
                _ => c,
            })
            .flat_map(char::to_lowercase)
            .collect();
        let written = self.cantonese.to_written(&narrowed);
        self.to_simplified
            .convert(&written)
            .chars()
            .map(|c| {
                SIMPLIFIED_VARIANTS
                    .iter()
                    .find(|(from, _)| *from == c)
                    .map_or(c, |(_, to)| *to)
            })
            .collect()
    }

    /// The folded text with ASR homophones and synonyms folded too ([`DomainFolds`]): what
    /// sentence embeddings are computed from, so "包油" (heard) reads as "包邮" (said).
    pub fn normalise(&self, text: &str) -> String {
        self.domain.apply(&self.fold(text))
    }

    /// The match terms of `text`, in order of appearance (repeats kept: they are term frequency).
    /// Terms are cut from the folded text with ASR homophones and synonyms folded too
    /// ([`DomainFolds`]).
    pub fn terms(&self, text: &str) -> Vec<Term> {
        let folded = self.domain.apply(&self.fold(text));
        let mut terms = Vec::new();
        for token in self.jieba.cut(&folded, false) {
            let word = token.word;
            if word.chars().any(is_han) {
                if HAN_STOPWORDS.contains(&word) {
                    continue;
                }
                terms.push(Term {
                    kind: TermKind::HanWord,
                    text: word.to_string(),
                });
                let chars: Vec<char> = word.chars().collect();
                if chars.len() >= 2 {
                    terms.extend(chars.iter().map(|c| Term {
                        kind: TermKind::HanChar,
                        text: c.to_string(),
                    }));
                }
                if chars.len() >= 3 {
                    terms.extend(chars.windows(2).map(|pair| Term {
                        kind: TermKind::HanBigram,
                        text: pair.iter().collect(),
                    }));
                }
            } else {
                for latin in word.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
                {
                    if let Some(key) = english_key(english_synonym(latin)) {
                        terms.push(Term {
                            kind: TermKind::Latin,
                            text: key,
                        });
                    }
                }
            }
        }
        terms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyzer() -> Arc<TextAnalyzer> {
        match TextAnalyzer::shared() {
            Ok(a) => a,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn traditional_simplified_and_cantonese_fold_to_one_form() {
        let a = analyzer();
        assert_eq!(a.fold("退款幾時到帳？"), a.fold("退款什么时候到账？"));
        assert_eq!(a.fold("你哋間舖頭喺邊度"), "你们间店铺在哪里");
        assert_eq!(a.fold("ＷｉＦｉ"), "wifi");
    }

    #[test]
    fn han_text_gives_words_and_bigrams_latin_text_gives_stems() {
        let a = analyzer();
        let terms = a.terms("运费支付宝 Shipping fees");
        let has = |kind, text: &str| terms.iter().any(|t| t.kind == kind && t.text == text);
        assert!(has(TermKind::HanWord, "运费"), "{terms:?}");
        assert!(has(TermKind::HanWord, "支付宝"), "{terms:?}");
        assert!(has(TermKind::HanBigram, "付宝"), "{terms:?}");
        assert!(has(TermKind::HanChar, "运"), "{terms:?}");
        assert!(!has(TermKind::HanBigram, "费支"), "{terms:?}");
        assert!(!has(TermKind::HanBigram, "费多"), "{terms:?}");
        assert!(has(TermKind::Latin, "ship"), "{terms:?}");
        assert!(has(TermKind::Latin, "fee"), "{terms:?}");
    }

    #[test]
    fn function_words_give_no_word_terms() {
        let a = analyzer();
        let terms = a.terms("的了吗 the your");
        assert!(terms.is_empty(), "{terms:?}");
    }
}
