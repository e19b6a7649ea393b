//! End of turn: how much silence ends the caller's turn, read from the words heard so far.
//!
//! A complete question can be answered quickly; a trailing "嗯"/"那个"/"um" means the caller is
//! still thinking; a clause left hanging ("号码是", "but", `hanging_clause`) means more is
//! coming; a trailing digit run means a phone or order number is being dictated and must not be
//! cut between digit groups.
//!
//! When an acoustic end-of-turn model runs at the pause (Smart Turn, `[call.turn.acoustic]`),
//! its verdict joins the words: the sound of a sentence left hanging lengthens the wait after a
//! plain statement, and (when `shorten_when_complete` is on) the sound of a finished one
//! shortens it after a statement or a question; digits and fillers keep their long waits
//! whatever the sound says.

use serde::{Deserialize, Serialize};

use super::hanging_clause::leaves_a_clause_hanging;
use crate::call::config::TurnTakingConfig;

/// What the latest transcript suggests about the caller's turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndOfTurnCue {
    /// No cue (or no transcript yet): the base hangover.
    Plain,
    /// Reads as a complete question: the short hangover.
    Question,
    /// Ends with a hesitation filler: the long hangover.
    Hesitation,
    /// The words leave a clause hanging ("我的手机号码是", "但是", "my order number is", "the"):
    /// the hesitation filler's long hangover. (`SoundsUnfinished` is the sound's verdict.)
    HangingClause,
    /// Ends with digits: the longest hangover.
    Digits,
    /// The utterance reached the maximum length.
    MaxLength,
    /// Not spoken: the caller typed the message (browser widget), so it ended when sent.
    Typed,
    /// The words give no long-wait cue and the sound says the turn is complete.
    SoundsComplete,
    /// A plain statement that sounds unfinished (the voice left hanging).
    SoundsUnfinished,
}

impl EndOfTurnCue {
    /// The words or the sound say the caller is done: the wait is timed from where their voice
    /// fell away, not from the VAD's release (`[call.turn] voice_fall_db`).
    pub fn says_complete(self) -> bool {
        matches!(self, EndOfTurnCue::Question | EndOfTurnCue::SoundsComplete)
    }
}

/// The cue once the acoustic verdict at the pause (`complete_probability`, when the model ran)
/// is combined with the words' cue.
pub fn combined_cue(
    words: EndOfTurnCue,
    complete_probability: Option<f32>,
    config: &TurnTakingConfig,
) -> EndOfTurnCue {
    let acoustic = &config.acoustic;
    let Some(p) = complete_probability else {
        return words;
    };
    match words {
        EndOfTurnCue::Plain | EndOfTurnCue::Question
            if acoustic.shorten_when_complete && p >= acoustic.complete_threshold =>
        {
            EndOfTurnCue::SoundsComplete
        }
        EndOfTurnCue::Plain if p < acoustic.unfinished_threshold => EndOfTurnCue::SoundsUnfinished,
        other => other,
    }
}

/// The cue in `text` (a partial or speculative transcript).
pub fn end_of_turn_cue(text: &str, config: &TurnTakingConfig) -> EndOfTurnCue {
    let lower = text.trim().to_lowercase();
    // Trailing separators say nothing (Whisper adds a full stop); a question mark is kept.
    let core = lower.trim_end_matches(|c: char| {
        c.is_whitespace() || matches!(c, '.' | '。' | ',' | '，' | '、' | '-' | '…' | '!' | '！')
    });
    if core.is_empty() {
        return EndOfTurnCue::Plain;
    }
    if ends_with_hesitation(core, config) {
        return EndOfTurnCue::Hesitation;
    }
    if core.chars().next_back().is_some_and(is_digit) {
        return EndOfTurnCue::Digits;
    }
    if leaves_a_clause_hanging(core, config) {
        return EndOfTurnCue::HangingClause;
    }
    let mut unparticled = core;
    while let Some(rest) = config
        .soft_particles
        .iter()
        .find_map(|p| unparticled.strip_suffix(p.as_str()))
    {
        unparticled = rest;
    }
    if config
        .question_endings
        .iter()
        .any(|e| core.ends_with(e.as_str()) || unparticled.ends_with(e.as_str()))
    {
        return EndOfTurnCue::Question;
    }
    let has_question_word = config.question_words.iter().any(|word| {
        unparticled.match_indices(word.as_str()).any(|(at, w)| {
            opens_the_question(&unparticled[..at], w)
                && followed_by_more_words(&unparticled[at + w.len()..], w)
        })
    });
    if has_question_word
        || asks_a_or_not_a(unparticled)
        || ends_on_a_question_word(unparticled, config)
    {
        EndOfTurnCue::Question
    } else {
        EndOfTurnCue::Plain
    }
}

