//! `SearchText`: the one folding of what was said, used when a turn is indexed and when a
//! search is asked, so "退款進度" finds "退款进度" and "點算" finds what was said as "点算"
//! (Traditional, HK variants and written-Cantonese forms folded to Simplified by the
//! dialogue's own analyzer). Also how a query is put to the FTS5 `trigram` index: three or
//! more characters as a phrase match, one or two through `LIKE` (trigram cannot match them).

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
    fn short_queries_go_through_like_and_quotes_are_escaped() {
        let search = SearchText::shared();
        assert_eq!(
            search.pattern(" 退款 "),
            Some(SearchPattern::Like("%退款%".into()))
        );
        assert_eq!(
            search.pattern("5%"),
            Some(SearchPattern::Like("%5\\%%".into()))
        );
        assert_eq!(
            search.pattern("say \"hi\""),
            Some(SearchPattern::Match("\"say \"\"hi\"\"\"".into()))
        );
        assert_eq!(search.pattern("   "), None);
    }
}
