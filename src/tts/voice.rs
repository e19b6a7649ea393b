//! The voice trait every synthesiser implements.

use std::path::PathBuf;

/// Synthesised speech: 16 kHz mono samples.
#[derive(Debug, Clone, Default)]
pub struct Speech {
    pub samples: Vec<i16>,
}

/// Quieter than this (≈ -40 dBFS) at the start of a sentence is the voice's lead-in silence.
const LEAD_SILENCE_LEVEL: u16 = 300;
/// Lead-in kept before the first audible sample (the onset is not clipped).
const LEAD_KEPT_MS: u32 = 10;

impl Speech {
    /// Speech from a voice's samples, its lead-in silence cut to `LEAD_KEPT_MS`: a voice's
    /// silence before the first word (≈ 45-55 ms for the Piper voices here) is waited for by
    /// the caller on every answer. All silence stays silence (an empty sentence is kept).
    pub fn from_voice(mut samples: Vec<i16>) -> Speech {
        let kept = (hotline_audio::SAMPLE_RATE * LEAD_KEPT_MS / 1000) as usize;
        if let Some(first_audible) = samples
            .iter()
            .position(|s| s.unsigned_abs() > LEAD_SILENCE_LEVEL)
        {
            samples.drain(..first_audible.saturating_sub(kept));
        }
        Speech { samples }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lead_in_silence_is_cut_to_ten_ms_and_the_rest_is_kept() {
        let mut samples = vec![0i16; 800]; // 50 ms of silence
        samples.extend([20, -40, 5000, -5000, 0, 0]);
        let speech = Speech::from_voice(samples);
        // 10 ms (160 samples) kept before the first sample above the level.
        assert_eq!(speech.samples.len(), 160 + 4);
        assert_eq!(speech.samples[160], 5000);
        assert_eq!(speech.samples[158..160], [20, -40]);
        assert_eq!(speech.samples[0], 0);

        let silence = Speech::from_voice(vec![0; 320]);
        assert_eq!(silence.samples.len(), 320);
        let onset = Speech::from_voice(vec![9000, 0]);
        assert_eq!(onset.samples, vec![9000, 0]);
    }
}
