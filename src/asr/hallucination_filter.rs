//! Whisper invents text on silence and noise: subtitle credits it learnt from video captions,
//! one phrase repeated until the context fills, or text in another script when the language was
//! forced. This filter removes those before the dialogue engine believes them.

use crate::asr::AsrLanguage;
use crate::lang::is_han;

/// Why a transcript was thrown away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Nothing but a known subtitle credit / video outro.
    SubtitleCredit(String),
    /// The decode is in a script that cannot be the forced language (e.g. kana when zh was forced).
    WrongScript { forced: AsrLanguage, text: String },
    /// Nothing left after clean-up.
    Empty,
}

/// Phrases Whisper emits from captions in its training data, compared after removing
/// punctuation and spaces, in lower case. Simplified and Traditional forms are both listed.
const SUBTITLE_CREDITS: &[&str] = &[
    "字幕由amara.org社群提供",
    "字幕由amara.org社区提供",
    "请不吝点赞订阅转发打赏支持明镜与点点栏目",
    "請不吝點贊訂閱轉發打賞支持明鏡與點點欄目",
    "请不吝点赞订阅转发打赏",
    "請不吝點贊訂閱轉發打賞",
    "谢谢观看",
    "謝謝觀看",
    "感谢观看",
    "感謝觀看",
    "谢谢收看",
    "謝謝收看",
    "谢谢大家收看",
    "字幕志愿者",
    "字幕志願者",
    "中文字幕",
    "优优独播剧场",
    "優優獨播劇場",
    "索兰娅字幕组",
    "thankyouforwatching",
    "thanksforwatching",
    "pleasesubscribe",
    "subtitlesby",
    "subtitlesbytheamaraorgcommunity",
    "transcriptionbycastingwords",
];

/// Cleans Whisper output; see the module doc for what it catches.
#[derive(Debug, Clone)]
pub struct HallucinationFilter {
    /// A unit repeated more than this many times in a row is collapsed to one occurrence.
    pub max_repeats: usize,
}

impl Default for HallucinationFilter {
    fn default() -> Self {
        Self { max_repeats: 2 }
    }
}

impl HallucinationFilter {
    /// Returns the cleaned transcript, or why it must be dropped.
    pub fn clean(&self, text: &str, forced: AsrLanguage) -> Result<String, Rejection> {
        let mut text = text.trim().to_string();
        for credit in SUBTITLE_CREDITS {
            if let Some(stripped) = remove_phrase(&text, credit) {
                if stripped.chars().all(|c| !c.is_alphanumeric()) {
                    return Err(Rejection::SubtitleCredit(text));
                }
                text = stripped;
            }
        }
        let text = collapse_repeats(&text, self.max_repeats);
        let text = collapse_repeated_sentence(text.trim());
        if text.chars().all(|c| !c.is_alphanumeric()) {
            return Err(Rejection::Empty);
        }
        if wrong_script(&text, forced) {
            return Err(Rejection::WrongScript { forced, text });
        }
        Ok(text)
    }
}

fn key_char(c: char) -> Option<char> {
    if c.is_alphanumeric() || c == '.' {
        Some(c.to_lowercase().next().unwrap_or(c))
    } else {
        None
    }
}

/// Removes `phrase` (given in key form) from `text`, comparing key characters only. Returns
/// `None` when the phrase does not occur.
fn remove_phrase(text: &str, phrase: &str) -> Option<String> {
    let keyed: Vec<(usize, char)> = text
        .char_indices()
        .filter_map(|(i, c)| key_char(c).map(|k| (i, k)))
        .collect();
    let phrase: Vec<char> = phrase.chars().collect();
    if phrase.is_empty() || keyed.len() < phrase.len() {
        return None;
    }
    let start = (0..=keyed.len() - phrase.len()).find(|&s| {
        keyed[s..s + phrase.len()]
            .iter()
            .map(|(_, k)| *k)
            .eq(phrase.iter().copied())
    })?;
    let (from, _) = keyed[start];
    let (last, last_char) = keyed[start + phrase.len() - 1];
    let to = last + last_char.len_utf8();
    let to = text[to..].chars().next().map_or(to, |c| {
        if c.is_alphanumeric() {
            to
        } else {
            to + c.len_utf8()
        }
    });
    Some(format!("{}{}", &text[..from], &text[to..]))
}

