//! How a caller sounds, from their words: positive, neutral, negative or angry, with a score.
//!
//! Lexicon-based, per language, on the knowledge base's folded text (Cantonese forms to
//! written Chinese, Traditional to Simplified, lower case), so 好扯火 / 氣死 / 气死 / 唔開心
//! need one entry each. Text is cut into units (a Han character, or a Latin word) and
//! punctuation; lexicon entries are unit sequences, matched longest first (不满意 before 满意).
//! Intensifiers (好, 非常, 太, very, so ...) in the few units before a sentiment word make it
//! count 1.5 times; a negator (不, 没, not, never ...) turns a negative word nearly neutral
//! (不生气, "not bad") and a positive one negative ("not happy"). Modifiers stop at punctuation.
//!
//! The raw sum decides the label: an angry word (or two intensified negatives) is angry,
//! one negative word is negative. Repeated exclamation marks strengthen negative feeling.
//! `score` is the raw sum squashed into -1..1 (`raw / (1 + |raw|)`).

use std::collections::HashMap;

use serde::Serialize;

use crate::dialogue::language::match_text::TextAnalyzer;

/// A turn's emotional tone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EmotionLabel {
    Positive,
    Neutral,
    Negative,
    Angry,
}

impl EmotionLabel {
    pub fn as_str(self) -> &'static str {
        match self {
            EmotionLabel::Positive => "positive",
            EmotionLabel::Neutral => "neutral",
            EmotionLabel::Negative => "negative",
            EmotionLabel::Angry => "angry",
        }
    }

    /// Negative or angry: the turns the distress rule counts.
    pub fn is_negative(self) -> bool {
        matches!(self, EmotionLabel::Negative | EmotionLabel::Angry)
    }
}

/// The tone of one turn: its label and a score in -1..1 (negative = unhappy).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Emotion {
    pub label: EmotionLabel,
    pub score: f32,
}

/// Raw sums at or below which a turn is angry / negative, at or above which it is positive.
const ANGRY_AT: f32 = -2.0;
const NEGATIVE_AT: f32 = -0.9;
const POSITIVE_AT: f32 = 0.9;
/// Units before a sentiment word in which intensifiers and negators count.
const MODIFIER_WINDOW: usize = 4;
const INTENSITY: f32 = 1.5;

const ANGRY: f32 = -2.0;
const NEGATIVE: f32 = -1.0;
const POSITIVE: f32 = 1.0;

