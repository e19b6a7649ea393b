//! The languages the engine serves, with the codes used everywhere (config, FAQ files, CLI, JSON),
//! and the text handling that is about language, not speech: [`SentenceSplitter`] cuts a reply
//! or a document into sentences (used by the dialogue engines, and so by TTS).

mod sentence_splitter;

pub use sentence_splitter::{SentenceSplitter, SplitLimits};

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// True for a Han (CJK ideograph) character: the unified block, extension A, the
/// compatibility block and the supplementary planes' extensions. The one test every part that
/// counts, splits or detects Chinese text uses.
pub fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// A caller language. Codes: `zh` (Mandarin / standard written Chinese), `yue` (Cantonese), `en`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Zh,
    Yue,
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Zh, Lang::Yue, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::Yue => "yue",
            Lang::En => "en",
        }
    }

    /// True for the two Chinese languages (Han script text, character-based matching).
    pub fn is_chinese(self) -> bool {
        matches!(self, Lang::Zh | Lang::Yue)
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A language code that is not one of `zh`, `yue`, `en`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language `{0}`: use zh (Mandarin), yue (Cantonese) or en (English)")]
pub struct UnknownLang(pub String);

impl FromStr for Lang {
    type Err = UnknownLang;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh" | "cmn" | "zh-cn" | "mandarin" => Ok(Lang::Zh),
            "yue" | "zh-hk" | "cantonese" => Ok(Lang::Yue),
            "en" | "eng" | "english" => Ok(Lang::En),
            other => Err(UnknownLang(other.to_string())),
        }
    }
}