/// Shortest sentence [`collapse_repeated_sentence`] looks for (shorter units are
/// [`collapse_repeats`]' business, and "好的好的" is ordinary speech).
const MIN_SENTENCE_CHARS: usize = 6;

/// A transcript that ends in one sentence said twice or more, the last copy possibly cut short
/// by the token cap, keeps that sentence once ("送货到沙田需要多少运费 送货到沙田需要多少运费";
/// "I'm sending a laptop. Should I get extra cover? Should I get extra cover? Should I"). Whisper
/// loops like this when its encoder context ends close to the speech or a prompt primes it; a
/// caller rarely repeats a whole sentence without a pause that would split the utterance. The
/// repeated sentence starts the transcript or follows a separator, and its copies run to the
/// end: a sentence that goes on after a repeated start is left alone.
fn collapse_repeated_sentence(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    for start in 0..chars.len() {
        if start > 0 && chars[start - 1].is_alphanumeric() || !chars[start].is_alphanumeric() {
            continue;
        }
        if let Some(kept) = collapse_repeats_to_end(&chars[start..]) {
            let mut out: String = chars[..start].iter().collect();
            out.push_str(&kept);
            return out;
        }
    }
    text.to_string()
}

/// The first copy of a sentence (with the punctuation that closed it) when `chars` is that
/// sentence said twice or more, the last copy possibly cut short; `None` otherwise.
fn collapse_repeats_to_end(chars: &[char]) -> Option<String> {
    let separator = |c: char| !c.is_alphanumeric();
    for length in MIN_SENTENCE_CHARS..=chars.len() / 2 {
        // The unit without the punctuation and spaces that close it.
        let mut core_end = length;
        while core_end > 0 && separator(chars[core_end - 1]) {
            core_end -= 1;
        }
        let core = &chars[..core_end];
        if core.len() < MIN_SENTENCE_CHARS
            || !chars[length..]
                .first()
                .is_none_or(|&c| separator(c) || chars[length..].starts_with(core))
        {
            continue;
        }
        let mut at = core_end;
        let mut copies = 1;
        loop {
            while at < chars.len() && separator(chars[at]) {
                at += 1;
            }
            if chars[at..].starts_with(core) {
                at += core.len();
                copies += 1;
            } else {
                break;
            }
        }
        let rest = &chars[at..];
        if copies >= 2 && core.starts_with(rest) {
            // The first copy with the punctuation that closed it.
            let mut end = core_end;
            while end < chars.len() && separator(chars[end]) && !chars[end].is_whitespace() {
                end += 1;
            }
            return Some(chars[..end].iter().collect());
        }
    }
    None
}