/// Sentiment words (folded Simplified Chinese, or lower-case English) and their weights.
const SENTIMENT: &[(&str, f32)] = &[
    // Chinese, angry.
    ("嬲", ANGRY),
    ("扯火", ANGRY),
    ("火滚", ANGRY),
    ("火大", ANGRY),
    ("激气", ANGRY),
    ("激死", ANGRY),
    ("气死", ANGRY),
    ("气炸", ANGRY),
    ("投诉", ANGRY),
    ("垃圾", ANGRY),
    ("离谱", ANGRY),
    ("骗子", ANGRY),
    ("骗人", ANGRY),
    ("骗钱", ANGRY),
    ("被骗", ANGRY),
    ("呃人", ANGRY),
    ("呃钱", ANGRY),
    ("黑店", ANGRY),
    ("废物", ANGRY),
    ("混蛋", ANGRY),
    ("王八", ANGRY),
    ("他妈", ANGRY),
    ("妈的", ANGRY),
    ("顶你", ANGRY),
    ("仆街", ANGRY),
    ("痴线", ANGRY),
    ("黐线", ANGRY),
    ("有没有搞错", ANGRY),
    ("搞什么鬼", ANGRY),
    ("什么鬼", ANGRY),
    ("忍无可忍", ANGRY),
    ("受够", ANGRY),
    ("岂有此理", ANGRY),
    ("欺人太甚", ANGRY),
    ("过分", ANGRY),
    ("去死", ANGRY),
    ("坑人", ANGRY),
    ("坑爹", ANGRY),
    ("举报", ANGRY),
    ("消委会", ANGRY),
    ("消协", ANGRY),
    ("可恶", ANGRY),
    ("无良", ANGRY),
    ("烂透", ANGRY),
    ("差劲", ANGRY),
    // Words that hold a sentiment character but say nothing: 麻烦你 (please), 好唔好 (A-not-A).
    ("麻烦", 0.0),
    ("好不好", 0.0),
    ("好不好用", 0.0),
    // Chinese, negative.
    ("失望", NEGATIVE),
    ("不满", NEGATIVE),
    ("不满意", NEGATIVE),
    ("不开心", NEGATIVE),
    ("不高兴", NEGATIVE),
    ("生气", NEGATIVE),
    ("烦", NEGATIVE),
    ("着急", NEGATIVE),
    ("急死", NEGATIVE),
    ("好急", NEGATIVE),
    ("担心", NEGATIVE),
    ("焦虑", NEGATIVE),
    ("好差", NEGATIVE),
    ("很差", NEGATIVE),
    ("太差", NEGATIVE),
    ("真差", NEGATIVE),
    ("差评", NEGATIVE),
    ("慢死", NEGATIVE),
    ("太慢", NEGATIVE),
    ("好慢", NEGATIVE),
    ("很慢", NEGATIVE),
    ("这么慢", NEGATIVE),
    ("等了很久", NEGATIVE),
    ("等了好久", NEGATIVE),
    ("没人理", NEGATIVE),
    ("糟糕", NEGATIVE),
    ("倒霉", NEGATIVE),
    ("无语", NEGATIVE),
    ("头痛", NEGATIVE),
    ("头疼", NEGATIVE),
    ("恶心", NEGATIVE),
    ("讨厌", NEGATIVE),
    ("难用", NEGATIVE),
    ("不好用", NEGATIVE),
    ("好麻烦", NEGATIVE),
    ("太麻烦", NEGATIVE),
    ("郁闷", NEGATIVE),
    ("伤心", NEGATIVE),
    ("难过", NEGATIVE),
    ("崩溃", NEGATIVE),
    ("不合理", NEGATIVE),
    ("不靠谱", NEGATIVE),
    // Chinese, positive.
    ("谢谢", POSITIVE),
    ("多谢", POSITIVE),
    ("感谢", POSITIVE),
    ("满意", POSITIVE),
    ("很好", POSITIVE),
    ("不错", POSITIVE),
    ("开心", POSITIVE),
    ("高兴", POSITIVE),
    ("太好了", POSITIVE),
    ("好极了", POSITIVE),
    ("赞", POSITIVE),
    ("棒", POSITIVE),
    ("好彩", POSITIVE),
    ("方便", POSITIVE),
    ("完美", POSITIVE),
    ("喜欢", POSITIVE),
    // English, angry.
    ("angry", ANGRY),
    ("furious", ANGRY),
    ("livid", ANGRY),
    ("outraged", ANGRY),
    ("pissed", ANGRY),
    ("mad", ANGRY),
    ("ridiculous", ANGRY),
    ("useless", ANGRY),
    ("terrible", ANGRY),
    ("awful", ANGRY),
    ("horrible", ANGRY),
    ("pathetic", ANGRY),
    ("disgusting", ANGRY),
    ("unacceptable", ANGRY),
    ("outrageous", ANGRY),
    ("scam", ANGRY),
    ("scams", ANGRY),
    ("scammer", ANGRY),
    ("scammers", ANGRY),
    ("scammed", ANGRY),
    ("fraud", ANGRY),
    ("cheat", ANGRY),
    ("cheated", ANGRY),
    ("cheating", ANGRY),
    ("ripoff", ANGRY),
    ("rip off", ANGRY),
    ("ripped off", ANGRY),
    ("rubbish", ANGRY),
    ("garbage", ANGRY),
    ("trash", ANGRY),
    ("crap", ANGRY),
    ("worst", ANGRY),
    ("hate", ANGRY),
    ("idiot", ANGRY),
    ("idiots", ANGRY),
    ("stupid", ANGRY),
    ("incompetent", ANGRY),
    ("fed up", ANGRY),
    ("sick of", ANGRY),
    ("sick and tired", ANGRY),
    ("wtf", ANGRY),
    ("damn", ANGRY),
    ("shit", ANGRY),
    ("fuck", ANGRY),
    ("fucking", ANGRY),
    ("bullshit", ANGRY),
    ("complain", ANGRY),
    ("complaint", ANGRY),
    ("complaints", ANGRY),
    ("disgrace", ANGRY),
    ("liar", ANGRY),
    ("liars", ANGRY),
    // English, negative.
    ("disappointed", NEGATIVE),
    ("disappointing", NEGATIVE),
    ("upset", NEGATIVE),
    ("annoyed", NEGATIVE),
    ("annoying", NEGATIVE),
    ("frustrated", NEGATIVE),
    ("frustrating", NEGATIVE),
    ("unhappy", NEGATIVE),
    ("bad", NEGATIVE),
    ("poor", NEGATIVE),
    ("slow", NEGATIVE),
    ("worried", NEGATIVE),
    ("anxious", NEGATIVE),
    ("confused", NEGATIVE),
    ("sad", NEGATIVE),
    ("unfair", NEGATIVE),
    ("sucks", NEGATIVE),
    ("hopeless", NEGATIVE),
    ("nightmare", NEGATIVE),
    ("unhelpful", NEGATIVE),
    ("lousy", NEGATIVE),
    // English, positive.
    ("thanks", POSITIVE),
    ("thank", POSITIVE),
    ("great", POSITIVE),
    ("good", POSITIVE),
    ("excellent", POSITIVE),
    ("happy", POSITIVE),
    ("perfect", POSITIVE),
    ("helpful", POSITIVE),
    ("love", POSITIVE),
    ("awesome", POSITIVE),
    ("appreciate", POSITIVE),
    ("wonderful", POSITIVE),
    ("nice", POSITIVE),
    ("fantastic", POSITIVE),
    ("amazing", POSITIVE),
    ("brilliant", POSITIVE),
    ("pleased", POSITIVE),
    ("satisfied", POSITIVE),
];

