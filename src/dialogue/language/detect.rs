//! Which language a caller turn is in: Cantonese, Mandarin or English, decided per turn from
//! the ASR language, the text itself and the previous turn; the reply (and so the TTS voice)
//! follows it.
//!
//! No library separates Cantonese from Mandarin, so the text rules are the marker rules of
//! CanCLID/cantonesedetect (Lau, Lau & To 2024), applied to Hong Kong Traditional text (ASR
//! output in Simplified script is converted with OpenCC `s2hk` first): Cantonese marker
//! characters and phrases (plus a few of ours) against Mandarin marker characters. Whisper often writes Cantonese
//! speech as standard written Chinese, and short turns ("我要轉人工", "OK") carry no markers, so:
//!
//! - mostly Latin words (not just "ok" / "thank you", which Hong Kong callers say in Cantonese
//!   too) → English;
//! - Chinese with Cantonese markers (and not overwhelmed by Mandarin ones) → Cantonese;
//! - Chinese with Mandarin markers only → Mandarin, unless ASR said Cantonese (the caller's
//!   chosen language: Whisper writes Cantonese in standard Chinese, with 的/是/了);
//! - neutral Chinese → the previous turn's language when it was Chinese, else the ASR
//!   language when Chinese, else Mandarin;
//! - nothing to judge (empty, digits, "ok") → the previous turn's language, else ASR's.

use crate::lang::is_han;
use std::sync::{Arc, OnceLock};

use ferrous_opencc::OpenCC;
use ferrous_opencc::config::BuiltinConfig;
use regex::Regex;

use crate::dialogue::faq_error::FaqError;
use crate::lang::Lang;

/// Cantonese marker characters (cantonesedetect).
const CANTONESE_CHARS: &str =
    "嘅嗰啲咗佢喺咁噉冇啩哋畀嚟諗乜嘢瞓睇㗎餸喎嚿噃嘥嗮啱揾搵嬲掟黐唞嗱係唔喇俾";
/// Cantonese marker phrases (cantonesedetect).
const CANTONESE_PHRASES: &str = "唔[係得會好識使洗駛通知到去走掂該錯差]|點[樣會做得解]|[琴尋噚聽第]日|[而依]家|邊[度個位科]|屋企|同埋";
/// Our additions, common in callers' questions: 咩 (what), 攞 (take), 點計/點知/點算,
/// 幾耐 (how long), 幾多 (how many), 邊間/邊處.
const EXTRA_CANTONESE_CHARS: &str = "咩攞";
const EXTRA_CANTONESE_PHRASES: &str = "|點[計知算]|幾耐|幾多|邊[間處]";
/// Words holding a marker character that are not Cantonese (removed before counting).
const EXCEPTIONS: &[&str] = &["關係", "吱唔", "咿唔", "喇嘛", "喇叭"];
/// Mandarin marker characters (cantonesedetect).
const MANDARIN_CHARS: &str = "這哪唄咱啥甭那是的他她它吧沒麼么些了卻說吃弄把也在";
/// Latin words that say nothing about the language: Hong Kong callers mix them into Cantonese.
const NEUTRAL_LATIN: &[&str] = &[
    "ok", "okay", "o", "k", "yes", "yeah", "yep", "no", "hi", "hello", "bye", "thank", "thanks",
    "you", "sorry", "please", "sir", "madam", "mm", "um", "uh", "eh",
];

/// What a text says about its language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LanguageEvidence {
    /// Han characters.
    pub han: usize,
    /// Latin-script words that are not [`NEUTRAL_LATIN`].
    pub latin_words: usize,
    /// Cantonese marker characters and phrases.
    pub cantonese: usize,
    /// Mandarin marker characters.
    pub mandarin: usize,
}

/// The per-turn language detector (holds the `s2hk` table; share one, see [`Self::shared`]).
pub struct LanguageDetector {
    to_hk: OpenCC,
    phrases: Regex,
}

impl std::fmt::Debug for LanguageDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LanguageDetector").finish_non_exhaustive()
    }
}

static SHARED: OnceLock<Arc<LanguageDetector>> = OnceLock::new();

impl LanguageDetector {
    pub fn new() -> Result<Self, FaqError> {
        let to_hk =
            OpenCC::from_config(BuiltinConfig::S2hk).map_err(|e| FaqError::ScriptTables {
                detail: e.to_string(),
            })?;
        let phrases = Regex::new(&format!("{CANTONESE_PHRASES}{EXTRA_CANTONESE_PHRASES}"))
            .map_err(|e| FaqError::ScriptTables {
                detail: format!("Cantonese marker pattern: {e}"),
            })?;
        Ok(Self { to_hk, phrases })
    }

    /// The process-wide detector, built on first use.
    pub fn shared() -> Result<Arc<Self>, FaqError> {
        if let Some(detector) = SHARED.get() {
            return Ok(detector.clone());
        }
        let built = Arc::new(Self::new()?);
        Ok(SHARED.get_or_init(|| built).clone())
    }

