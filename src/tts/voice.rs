//! The voice trait every synthesiser implements.

use std::path::PathBuf;

/// Synthesised speech: 16 kHz mono samples.
#[derive(Debug, Clone, Default)]
pub struct Speech {
    pub samples: Vec<i16>,
}

impl Speech {
    pub fn duration_ms(&self) -> u64 {
        self.samples.len() as u64 * 1000 / u64::from(hotline_audio::SAMPLE_RATE)
    }
}

/// A text-to-speech voice. Implementations are called from the blocking pool and must be safe
/// to share between calls (serialise internally when the engine underneath is not).
pub trait Voice: Send + Sync {
    /// A name for logs and JSON output, e.g. `piper:en_US-joe-medium`.
    fn name(&self) -> &str;
    /// Speaks one sentence.
    fn synthesize(&self, text: &str) -> Result<Speech, TtsError>;
}

#[derive(Debug, thiserror::Error)]
pub enum TtsError {
    #[error(
        "Piper voice file {0} not found: run `hotline models fetch` or point [tts] at an existing .onnx voice"
    )]
    VoiceMissing(PathBuf),
    #[error(
        "Piper voice config {0} not found: a Piper voice needs its .onnx.json beside the .onnx"
    )]
    VoiceConfigMissing(PathBuf),
    #[error("cannot load Piper voice {path}: {reason}")]
    VoiceLoad { path: PathBuf, reason: String },
    #[error("onnxruntime: {0}")]
    Runtime(String),
    #[error("Piper synthesis failed: {0}")]
    Piper(String),
    #[error(
        "espeak-ng is not installed ({0}): install it with `apt-get install espeak-ng` (make setup does)"
    )]
    EspeakMissing(String),
    #[error("espeak-ng failed for voice {voice}: {reason}")]
    Espeak { voice: String, reason: String },
    #[error("invalid voice setting {spec:?}: {reason}")]
    BadSpec { spec: String, reason: String },
}