/// Collapses any unit of 1-12 characters repeated more than `max_repeats` times in a row
/// ("好的好的好的好的好的" → "好的", "thank you thank you thank you ..." → "thank you").
fn collapse_repeats(text: &str, max_repeats: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<char> = Vec::with_capacity(chars.len());
    let mut i = 0;
    'outer: while i < chars.len() {
        for unit in 1..=12.min((chars.len() - i) / (max_repeats + 1)) {
            let pattern = &chars[i..i + unit];
            if pattern.iter().all(|c| !c.is_alphanumeric()) {
                continue;
            }
            let mut n = 1;
            while i + (n + 1) * unit <= chars.len()
                && chars[i + n * unit..i + (n + 1) * unit] == *pattern
            {
                n += 1;
            }
            if n > max_repeats {
                out.extend_from_slice(pattern);
                i += n * unit;
                // A last copy cut short by trimming ("okay okay okay okay") is part of the run.
                let core: Vec<char> = pattern
                    .iter()
                    .copied()
                    .filter(|c| c.is_alphanumeric())
                    .collect();
                let rest: Vec<char> = chars[i..].iter().copied().take(unit).collect();
                let rest_core: Vec<char> = rest
                    .iter()
                    .copied()
                    .filter(|c| c.is_alphanumeric())
                    .collect();
                if !core.is_empty()
                    && rest_core == core
                    && pattern.starts_with(&rest[..rest.len().min(core.len())])
                {
                    i += rest.len();
                }
                continue 'outer;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out.into_iter().collect()
}

fn is_kana_or_hangul(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x31F0..=0x31FF | 0xAC00..=0xD7AF | 0x1100..=0x11FF)
}

/// A forced Chinese decode with no Han characters but other letters (or any kana/hangul), or a
/// forced English decode that is mostly Han, cannot be what the caller said.
fn wrong_script(text: &str, forced: AsrLanguage) -> bool {
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    let han = text.chars().filter(|&c| is_han(c)).count();
    let foreign = text.chars().filter(|&c| is_kana_or_hangul(c)).count();
    match forced {
        AsrLanguage::Zh | AsrLanguage::Yue => foreign > 0 || (han == 0 && letters > 0),
        AsrLanguage::En => foreign > 0 || han * 2 > letters,
        AsrLanguage::Auto => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(text: &str, lang: AsrLanguage) -> Result<String, Rejection> {
        HallucinationFilter::default().clean(text, lang)
    }

    #[test]
    fn subtitle_credit_alone_is_rejected() {
        assert!(matches!(
            clean("字幕由Amara.org社群提供", AsrLanguage::Zh),
            Err(Rejection::SubtitleCredit(_))
        ));
        assert!(matches!(
            clean(" 謝謝觀看！", AsrLanguage::Yue),
            Err(Rejection::SubtitleCredit(_))
        ));
        assert!(matches!(
            clean("Thank you for watching.", AsrLanguage::En),
            Err(Rejection::SubtitleCredit(_))
        ));
    }

    #[test]
    fn credit_after_real_speech_is_cut_off() {
        assert_eq!(
            clean("我想查订单。谢谢观看。", AsrLanguage::Zh).unwrap(),
            "我想查订单。"
        );
    }

    #[test]
    fn a_sentence_said_twice_is_kept_once() {
        assert_eq!(
            clean(
                "送货到沙田需要多少运费 送货到沙田需要多少运费",
                AsrLanguage::Zh
            )
            .unwrap(),
            "送货到沙田需要多少运费"
        );
        assert_eq!(
            clean(
                "I need a dentist on Tuesday. I need a dentist on Tuesday. I need a",
                AsrLanguage::En
            )
            .unwrap(),
            "I need a dentist on Tuesday."
        );
        // A loop that starts after a first sentence keeps the first sentence and one copy.
        assert_eq!(
            clean(
                "I'm sending a laptop. Should I get extra cover? Should I get extra cover? Should I get extra cover? Should I get",
                AsrLanguage::En
            )
            .unwrap(),
            "I'm sending a laptop. Should I get extra cover?"
        );
        assert_eq!(
            clean(
                "我要寄一台笔记本电脑。需不需要额外买个保障?需不需要额外买个保障?需不需要额外",
                AsrLanguage::Zh
            )
            .unwrap(),
            "我要寄一台笔记本电脑。需不需要额外买个保障?"
        );
        // A sentence that goes on after a repeated start is left alone.
        assert_eq!(
            clean("我想问一下，我想问一下运费", AsrLanguage::Zh).unwrap(),
            "我想问一下，我想问一下运费"
        );
        assert_eq!(
            clean("Can I top up my Octopus card?", AsrLanguage::En).unwrap(),
            "Can I top up my Octopus card?"
        );
    }

    #[test]
    fn runaway_repetition_collapses() {
        assert_eq!(
            clean("好的好的好的好的好的", AsrLanguage::Zh).unwrap(),
            "好的"
        );
        assert_eq!(
            clean("okay okay okay okay okay ", AsrLanguage::En).unwrap(),
            "okay"
        );
        // Two in a row is ordinary speech.
        assert_eq!(
            clean("好的好的，谢谢", AsrLanguage::Zh).unwrap(),
            "好的好的，谢谢"
        );
    }

    #[test]
    fn text_in_another_script_is_rejected_when_language_was_forced() {
        assert!(matches!(
            clean("ありがとうございます", AsrLanguage::Zh),
            Err(Rejection::WrongScript { .. })
        ));
        assert!(matches!(
            clean("Thank you very much", AsrLanguage::Zh),
            Err(Rejection::WrongScript { .. })
        ));
        assert!(matches!(
            clean("我要退货", AsrLanguage::En),
            Err(Rejection::WrongScript { .. })
        ));
        // Mixed Chinese with a product name is normal.
        assert_eq!(
            clean("我想买iPhone", AsrLanguage::Zh).unwrap(),
            "我想买iPhone"
        );
        // Detection accepts anything real.
        assert!(clean("ありがとう", AsrLanguage::Auto).is_ok());
    }

    #[test]
    fn punctuation_only_is_empty() {
        assert_eq!(clean(" 。。 ", AsrLanguage::Zh), Err(Rejection::Empty));
    }
}
