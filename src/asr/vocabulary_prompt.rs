//! An initial prompt for Whisper built from the words a deployment's callers use: the nouns of
//! its FAQ phrasings (product, place and payment names, 运费, 八达通, refund ...). Whisper reads
//! the prompt as the text before the utterance, so rare terms in it are spelled as the FAQ spells
//! them instead of as similar-sounding common words.

use std::collections::HashMap;

use jieba_rs::Jieba;

use crate::lang::Lang;

/// Longest prompt built, in characters (Han: 120, English: 200): a few dozen terms, about 100
/// tokens, under half Whisper's 224-token prompt limit.
pub const MAX_PROMPT_CHARS: usize = 200;
const MAX_HAN_PROMPT_CHARS: usize = 120;

/// jieba dictionary frequency from which a word is common enough for Whisper to know it (时间,
/// 问题 are far above; 运费 88, 退款 26, 八达通 4).
const COMMON_WORD_FREQUENCY: usize = 1000;
/// Least dictionary frequency of a verb kept in the prompt.
const MIN_VERB_FREQUENCY: usize = 10;

/// Capitalised words that are no names worth prompting.
const ENGLISH_COMMON_NAMES: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "mondays",
    "tuesdays",
    "wednesdays",
    "thursdays",
    "fridays",
    "saturdays",
    "sundays",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "ok",
    "okay",
    "hi",
    "hello",
    "please",
];

/// English words too common to be worth a place in the prompt.
const ENGLISH_STOPWORDS: &[&str] = &[
    "about",
    "after",
    "again",
    "also",
    "and",
    "are",
    "can",
    "could",
    "does",
    "from",
    "have",
    "how",
    "long",
    "many",
    "much",
    "need",
    "should",
    "that",
    "the",
    "there",
    "this",
    "what",
    "when",
    "where",
    "which",
    "will",
    "with",
    "would",
    "your",
    "you",
    "yours",
    "please",
    "order",
    "want",
    "know",
    "tell",
    "get",
    "there",
    "they",
    "them",
    "make",
    "take",
    "work",
    "time",
    "open",
    "still",
    "just",
    "any",
    "anything",
    "some",
    "something",
    "other",
];

/// A prompt of the distinctive terms in `phrasings` (the FAQ questions and their alternative
/// phrasings in `lang`), the most frequent first, at most [`MAX_PROMPT_CHARS`] characters;
/// empty when there is none. Mandarin and Cantonese: the nouns jieba finds (place names, brand
/// and product words), joined with 、; English: capitalised names (Octopus, Mong Kok) and the
/// longer content words, joined with commas.
pub fn vocabulary_prompt(lang: Lang, phrasings: &[&str]) -> String {
    match lang {
        Lang::Zh | Lang::Yue => join_terms(han_terms(phrasings), "、", "。", MAX_HAN_PROMPT_CHARS),
        Lang::En => join_terms(english_terms(phrasings), ", ", ".", MAX_PROMPT_CHARS),
    }
}

/// Terms ranked by the number of phrasings they occur in, then by first appearance.
#[derive(Default)]
struct TermCounts {
    order: Vec<String>,
    counts: HashMap<String, (usize, usize)>,
}

impl TermCounts {
    fn add_phrasing(&mut self, terms: impl IntoIterator<Item = String>) {
        let mut seen = Vec::new();
        for term in terms {
            if seen.contains(&term) {
                continue;
            }
            let next = self.order.len();
            let entry = self.counts.entry(term.clone()).or_insert((0, next));
            if entry.1 == next {
                self.order.push(term.clone());
            }
            entry.0 += 1;
            seen.push(term);
        }
    }

    fn ranked(self) -> Vec<String> {
        let mut terms = self.order;
        terms.sort_by_key(|t| {
            let (count, first) = self.counts[t];
            (std::cmp::Reverse(count), first)
        });
        terms
    }
}

fn han_terms(phrasings: &[&str]) -> Vec<String> {
    let jieba = Jieba::new();
    let mut counts = TermCounts::default();
    let mut rarity = HashMap::new();
    for phrasing in phrasings {
        let terms = jieba
            .tag(phrasing, true)
            .into_iter()
            .filter(|tag| tag.word.chars().count() >= 2 && tag.word.chars().all(is_han))
            .filter_map(|tag| {
                // jieba's dictionary frequency (an estimate for words it does not list): the
                // rarer a word is in general text, the more Whisper needs to be told about it.
                let frequency = jieba.suggest_freq(tag.word);
                let noun = tag.tag.starts_with('n') || tag.tag == "vn";
                // Verbs jieba glued together from a phrasing (填错, 能刷) are rare too, but no
                // term: a verb counts when the dictionary knows it (退款, 退货).
                let verb = tag.tag == "v" && frequency >= MIN_VERB_FREQUENCY;
                ((noun || verb) && frequency < COMMON_WORD_FREQUENCY).then(|| {
                    rarity.insert(tag.word.to_string(), frequency);
                    tag.word.to_string()
                })
            });
        counts.add_phrasing(terms);
    }
    let mut terms = counts.ranked();
    // Rarest first; the stable sort keeps the FAQ order among equals.
    terms.sort_by_key(|t| rarity.get(t).copied().unwrap_or(usize::MAX));
    terms
}

fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

fn english_terms(phrasings: &[&str]) -> Vec<String> {
    let mut name_counts = TermCounts::default();
    let mut counts = TermCounts::default();
    for phrasing in phrasings {
        let words: Vec<&str> = phrasing
            .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-'))
            .filter(|w| !w.is_empty())
            .collect();
        let mut terms = Vec::new();
        let mut names = Vec::new();
        let mut index = 0;
        while index < words.len() {
            let word = words[index];
            // A run of capitalised words after the first word of the phrasing: a name.
            let capitalised = |w: &str| {
                w.chars().next().is_some_and(char::is_uppercase)
                    && w != "I"
                    && !ENGLISH_COMMON_NAMES.contains(&w.to_lowercase().as_str())
            };
            if index > 0 && capitalised(word) {
                let start = index;
                while index < words.len() && capitalised(words[index]) {
                    index += 1;
                }
                names.push(words[start..index].join(" "));
                continue;
            }
            let lower = word.to_lowercase();
            if lower.chars().count() >= 5
                && lower.chars().all(|c| c.is_ascii_alphabetic())
                && !ENGLISH_STOPWORDS.contains(&lower.as_str())
            {
                terms.push(lower);
            }
            index += 1;
        }
        name_counts.add_phrasing(names);
        counts.add_phrasing(terms);
    }
    // Names first: Whisper knows "refund" better than "Octopus" or "Mong Kok".
    let mut ranked = name_counts.ranked();
    ranked.extend(counts.ranked());
    ranked
}

fn join_terms(terms: Vec<String>, separator: &str, end: &str, max_chars: usize) -> String {
    let mut prompt = String::new();
    for term in terms {
        let added = term.chars().count() + separator.chars().count();
        if prompt.chars().count() + added > max_chars {
            break;
        }
        if !prompt.is_empty() {
            prompt.push_str(separator);
        }
        prompt.push_str(&term);
    }
    if !prompt.is_empty() {
        prompt.push_str(end);
    }
    prompt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_prompt_keeps_names_and_content_words() {
        let prompt = vocabulary_prompt(
            Lang::En,
            &[
                "When will I get my refund?",
                "Can I pay with an Octopus card?",
                "Is the Mong Kok shop open on Sundays?",
                "How long does a refund take?",
            ],
        );
        assert!(prompt.starts_with("Octopus, Mong Kok, refund"), "{prompt}");
        assert!(prompt.contains("Octopus"), "{prompt}");
        assert!(prompt.contains("Mong Kok"), "{prompt}");
        assert!(!prompt.contains("When"), "{prompt}");
    }

    #[test]
    fn mandarin_prompt_keeps_nouns() {
        let prompt = vocabulary_prompt(
            Lang::Zh,
            &[
                "运费怎么算？",
                "可以用八达通付款吗？",
                "运费是多少",
                "旺角的门店在哪",
            ],
        );
        assert!(prompt.starts_with("八达通"), "{prompt}");
        assert!(prompt.contains("运费"), "{prompt}");
        assert!(prompt.contains("门店"), "{prompt}");
        assert!(!prompt.contains("怎么"), "{prompt}");
    }

    #[test]
    fn empty_faq_gives_no_prompt() {
        assert_eq!(vocabulary_prompt(Lang::En, &[]), "");
        assert_eq!(vocabulary_prompt(Lang::Zh, &["吗？"]), "");
    }

    #[test]
    fn prompt_is_bounded() {
        let many: Vec<String> = (0..200).map(|i| format!("Call Name{i} now")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(vocabulary_prompt(Lang::En, &refs).chars().count() <= MAX_PROMPT_CHARS + 1);
    }
}

#[cfg(test)]
mod demo_faq_tests {
    use super::*;

    /// The phrasings of the bundled demo FAQ in `lang` (question and alt_questions columns).
    fn demo_phrasings(lang: &str) -> Vec<String> {
        let mut reader =
            csv::Reader::from_reader(include_str!("../dialogue/knowledge/demo_faq.csv").as_bytes());
        let mut phrasings = Vec::new();
        for record in reader.records() {
            let record = record.expect("the bundled demo FAQ parses");
            if record.get(3) == Some(lang) {
                phrasings.push(record.get(1).unwrap_or("").to_string());
                phrasings.extend(record.get(4).unwrap_or("").split('|').map(str::to_string));
            }
        }
        phrasings
    }

    #[test]
    fn demo_faq_prompts_name_its_terms() {
        for (lang, code, terms) in [
            (Lang::Zh, "zh", &["运费", "八达通"][..]),
            (Lang::En, "en", &["refund", "Octopus"][..]),
        ] {
            let phrasings = demo_phrasings(code);
            let refs: Vec<&str> = phrasings.iter().map(String::as_str).collect();
            let prompt = vocabulary_prompt(lang, &refs);
            println!("{code}\t{prompt}");
            for term in terms {
                assert!(
                    prompt.contains(term),
                    "{code}: {term} missing from {prompt}"
                );
            }
        }
    }
}
