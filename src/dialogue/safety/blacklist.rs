//! Words the bot must never say: a small built-in list (profanity in Mandarin, Cantonese and
//! English; investment promises a finance hotline may not make) plus the company's own
//! `[dialogue] blacklist`. Checked on every sentence before it is spoken.

/// Built in: always checked, in addition to the configured words.
pub const DEFAULT_BLACKLIST: &[&str] = &[
    "傻逼",
    "傻屄",
    "他妈的",
    "他媽的",
    "操你妈",
    "操你媽",
    "仆街",
    "扑街",
    "屌你",
    "冚家鏟",
    "fuck",
    "shit",
    "bitch",
    "bastard",
    "保证收益",
    "保證收益",
    "稳赚不赔",
    "穩賺不賠",
    "guaranteed return",
];

/// A set of forbidden words, matched case-insensitively. Words in Latin letters match whole
/// words only (`shit` does not hit `shiitake`), with any run of spaces between their parts;
/// Chinese words match anywhere, ignoring spaces (ASR puts spaces between characters).
#[derive(Debug, Clone)]
pub struct Blacklist {
    /// Words with ASCII letters or digits, lower case, single-spaced.
    latin: Vec<String>,
    /// Other words, lower case, without whitespace.
    chinese: Vec<String>,
}

impl Blacklist {
    /// The built-in words plus `extra`.
    pub fn with_defaults(extra: &[String]) -> Self {
        let (mut latin, mut chinese) = (Vec::new(), Vec::new());
        for word in DEFAULT_BLACKLIST
            .iter()
            .map(|w| w.to_string())
            .chain(extra.iter().cloned())
        {
            if word.chars().any(|c| c.is_ascii_alphanumeric()) {
                latin.push(single_spaced(&word));
            } else {
                chinese.push(squashed(&word));
            }
        }
        for list in [&mut latin, &mut chinese] {
            list.retain(|w| !w.is_empty());
            list.sort();
            list.dedup();
        }
        Self { latin, chinese }
    }

    /// The first forbidden word in `sentence`, if any.
    pub fn hit(&self, sentence: &str) -> Option<&str> {
        let spaced = single_spaced(sentence);
        let squashed = squashed(sentence);
        self.latin
            .iter()
            .find(|word| contains_whole_word(&spaced, word))
            .or_else(|| {
                self.chinese
                    .iter()
                    .find(|word| squashed.contains(word.as_str()))
            })
            .map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.latin.len() + self.chinese.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Lower case, whitespace runs as one space.
fn single_spaced(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Lower case without whitespace.
fn squashed(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

fn contains_whole_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_and_configured_words_hit_regardless_of_case_and_spaces() {
        let list = Blacklist::with_defaults(&["竞争对手".to_string(), "Acme Corp".to_string()]);
        assert_eq!(list.hit("你个仆街"), Some("仆街"));
        assert_eq!(list.hit("This is SHIT."), Some("shit"));
        assert_eq!(list.hit("我们的产品比竞争 对手好"), Some("竞争对手"));
        assert_eq!(list.hit("Try acme corp instead."), Some("acme corp"));
        assert_eq!(list.hit("本基金保證收益"), Some("保證收益"));
        assert_eq!(list.hit("We have shiitake mushrooms."), None);
        assert_eq!(list.hit("运费是十元。"), None);
    }
}
