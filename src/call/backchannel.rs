//! Backchannels: "嗯", "係", "好的", "mm-hmm" said while the bot talks mean "I'm listening",
//! not "stop". A transcript is a backchannel when, with spaces and punctuation dropped, it is
//! made only of backchannel tokens (so "嗯嗯好的" is, "嗯我想问" is not). Chinese is measured in
//! characters, never in whitespace words.

use super::config::BargeInConfig;
use super::turn::speech_rate::syllables;

/// The backchannel tokens of every language, normalised, longest first.
#[derive(Debug, Clone)]
pub(crate) struct BackchannelFilter {
    tokens: Vec<Vec<char>>,
    max_chars: usize,
    short_interruptions: Vec<String>,
    min_syllables: usize,
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
            short_interruptions: config
                .short_interruptions
                .iter()
                .flatten()
                .map(|word| word.to_lowercase())
                .collect(),
            min_syllables: config.min_interruption_syllables,
        }
    }

    /// True when `text` has fewer syllables than an interruption needs and no known short
    /// interruption word in it ("M", "Emama", "冰 冰 冰"): a hum or a noise Whisper wrote
    /// down, not a request. Whisper hears short sounds badly (a synthetic "Right." comes back
    /// as "Bye."), so a short sound must show it is an interruption, not the other way round.
    pub(crate) fn is_too_few_words(&self, text: &str) -> bool {
        let units = units(text);
        if units.is_empty() || syllables(text) >= self.min_syllables {
            return false;
        }
        let chars = normalise(text);
        !self.short_interruptions.iter().any(|word| {
            if word.is_ascii() {
                units.iter().any(|unit| unit == word)
            } else {
                let word: Vec<char> = word.chars().collect();
                chars.windows(word.len()).any(|w| w == word.as_slice())
            }
        })
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

/// The words of `text`: each Han character, each run of Latin letters or digits (lower-cased).
fn units(text: &str) -> Vec<String> {
    let mut units = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            word.push(c.to_ascii_lowercase());
            continue;
        }
        if !word.is_empty() {
            units.push(std::mem::take(&mut word));
        }
        if c.is_alphanumeric() {
            units.push(c.to_string());
        }
    }
    if !word.is_empty() {
        units.push(word);
    }
    units
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
    fn few_syllables_are_a_hum_unless_they_hold_a_short_interruption() {
        let filter = filter();
        for hum in [
            "M",
            "冰 冰 冰",
            "冬",
            "云。",
            "Hmm hmm",
            "Emama.",
            "Amen.",
            "Bye.",
            "34",
            "農民，農",
        ] {
            assert!(filter.is_too_few_words(hum), "{hum}");
        }
        for words in [
            "停！",
            "Stop!",
            "no no",
            "Wait, wait.",
            "等",
            "不是",
            "唔係呀",
            "等一下",
            "hold on",
            "我想问一下",
            "can I ask something",
            "",
        ] {
            assert!(!filter.is_too_few_words(words), "{words}");
        }
    }

    #[test]
    fn long_runs_of_tokens_are_not_backchannels() {
        assert!(!filter().is_backchannel("好好好好好好好好好好"));
    }
}