const INTENSIFIERS: &[&str] = &[
    "好",
    "很",
    "非常",
    "太",
    "超",
    "超级",
    "真",
    "真的",
    "真是",
    "极",
    "极其",
    "特别",
    "十分",
    "好鬼",
    "劲",
    "实在",
    "这么",
    "那么",
    "简直",
    "完全",
    "根本",
    "very",
    "so",
    "really",
    "extremely",
    "totally",
    "absolutely",
    "completely",
    "super",
    "too",
    "bloody",
    "such",
    "incredibly",
    "utterly",
];

const NEGATORS: &[&str] = &[
    "不", "没", "没有", "别", "无", "未", "不是", "并不", "not", "no", "never", "without", "hardly",
];

#[derive(Debug, Clone, Copy)]
enum Entry {
    Sentiment(f32),
    Intensifier,
    Negator,
}

/// Scores the tone of caller turns.
#[derive(Debug)]
pub struct EmotionDetector {
    lexicon: HashMap<Vec<String>, Entry>,
    longest: usize,
}

impl Default for EmotionDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl EmotionDetector {
    pub fn new() -> Self {
        let mut lexicon = HashMap::new();
        let entries = NEGATORS
            .iter()
            .map(|w| (*w, Entry::Negator))
            .chain(INTENSIFIERS.iter().map(|w| (*w, Entry::Intensifier)))
            .chain(SENTIMENT.iter().map(|(w, s)| (*w, Entry::Sentiment(*s))));
        for (text, entry) in entries {
            let units: Vec<String> = units(text).into_iter().flatten().collect();
            lexicon.insert(units, entry);
        }
        let longest = lexicon.keys().map(Vec::len).max().unwrap_or(1);
        Self { lexicon, longest }
    }

    /// The tone of `text` (any of the three languages, any script).
    pub fn detect(&self, analyzer: &TextAnalyzer, text: &str) -> Emotion {
        let folded = analyzer.fold(text);
        let units = units(&folded);
        let mut raw = 0.0;
        let mut negative = 0.0;
        let mut modifiers: Vec<(usize, Entry)> = Vec::new();
        let mut i = 0;
        while i < units.len() {
            if units[i].is_none() {
                modifiers.clear();
                i += 1;
                continue;
            }
            let found = (1..=self.longest.min(units.len() - i))
                .rev()
                .find_map(|len| {
                    let key: Option<Vec<String>> = units[i..i + len].iter().cloned().collect();
                    self.lexicon.get(&key?).map(|entry| (len, *entry))
                });
            let Some((len, entry)) = found else {
                i += 1;
                continue;
            };
            let literal_rubbish = {
                let word: String = units[i..i + len].iter().flatten().cloned().collect();
                is_rubbish_word(&word) && talks_of_rubbish_collection(&folded)
            };
            match entry {
                Entry::Intensifier | Entry::Negator => modifiers.push((i, entry)),
                // "垃圾几点收", "trash pickup": the thing itself, not an insult.
                Entry::Sentiment(_) if literal_rubbish => {}
                Entry::Sentiment(weight) => {
                    let near = modifiers
                        .iter()
                        .filter(|(at, _)| *at + MODIFIER_WINDOW >= i)
                        .map(|(_, e)| e);
                    let (mut intensified, mut negated) = (false, false);
                    for modifier in near {
                        match modifier {
                            Entry::Intensifier => intensified = true,
                            Entry::Negator => negated = true,
                            Entry::Sentiment(_) => {}
                        }
                    }
                    let mut value = weight;
                    if intensified {
                        value *= INTENSITY;
                    }
                    if negated {
                        value *= if weight < 0.0 { -0.3 } else { -1.0 };
                    }
                    raw += value;
                    if value < 0.0 {
                        negative += value;
                    }
                    modifiers.clear();
                }
            }
            i += len;
        }
        let exclamations = text.chars().filter(|c| matches!(c, '!' | '！')).count();
        if exclamations >= 2 && negative < 0.0 {
            raw += 0.3 * negative;
        }
        let label = if raw <= ANGRY_AT {
            EmotionLabel::Angry
        } else if raw <= NEGATIVE_AT {
            EmotionLabel::Negative
        } else if raw >= POSITIVE_AT {
            EmotionLabel::Positive
        } else {
            EmotionLabel::Neutral
        };
        Emotion {
            label,
            score: raw / (1.0 + raw.abs()),
        }
    }
}

