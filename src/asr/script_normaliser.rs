//! Whisper flips between Simplified and Traditional characters from one utterance to the next.
//! Transcripts are normalised to one script per language (Mandarin → Simplified, Cantonese →
//! Hong Kong Traditional by default) so retrieval, logs and the review UI see one form.

use ferrous_opencc::OpenCC;
use ferrous_opencc::config::BuiltinConfig;
use serde::{Deserialize, Serialize};

/// The script a Chinese transcript is written in after normalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChineseScript {
    /// Simplified characters (mainland standard).
    Simplified,
    /// Traditional characters with Hong Kong variants.
    TraditionalHk,
    /// Leave Whisper's output as it is.
    Keep,
}

/// Characters that must survive Simplified → HK Traditional conversion unchanged: both OpenCC
/// s2hk tables turn the Cantonese particle 晒 ("all/completely") into 曬 ("to sun-dry").
pub const DEFAULT_CANTONESE_KEEP: &str = "晒";

/// Converts transcripts to a target script.
pub struct ScriptNormaliser {
    to_simplified: OpenCC,
    to_hk: OpenCC,
    cantonese_keep: Vec<char>,
}

/// OpenCC's built-in dictionaries failed to load (a broken build of ferrous-opencc).
#[derive(Debug, thiserror::Error)]
#[error("cannot load the OpenCC {config} dictionary ({reason}); reinstall/rebuild hotline")]
pub struct ScriptTablesError {
    config: &'static str,
    reason: String,
}

impl ScriptNormaliser {
    /// Builds both converters. `cantonese_keep` lists characters kept as written when converting
    /// to HK Traditional (see [`DEFAULT_CANTONESE_KEEP`]).
    pub fn new(cantonese_keep: &str) -> Result<Self, ScriptTablesError> {
        let load = |config: BuiltinConfig, name: &'static str| {
            OpenCC::from_config(config).map_err(|e| ScriptTablesError {
                config: name,
                reason: e.to_string(),
            })
        };
        Ok(Self {
            to_simplified: load(BuiltinConfig::T2s, "t2s")?,
            to_hk: load(BuiltinConfig::S2hk, "s2hk")?,
            cantonese_keep: cantonese_keep.chars().collect(),
        })
    }

    /// Rewrites `text` in `script`.
    pub fn normalise(&self, text: &str, script: ChineseScript) -> String {
        match script {
            ChineseScript::Keep => text.to_string(),
            ChineseScript::Simplified => self.to_simplified.convert(text),
            ChineseScript::TraditionalHk => self.to_hong_kong(text),
        }
    }

    fn to_hong_kong(&self, text: &str) -> String {
        let converted = self.to_hk.convert(text);
        if self.cantonese_keep.is_empty() {
            return converted;
        }
        // OpenCC maps these phrases character for character; when the lengths agree, put the
        // protected characters back where the source had them.
        let source: Vec<char> = text.chars().collect();
        let mut out: Vec<char> = converted.chars().collect();
        if source.len() == out.len() {
            for (o, s) in out.iter_mut().zip(&source) {
                if self.cantonese_keep.contains(s) {
                    *o = *s;
                }
            }
        }
        out.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normaliser() -> ScriptNormaliser {
        ScriptNormaliser::new(DEFAULT_CANTONESE_KEEP).expect("built-in tables")
    }

    #[test]
    fn traditional_mandarin_becomes_simplified() {
        let n = normaliser();
        assert_eq!(
            n.normalise("這個訂單幾時發貨", ChineseScript::Simplified),
            "这个订单几时发货"
        );
    }

    #[test]
    fn simplified_cantonese_becomes_hong_kong_traditional_but_keeps_sai() {
        let n = normaliser();
        let out = n.normalise("我已经食晒啦，这个系我嘅", ChineseScript::TraditionalHk);
        assert!(out.contains('晒'), "{out}");
        assert!(out.starts_with("我已經"), "{out}");
    }

    #[test]
    fn keep_leaves_text_alone() {
        let n = normaliser();
        assert_eq!(n.normalise("這个", ChineseScript::Keep), "這个");
    }
}
