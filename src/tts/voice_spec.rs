//! How a voice is named in configuration: `piper:MODEL` or `espeak:VOICE`.

use super::TtsError;

/// A parsed voice setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VoiceSpec {
    /// A Piper voice: a model id from the manifest or a path to an `.onnx` file.
    Piper(String),
    /// An espeak-ng voice name (`yue`, `cmn`, `en-us`, ...).
    Espeak(String),
}

impl VoiceSpec {
    pub fn parse(spec: &str) -> Result<Self, TtsError> {
        let bad = |reason: &str| TtsError::BadSpec {
            spec: spec.to_string(),
            reason: reason.to_string(),
        };
        let (kind, name) = spec
            .split_once(':')
            .ok_or_else(|| bad("expected `piper:MODEL` or `espeak:VOICE`"))?;
        let name = name.trim();
        if name.is_empty() {
            return Err(bad("the part after the colon is empty"));
        }
        match kind.trim() {
            "piper" => Ok(VoiceSpec::Piper(name.to_string())),
            "espeak" => Ok(VoiceSpec::Espeak(name.to_string())),
            other => Err(bad(&format!(
                "unknown voice kind `{other}`: use piper or espeak"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_kinds_and_rejects_others() {
        assert_eq!(
            VoiceSpec::parse("piper:en_US-joe-medium").unwrap(),
            VoiceSpec::Piper("en_US-joe-medium".into())
        );
        assert_eq!(
            VoiceSpec::parse("espeak:yue").unwrap(),
            VoiceSpec::Espeak("yue".into())
        );
        assert!(VoiceSpec::parse("azure:zh-HK").is_err());
        assert!(VoiceSpec::parse("piper:").is_err());
        assert!(VoiceSpec::parse("yue").is_err());
    }
}