    /// Counts the markers of `text` (after `s2hk`).
    pub fn evidence(&self, text: &str) -> LanguageEvidence {
        let mut traditional = self.to_hk.convert(text);
        for exception in EXCEPTIONS {
            traditional = traditional.replace(exception, "");
        }
        let han = text.chars().filter(|&c| is_han(c)).count();
        let latin_words = text
            .split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| !w.is_empty())
            .filter(|w| !NEUTRAL_LATIN.contains(&w.to_ascii_lowercase().as_str()))
            .count();
        let cantonese = traditional
            .chars()
            .filter(|&c| CANTONESE_CHARS.contains(c) || EXTRA_CANTONESE_CHARS.contains(c))
            .count()
            + self.phrases.find_iter(&traditional).count();
        let mandarin = traditional
            .chars()
            .filter(|&c| MANDARIN_CHARS.contains(c))
            .count();
        LanguageEvidence {
            han,
            latin_words,
            cantonese,
            mandarin,
        }
    }

    /// The language of this turn (see the module documentation for the rules).
    pub fn detect(&self, text: &str, asr_lang: Lang, previous: Option<Lang>) -> Lang {
        decide(self.evidence(text), asr_lang, previous)
    }
}

/// The rules of the module documentation, on counted evidence.
pub fn decide(evidence: LanguageEvidence, asr_lang: Lang, previous: Option<Lang>) -> Lang {
    let LanguageEvidence {
        han,
        latin_words,
        cantonese,
        mandarin,
    } = evidence;
    if han == 0 {
        return if latin_words > 0 {
            Lang::En
        } else {
            previous.unwrap_or(asr_lang)
        };
    }
    // "Can I pay with 八達通?" is English; "我想check吓張單" is Cantonese.
    if latin_words >= 2 && latin_words > han {
        return Lang::En;
    }
    let chinese_fallback = previous
        .filter(|l| l.is_chinese())
        .or(Some(asr_lang).filter(|l| l.is_chinese()))
        .unwrap_or(Lang::Zh);
    match (cantonese, mandarin) {
        (0, 0) => chinese_fallback,
        (0, _) if asr_lang == Lang::Yue => Lang::Yue,
        (0, _) => Lang::Zh,
        (c, m) if m > 3 * c => chinese_fallback,
        _ => Lang::Yue,
    }
}

/// The language of a caller turn: `text` as ASR wrote it, the language ASR decoded (or the
/// caller chose), and the language of the previous caller turn. Falls back to `asr_lang` if
/// the script tables cannot be loaded (a build problem, reported by the knowledge base too).
pub fn detect_turn_language(text: &str, asr_lang: Lang, previous: Option<Lang>) -> Lang {
    match LanguageDetector::shared() {
        Ok(detector) => detector.detect(text, asr_lang, previous),
        Err(_) => previous.unwrap_or(asr_lang),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cantonese_markers_win_in_either_script() {
        assert_eq!(
            detect_turn_language("你哋幾點閂門？", Lang::Zh, None),
            Lang::Yue
        );
        // Simplified ASR output of Cantonese speech.
        assert_eq!(
            detect_turn_language("我张单点解仲未到", Lang::Zh, None),
            Lang::Yue
        );
        assert_eq!(
            detect_turn_language("佢话系咁㗎", Lang::Zh, None),
            Lang::Yue
        );
        assert_eq!(
            detect_turn_language("我想问下你哋嘅营业时间", Lang::En, Some(Lang::Zh)),
            Lang::Yue
        );
    }

    #[test]
    fn mandarin_markers_give_mandarin_unless_the_caller_chose_cantonese() {
        assert_eq!(
            detect_turn_language("这个东西怎么退啊", Lang::Zh, None),
            Lang::Zh
        );
        assert_eq!(
            detect_turn_language("我的订单在哪里", Lang::Zh, Some(Lang::Yue)),
            Lang::Zh
        );
        // Whisper in Cantonese mode writes standard Chinese: keep the caller's language.
        assert_eq!(
            detect_turn_language("我的订单在哪里", Lang::Yue, None),
            Lang::Yue
        );
    }

    #[test]
    fn exceptions_are_not_cantonese() {
        let detector = LanguageDetector::shared().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(detector.evidence("我們的關係").cantonese, 0);
        assert_eq!(detector.evidence("喇叭壞了").cantonese, 0);
    }

    #[test]
    fn neutral_short_turns_follow_the_previous_turn() {
        assert_eq!(
            detect_turn_language("我要轉人工", Lang::Zh, Some(Lang::Yue)),
            Lang::Yue
        );
        assert_eq!(
            detect_turn_language("我要转人工", Lang::Zh, Some(Lang::Zh)),
            Lang::Zh
        );
        assert_eq!(
            detect_turn_language("我要转人工", Lang::Yue, None),
            Lang::Yue
        );
        assert_eq!(
            detect_turn_language("OK", Lang::Zh, Some(Lang::Yue)),
            Lang::Yue
        );
        assert_eq!(
            detect_turn_language("thank you", Lang::En, Some(Lang::Yue)),
            Lang::Yue
        );
        assert_eq!(detect_turn_language("  ", Lang::Zh, None), Lang::Zh);
        // An English previous turn says nothing about which Chinese this is.
        assert_eq!(
            detect_turn_language("运费多少", Lang::En, Some(Lang::En)),
            Lang::Zh
        );
    }

    #[test]
    fn english_needs_real_english_words() {
        assert_eq!(
            detect_turn_language("How much is shipping?", Lang::Zh, Some(Lang::Yue)),
            Lang::En
        );
        assert_eq!(
            detect_turn_language("Can I pay with 八達通?", Lang::Yue, None),
            Lang::En
        );
        assert_eq!(
            detect_turn_language("我想check吓張單到咗未", Lang::En, None),
            Lang::Yue
        );
    }
}