/// The silence that ends the turn for `cue`.
pub fn hangover_ms(cue: EndOfTurnCue, config: &TurnTakingConfig) -> u64 {
    match cue {
        EndOfTurnCue::Plain => config.base_hangover_ms,
        EndOfTurnCue::Question => config.question_hangover_ms,
        EndOfTurnCue::Hesitation | EndOfTurnCue::HangingClause => config.hesitation_hangover_ms,
        EndOfTurnCue::Digits => config.digits_hangover_ms,
        EndOfTurnCue::MaxLength | EndOfTurnCue::Typed => 0,
        EndOfTurnCue::SoundsComplete => config
            .acoustic
            .complete_hangover_ms
            .min(config.question_hangover_ms),
        EndOfTurnCue::SoundsUnfinished => config.acoustic.unfinished_hangover_ms,
    }
}

/// Digits as ASR writes them: ASCII, full-width, and Chinese numerals (幺 and 两 included).
fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c) || "一二三四五六七八九十零〇幺两兩".contains(c)
}

fn ends_with_hesitation(core: &str, config: &TurnTakingConfig) -> bool {
    config.hesitation_endings.iter().any(|filler| {
        let Some(before) = core.strip_suffix(filler.as_str()) else {
            return false;
        };
        if filler.is_ascii() {
            // English fillers are whole words ("um", not "forum").
            return before.is_empty() || !before.ends_with(|c: char| c.is_alphanumeric());
        }
        if filler == "啊" {
            // "…係咪啊" is a question particle; "嗯，啊" or a lone "啊" is hesitation.
            return before.is_empty()
                || before.ends_with(|c: char| !c.is_alphanumeric())
                || config
                    .hesitation_endings
                    .iter()
                    .any(|f| f != "啊" && before.ends_with(f.as_str()));
        }
        true
    })
}

/// Words a caller may put before an English question ("so where is it", "hi, what time").
const LEAD_INS: &[&str] = &[
    "so", "and", "but", "ok", "okay", "hi", "hello", "sorry", "please", "excuse", "me", "um", "uh",
    "then", "also", "well", "yes", "yeah", "no",
];

/// An English question word opens the question: it comes first in its clause, or after lead-ins
/// only ("I don't know what happened" is a statement). Chinese question words sit anywhere
/// ("快递费谁出", "我的包裹到哪里了").
fn opens_the_question(before: &str, word: &str) -> bool {
    if !word.is_ascii() {
        return true;
    }
    let clause = before
        .rsplit([',', '.', '!', '?', ';', ':', '，', '。'])
        .next()
        .unwrap_or("");
    clause
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .all(|w| LEAD_INS.contains(&w))
}

/// The A-not-A question of Mandarin and Cantonese: a word, a negation, the same word again
/// ("得唔得", "好不好", "去没去", "可唔可以").
fn asks_a_or_not_a(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars.windows(3).any(|w| {
        w[0] == w[2]
            && matches!(w[1], '不' | '唔' | '没' | '沒' | '冇')
            && w[0].is_alphabetic()
            && !w[0].is_ascii()
            && !is_digit(w[0])
    })
}

/// Words before a question word that make it part of a statement ("我不知道有多少").
const NOT_KNOWING: &[&str] = &["不知道", "唔知", "不清楚", "唔清楚", "不确定", "不確定"];

/// Verbs of place before a trailing 邊 ("去咗邊", "喺邊"): elsewhere 邊 is a side ("左邊",
/// "海邊").
const BEFORE_WHERE: &str = "去咗喺係到響响住放";

/// The question ends on its question word ("运费多少", "保修期多久", "你哋舖頭喺邊"), and it
/// is not "没多久" ("not long") nor a question the caller says they cannot answer.
fn ends_on_a_question_word(text: &str, config: &TurnTakingConfig) -> bool {
    config.question_words_at_end.iter().any(|word| {
        let Some(before) = text.strip_suffix(word.as_str()) else {
            return false;
        };
        if NOT_KNOWING.iter().any(|n| before.contains(n)) {
            return false;
        }
        let previous = before.chars().next_back();
        match word.as_str() {
            "邊" => previous.is_some_and(|c| BEFORE_WHERE.contains(c)),
            _ => !previous.is_some_and(|c| "没沒冇不".contains(c)),
        }
    })
}

