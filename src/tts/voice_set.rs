//! The voices of one engine, one per language, loaded once at start from `[tts]`.

use std::path::PathBuf;
use std::sync::Arc;

use super::{EspeakVoice, PiperVoice, TtsError, Voice, VoiceSpec};
use crate::config::TtsConfig;
use crate::lang::Lang;

/// A voice per language.
#[derive(Clone)]
pub struct VoiceSet {
    zh: Arc<dyn Voice>,
    yue: Arc<dyn Voice>,
    en: Arc<dyn Voice>,
}

impl VoiceSet {
    /// Loads the configured voices. `resolve_piper` turns a Piper model id or path into the
    /// `.onnx` path. A missing Mandarin Piper voice falls back to `zh_fallback` with a warning
    /// (the Mandarin Piper voice is only published upstream, not in package registries).
    pub fn load(
        config: &TtsConfig,
        resolve_piper: impl Fn(&str) -> PathBuf,
    ) -> Result<Self, TtsError> {
        let load = |setting: &str| -> Result<Arc<dyn Voice>, TtsError> {
            match VoiceSpec::parse(setting)? {
                VoiceSpec::Piper(model) => Ok(Arc::new(PiperVoice::load(
                    &resolve_piper(&model),
                    config.piper_threads,
                )?)),
                VoiceSpec::Espeak(voice) => Ok(Arc::new(EspeakVoice::new(&voice)?)),
            }
        };
        let zh = match load(&config.zh) {
            Ok(voice) => voice,
            Err(TtsError::VoiceMissing(path)) => {
                tracing::warn!(
                    missing = %path.display(),
                    fallback = %config.zh_fallback,
                    "Mandarin Piper voice not installed; Mandarin answers use the fallback voice"
                );
                load(&config.zh_fallback)?
            }
            Err(e) => return Err(e),
        };
        let en = load(&config.en)?;
        let yue = load(&config.yue)?;
        Ok(Self { zh, yue, en })
    }

    /// Builds a set from voices already made (tests, custom engines).
    pub fn from_voices(zh: Arc<dyn Voice>, yue: Arc<dyn Voice>, en: Arc<dyn Voice>) -> Self {
        Self { zh, yue, en }
    }

    pub fn voice(&self, lang: Lang) -> &Arc<dyn Voice> {
        match lang {
            Lang::Zh => &self.zh,
            Lang::Yue => &self.yue,
            Lang::En => &self.en,
        }
    }
}
