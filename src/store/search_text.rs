//! `SearchText`: the one folding of what was said, used when a turn is indexed and when a
//! search is asked, so "退款進度" finds "退款进度" and "點算" finds what was said as "点算"
//! (Traditional, HK variants and written-Cantonese forms folded to Simplified by the
//! dialogue's own analyzer). Also how a query is put to the indexes: three or more characters
//! as a phrase of the FTS5 `trigram` index; one or two (which trigram cannot match) as a token
//! of the `call_grams` index ([`short_query_grams`]: every Chinese character and every pair of
//! neighbours, every other word), and only what neither fits through `LIKE`.

use std::sync::Arc;

use crate::dialogue::TextAnalyzer;

/// Folds text for the search index and for queries.
#[derive(Debug, Clone)]
pub struct SearchText {
    /// None when the dictionaries did not load: text is only lower-cased then.
    analyzer: Option<Arc<TextAnalyzer>>,
}

/// How a folded query is asked of the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchPattern {
    /// An FTS5 phrase, quoted (three characters or more).
    Match(String),
    /// An FTS5 query of the `call_grams` index: one or two Chinese characters (a token), or a
    /// word's first one or two letters or digits (a prefix).
    Gram(String),
    /// A `LIKE` pattern with `\` escaping (one or two characters).
    Like(String),
}

impl SearchText {
    /// The process-wide analyzer (built once; tens of milliseconds the first time).
    pub fn shared() -> Self {
        let analyzer = TextAnalyzer::shared()
            .map_err(|error| {
                tracing::warn!(%error, "search text is not folded to Simplified: the script tables did not load");
            })
            .ok();
        Self { analyzer }
    }

    /// `text` folded: lower case, half-width, Simplified.
    pub fn fold(&self, text: &str) -> String {
        match &self.analyzer {
            Some(analyzer) => analyzer.fold(text),
            None => text.to_lowercase(),
        }
    }

    /// How to search for `query`; None when it has nothing to search for.
    pub fn pattern(&self, query: &str) -> Option<SearchPattern> {
        let folded = self.fold(query.trim());
        let folded = folded.trim();
        let length = folded.chars().count();
        if length == 0 {
            return None;
        }
        if length >= 3 {
            return Some(SearchPattern::Match(format!(
                "\"{}\"",
                folded.replace('"', "\"\"")
            )));
        }
        if folded.chars().all(is_unspaced) {
            return Some(SearchPattern::Gram(format!("\"{folded}\"")));
        }
        if folded
            .chars()
            .all(|c| c.is_alphanumeric() && !is_unspaced(c))
        {
            return Some(SearchPattern::Gram(format!("\"{folded}\"*")));
        }
        let mut like = String::from("%");
        for c in folded.chars() {
            if matches!(c, '%' | '_' | '\\') {
                like.push('\\');
            }
            like.push(c);
        }
        like.push('%');
        Some(SearchPattern::Like(like))
    }
}

/// Whether `c` belongs to a script written without spaces between words (Chinese, kana,
/// Hangul): such text is indexed character by character.
fn is_unspaced(c: char) -> bool {
    matches!(
        c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF
            | 0x20000..=0x3134F
    )
}

/// The tokens of folded text for the `call_grams` index (FTS5 `unicode61`, which splits on
/// spaces): each character of unspaced script and each pair of such neighbours, and each other
/// run of letters and digits as a word; every token once, space-separated. Any one- or
/// two-character Chinese query is one of these tokens exactly when the text contains it.
pub fn short_query_grams(folded: &str) -> String {
    let mut seen = std::collections::HashSet::new();
    let mut tokens: Vec<String> = Vec::new();
    let mut push = |token: String, tokens: &mut Vec<String>| {
        if seen.insert(token.clone()) {
            tokens.push(token);
        }
    };
    let mut previous: Option<char> = None;
    let mut word = String::new();
    for c in folded.chars() {
        if is_unspaced(c) {
            if !word.is_empty() {
                push(std::mem::take(&mut word), &mut tokens);
            }
            push(c.to_string(), &mut tokens);
            if let Some(before) = previous {
                push(format!("{before}{c}"), &mut tokens);
            }
            previous = Some(c);
            continue;
        }
        previous = None;
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        } else if !word.is_empty() {
            push(std::mem::take(&mut word), &mut tokens);
        }
    }
    if !word.is_empty() {
        push(word, &mut tokens);
    }
    tokens.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traditional_and_simplified_fold_alike() {
        let search = SearchText::shared();
        assert_eq!(search.fold("退款進度"), search.fold("退款进度"));
        assert_eq!(
            search.pattern("退款進度"),
            Some(SearchPattern::Match(format!(
                "\"{}\"",
                search.fold("退款进度")
            )))
        );
    }

    #[test]
    fn short_queries_are_grams_or_like_and_quotes_are_escaped() {
        let search = SearchText::shared();
        assert_eq!(
            search.pattern(" 退款 "),
            Some(SearchPattern::Gram("\"退款\"".into()))
        );
        assert_eq!(
            search.pattern("嗎"),
            Some(SearchPattern::Gram(format!("\"{}\"", search.fold("嗎"))))
        );
        assert_eq!(
            search.pattern("OK"),
            Some(SearchPattern::Gram("\"ok\"*".into()))
        );
        assert_eq!(
            search.pattern("5%"),
            Some(SearchPattern::Like("%5\\%%".into()))
        );
        assert_eq!(
            search.pattern("a门"),
            Some(SearchPattern::Like("%a门%".into()))
        );
        assert_eq!(
            search.pattern("say \"hi\""),
            Some(SearchPattern::Match("\"say \"\"hi\"\"\"".into()))
        );
        assert_eq!(search.pattern("   "), None);
    }

    #[test]
    fn grams_hold_every_chinese_character_and_pair_and_every_word_once() {
        assert_eq!(
            short_query_grams("门店地址, octopus卡 ok ok"),
            "门 店 门店 地 店地 址 地址 octopus 卡 ok"
        );
        assert_eq!(short_query_grams("订单12345。"), "订 单 订单 12345");
        assert_eq!(short_query_grams(""), "");
    }
}