/// A question word counts when the question goes on after it ("几点开门", not a trailing "几").
fn followed_by_more_words(rest: &str, word: &str) -> bool {
    if word.is_ascii() {
        // Whole English words followed by at least one more word.
        rest.starts_with(' ') && rest.trim().chars().any(|c| c.is_alphanumeric())
    } else {
        rest.chars().any(|c| c.is_alphanumeric())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cue(text: &str) -> EndOfTurnCue {
        end_of_turn_cue(text, &TurnTakingConfig::default())
    }

    #[test]
    fn questions_are_recognised_in_three_languages() {
        for text in [
            "你们周末营业吗",
            "请问退货要几天？",
            "你哋幾點開門啊",
            "可以寄去香港未",
            "有冇得退款",
            "What time do you open?",
            "how do I reset my password",
            "你们几点开门。",
        ] {
            assert_eq!(cue(text), EndOfTurnCue::Question, "{text}");
        }
    }

    #[test]
    fn hesitation_fillers_at_the_end_extend_the_turn() {
        for text in [
            "我想问一下那个",
            "我的订单，嗯",
            "係咁嘅，即係",
            "I want to, um",
            "so, uh...",
            "啊",
        ] {
            assert_eq!(cue(text), EndOfTurnCue::Hesitation, "{text}");
        }
        assert_eq!(cue("I went to the forum"), EndOfTurnCue::Plain);
    }

    #[test]
    fn digit_runs_at_the_end_mean_dictation() {
        for text in [
            "我的电话是138 1234",
            "订单号是幺三八，",
            "單號係A1234-",
            "一二三四五",
            "my number is 555 01",
        ] {
            assert_eq!(cue(text), EndOfTurnCue::Digits, "{text}");
        }
    }

    #[test]
    fn a_question_word_may_end_the_question_but_not_every_one() {
        for text in [
            "运费多少",
            "保修期多久。",
            "你哋舖頭喺邊",
            "我個包裹去咗邊度",
        ] {
            assert_eq!(cue(text), EndOfTurnCue::Question, "{text}");
        }
        for text in [
            "我等了没多久",
            "佢住喺海邊",
            "我也不知道有多少",
            "我想问一下这个怎么",
        ] {
            assert_eq!(cue(text), EndOfTurnCue::Plain, "{text}");
        }
    }

    #[test]
    fn a_or_not_a_and_clause_opening_english_words_are_questions() {
        for text in [
            "得唔得用八达通",
            "你们周末开不开门",
            "要不要预约",
            "so where is my parcel",
            "Hi, what time do you close",
            "Does it come with a warranty",
        ] {
            assert_eq!(cue(text), EndOfTurnCue::Question, "{text}");
        }
        for text in [
            "I'm not sure what plan I'm on.",
            "I don't know where it went",
        ] {
            assert_eq!(cue(text), EndOfTurnCue::Plain, "{text}");
        }
    }

    #[test]
    fn statements_and_empty_text_take_the_base_hangover() {
        for text in ["", "  ", "我想退货", "I want a refund.", "我想问一下怎么"] {
            assert_eq!(cue(text), EndOfTurnCue::Plain, "{text}");
        }
    }

    #[test]
    fn the_sound_shortens_or_lengthens_plain_turns_but_never_cuts_dictation() {
        let mut config = TurnTakingConfig::default();
        config.acoustic.shorten_when_complete = true;
        let combined = |words, p| combined_cue(words, Some(p), &config);
        assert_eq!(
            combined(EndOfTurnCue::Plain, 0.9),
            EndOfTurnCue::SoundsComplete
        );
        assert_eq!(
            combined(EndOfTurnCue::Question, 0.9),
            EndOfTurnCue::SoundsComplete
        );
        assert_eq!(
            combined(EndOfTurnCue::Plain, 0.05),
            EndOfTurnCue::SoundsUnfinished
        );
        // The words of a question outweigh a voice that sounds unfinished.
        assert_eq!(
            combined(EndOfTurnCue::Question, 0.05),
            EndOfTurnCue::Question
        );
        // In between: the words decide.
        assert_eq!(combined(EndOfTurnCue::Plain, 0.4), EndOfTurnCue::Plain);
        for long in [EndOfTurnCue::Digits, EndOfTurnCue::Hesitation] {
            assert_eq!(combined(long, 0.99), long);
            assert_eq!(combined(long, 0.01), long);
        }
        assert_eq!(
            combined_cue(EndOfTurnCue::Plain, None, &config),
            EndOfTurnCue::Plain
        );
        // By default the sound only ever lengthens the wait.
        let defaults = TurnTakingConfig::default();
        assert_eq!(
            combined_cue(EndOfTurnCue::Plain, Some(0.99), &defaults),
            EndOfTurnCue::Plain
        );
        assert_eq!(
            combined_cue(EndOfTurnCue::Plain, Some(0.01), &defaults),
            EndOfTurnCue::SoundsUnfinished
        );
        assert!(
            hangover_ms(EndOfTurnCue::SoundsComplete, &config)
                < hangover_ms(EndOfTurnCue::Question, &config)
        );
        assert!(
            hangover_ms(EndOfTurnCue::SoundsUnfinished, &config)
                > hangover_ms(EndOfTurnCue::Plain, &config)
        );
    }

    #[test]
    fn each_cue_maps_to_its_configured_hangover() {
        let config = TurnTakingConfig::default();
        assert_eq!(hangover_ms(EndOfTurnCue::Question, &config), 300);
        assert_eq!(hangover_ms(EndOfTurnCue::Plain, &config), 500);
        assert_eq!(hangover_ms(EndOfTurnCue::Hesitation, &config), 1200);
        assert_eq!(hangover_ms(EndOfTurnCue::Digits, &config), 2000);
    }
}