/// Han characters and Latin words as units; punctuation as `None` (a clause break).
fn units(text: &str) -> Vec<Option<String>> {
    let text = text.replace(['’', '‘'], "'").replace("n't", " not");
    let mut units = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, units: &mut Vec<Option<String>>| {
        if !word.is_empty() {
            units.push(Some(std::mem::take(word)));
        }
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '\'' {
            word.push(c.to_ascii_lowercase());
            continue;
        }
        flush(&mut word, &mut units);
        if c.is_alphanumeric() {
            units.push(Some(c.to_string()));
        } else if !c.is_whitespace() && c != '-' {
            units.push(None);
        }
    }
    flush(&mut word, &mut units);
    units
}

/// Words that insult as "rubbish" but also name the rubbish itself.
fn is_rubbish_word(word: &str) -> bool {
    matches!(word, "垃圾" | "rubbish" | "trash" | "garbage")
}

/// The turn is about rubbish as a thing: collected, thrown away, recycled.
fn talks_of_rubbish_collection(folded: &str) -> bool {
    [
        "收", "倒", "扔", "丢", "掉", "回收", "分类", "桶", "房", "站", "清", "pick", "collect",
        "bin", "recycl", "dispos", "chute", "day", "time", "throw",
    ]
    .iter()
    .any(|w| folded.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(text: &str) -> EmotionLabel {
        let analyzer = TextAnalyzer::shared().unwrap_or_else(|e| panic!("{e}"));
        EmotionDetector::new().detect(&analyzer, text).label
    }

    #[test]
    fn angry_words_in_each_language_and_script() {
        for text in [
            "你哋搞成咁，我好嬲",
            "真係好扯火",
            "我要投訴你哋",
            "什么垃圾服务",
            "气死我了",
            "氣死我",
            "太離譜啦",
            "你們就是騙子",
            "This is ridiculous",
            "You are useless",
            "Terrible service",
            "I'm so angry right now",
        ] {
            assert_eq!(label(text), EmotionLabel::Angry, "{text}");
        }
    }

    #[test]
    fn negative_positive_and_neutral() {
        assert_eq!(label("我有点失望"), EmotionLabel::Negative);
        assert_eq!(label("I'm disappointed"), EmotionLabel::Negative);
        assert_eq!(label("唔開心"), EmotionLabel::Negative);
        assert_eq!(label("多謝晒"), EmotionLabel::Positive);
        assert_eq!(
            label("thank you so much, that's great"),
            EmotionLabel::Positive
        );
        assert_eq!(label("运费怎么算"), EmotionLabel::Neutral);
        assert_eq!(label("How do I track my order?"), EmotionLabel::Neutral);
    }

    #[test]
    fn intensifiers_strengthen_and_negation_turns() {
        let analyzer = TextAnalyzer::shared().unwrap_or_else(|e| panic!("{e}"));
        let detector = EmotionDetector::new();
        let plain = detector.detect(&analyzer, "I'm disappointed").score;
        let strong = detector.detect(&analyzer, "I'm very disappointed").score;
        assert!(strong < plain, "{strong} {plain}");
        // Two intensified complaints add up to anger.
        assert_eq!(label("太慢了，真的很失望"), EmotionLabel::Angry);
        assert_eq!(label("我没有生气"), EmotionLabel::Neutral);
        assert_eq!(label("not bad"), EmotionLabel::Neutral);
        assert_eq!(label("I'm not happy with this"), EmotionLabel::Negative);
        assert_eq!(label("我不满意"), EmotionLabel::Negative);
        // Negation does not cross punctuation.
        assert_eq!(label("不，谢谢"), EmotionLabel::Positive);
    }

    #[test]
    fn exclamations_strengthen_negative_feeling() {
        let analyzer = TextAnalyzer::shared().unwrap_or_else(|e| panic!("{e}"));
        let detector = EmotionDetector::new();
        let calm = detector.detect(&analyzer, "好慢");
        let loud = detector.detect(&analyzer, "好慢！！！");
        assert_eq!(calm.label, EmotionLabel::Negative);
        assert!(loud.score < calm.score, "{loud:?} {calm:?}");
    }

    #[test]
    fn polite_and_question_forms_are_neutral() {
        assert_eq!(label("麻烦你帮我查一下订单"), EmotionLabel::Neutral);
        assert_eq!(label("呢部機好唔好用"), EmotionLabel::Neutral);
    }
}
