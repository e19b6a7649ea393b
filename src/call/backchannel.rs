//! Backchannels: "嗯", "係", "好的", "mm-hmm" said while the bot talks mean "I'm listening",
//! not "stop". A transcript is a backchannel when, with spaces and punctuation dropped, it is
//! made only of backchannel tokens (so "嗯嗯好的" is, "嗯我想问" is not). Chinese is measured in
//! characters, never in whitespace words.

use super::config::BargeInConfig;

/// The backchannel tokens of every language, normalised, longest first.
#[derive(Debug, Clone)]
pub(crate) struct BackchannelFilter {
    tokens: Vec<Vec<char>>,
    max_chars: usize,
}

impl BackchannelFilter {
    pub(crate) fn new(config: &BargeInConfig) -> Self {
        let mut tokens: Vec<Vec<char>> = config
            .backchannels
            .iter()
            .flatten()
            .map(|token| normalise(token))
            .filter(|token| !token.is_empty())
            .collect();
        tokens.sort_by_key(|token| std::cmp::Reverse(token.len()));
        tokens.dedup();
        Self {
            tokens,
            max_chars: config.max_backchannel_chars,
        }
    }

    /// True when `text` holds words and all of them are backchannels.
    pub(crate) fn is_backchannel(&self, text: &str) -> bool {
        let chars = normalise(text);
        if chars.is_empty() || chars.len() > self.max_chars {
            return false;
        }
        // reachable[i]: chars[..i] splits into tokens.
        let mut reachable = vec![false; chars.len() + 1];
        reachable[0] = true;
        for start in 0..chars.len() {
            if !reachable[start] {
                continue;
            }
            for token in &self.tokens {
                if chars[start..].starts_with(token) {
                    reachable[start + token.len()] = true;
                }
            }
        }
        reachable[chars.len()]
    }
}

/// Lower-case letters, digits and Han characters only.
fn normalise(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter() -> BackchannelFilter {
        BackchannelFilter::new(&BargeInConfig::default())
    }

    #[test]
    fn listening_noises_are_backchannels() {
        let filter = filter();
        for text in [
            "嗯",
            "嗯嗯",
            "嗯。",
            "係",
            "係呀",
            "好的，好的",
            "对对",
            "Mm-hmm.",
            "uh-huh",
            "Yeah, okay",
            "OK",
            "哦，明白",
        ] {
            assert!(filter.is_backchannel(text), "{text}");
        }
    }

    #[test]
    fn real_words_are_not_backchannels() {
        let filter = filter();
        for text in [
            "",
            "。",
            "等一下",
            "嗯我想问",
            "不是",
            "唔係",
            "好的但是我想改地址",
            "no",
            "wait",
            "yeah but no",
            "okay so what about my order",
        ] {
            assert!(!filter.is_backchannel(text), "{text}");
        }
    }

    #[test]
    fn long_runs_of_tokens_are_not_backchannels() {
        assert!(!filter().is_backchannel("好好好好好好好好好好"));
    }
}
