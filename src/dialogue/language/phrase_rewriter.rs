//! Longest-match phrase rewriting over a fixed table: the one mechanism behind the Cantonese
//! written-form folds and the ASR homophone / synonym folds used for matching.

use std::collections::HashMap;

/// A rewrite table, ready for longest-match-first replacement.
#[derive(Debug)]
pub struct PhraseRewriter {
    table: HashMap<&'static str, &'static str>,
    longest_key_chars: usize,
}

impl PhraseRewriter {
    /// Builds the rewriter over `(from, to)` pairs.
    pub fn new(pairs: &[(&'static str, &'static str)]) -> Self {
        let table: HashMap<_, _> = pairs.iter().copied().collect();
        let longest_key_chars = table.keys().map(|k| k.chars().count()).max().unwrap_or(1);
        Self {
            table,
            longest_key_chars,
        }
    }

    /// `text` with every key replaced by its value, the longest key at each position winning.
    pub fn rewrite(&self, text: &str) -> String {
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let mut out = String::with_capacity(text.len() + 8);
        let mut i = 0;
        while i < chars.len() {
            let longest = self.longest_key_chars.min(chars.len() - i);
            let start = chars[i].0;
            let found = (1..=longest).rev().find_map(|len| {
                let end = chars.get(i + len).map_or(text.len(), |c| c.0);
                self.table.get(&text[start..end]).map(|to| (len, *to))
            });
            match found {
                Some((len, to)) => {
                    out.push_str(to);
                    i += len;
                }
                None => {
                    out.push(chars[i].1);
                    i += 1;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_key_wins_and_the_rest_is_kept() {
        let r = PhraseRewriter::new(&[("唔", "不"), ("唔該", "謝謝"), ("ab", "x")]);
        assert_eq!(r.rewrite("唔該，唔好"), "謝謝，不好");
        assert_eq!(r.rewrite("cabd"), "cxd");
        assert_eq!(r.rewrite(""), "");
    }
}
