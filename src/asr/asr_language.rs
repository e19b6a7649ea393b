//! Which language Whisper is asked to decode in, and how that maps onto a model's tokens.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::lang::{Lang, UnknownLang};

/// The language requested for a decode: one of the engine's languages, or detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AsrLanguage {
    Zh,
    Yue,
    En,
    Auto,
}

impl AsrLanguage {
    pub fn code(self) -> &'static str {
        match self {
            AsrLanguage::Zh => "zh",
            AsrLanguage::Yue => "yue",
            AsrLanguage::En => "en",
            AsrLanguage::Auto => "auto",
        }
    }

    /// The engine language this request stands for, if it is not detection.
    pub fn lang(self) -> Option<Lang> {
        match self {
            AsrLanguage::Zh => Some(Lang::Zh),
            AsrLanguage::Yue => Some(Lang::Yue),
            AsrLanguage::En => Some(Lang::En),
            AsrLanguage::Auto => None,
        }
    }
}

impl From<Lang> for AsrLanguage {
    fn from(lang: Lang) -> Self {
        match lang {
            Lang::Zh => AsrLanguage::Zh,
            Lang::Yue => AsrLanguage::Yue,
            Lang::En => AsrLanguage::En,
        }
    }
}

impl fmt::Display for AsrLanguage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for AsrLanguage {
    type Err = UnknownLang;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().eq_ignore_ascii_case("auto") {
            return Ok(AsrLanguage::Auto);
        }
        s.parse::<Lang>()
            .map(AsrLanguage::from)
            .map_err(|_| UnknownLang(format!("{s} (or auto)")))
    }
}

/// Maps a Whisper language code (as detected or decoded) to an engine language.
/// Whisper codes outside zh/yue/en are reported as `None` (the caller decides what to do).
pub fn lang_from_whisper_code(code: &str) -> Option<Lang> {
    match code {
        "zh" => Some(Lang::Zh),
        "yue" => Some(Lang::Yue),
        "en" => Some(Lang::En),
        _ => None,
    }
}
