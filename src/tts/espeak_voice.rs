//! espeak-ng voices: robotic, but the only Cantonese synthesis available offline, and the
//! Mandarin fallback when no Piper Mandarin voice is installed. Runs the `espeak-ng` program
//! (Debian package) per sentence: it is not thread-safe as a library, and a process per
//! sentence keeps calls independent.

use std::io::Write;
use std::process::{Command, Stdio};

use super::{Speech, TtsError, Voice};

pub struct EspeakVoice {
    name: String,
    voice: String,
    /// Words per minute.
    rate_wpm: u32,
}

impl EspeakVoice {
    /// Checks that espeak-ng runs and knows `voice`.
    pub fn new(voice: &str) -> Result<Self, TtsError> {
        let this = Self {
            name: format!("espeak:{voice}"),
            voice: voice.to_string(),
            // Chinese voices count each syllable as a word: speak them faster than English.
            rate_wpm: if matches!(voice, "yue" | "cmn" | "zh") {
                230
            } else {
                165
            },
        };
        this.synthesize("1")?;
        Ok(this)
    }
}

impl Voice for EspeakVoice {
    fn name(&self) -> &str {
        &self.name
    }

    fn synthesize(&self, text: &str) -> Result<Speech, TtsError> {
        let mut child = Command::new("espeak-ng")
            .args([
                "-v",
                &self.voice,
                "-s",
                &self.rate_wpm.to_string(),
                "--stdout",
                "--stdin",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| TtsError::EspeakMissing(e.to_string()))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(text.as_bytes())
                .map_err(|e| self.failed(e.to_string()))?;
        }
        let output = child
            .wait_with_output()
            .map_err(|e| self.failed(e.to_string()))?;
        if !output.status.success() {
            return Err(self.failed(String::from_utf8_lossy(&output.stderr).trim().to_string()));
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stderr.contains("voice does not exist") || stderr.contains("Failed to read voice") {
            return Err(self.failed(format!("unknown voice ({})", stderr.trim())));
        }
        let wav = with_actual_lengths(output.stdout);
        let audio = hotline_audio::wav::decode_wav_16k_mono(&wav, "espeak-ng output")
            .map_err(|e| self.failed(e.to_string()))?;
        Ok(Speech::from_voice(audio.samples))
    }
}

/// espeak-ng streams its WAV to stdout before it knows the length, so its header claims
/// ~2 GB of audio. Rewrite the RIFF and data sizes to what actually arrived.
fn with_actual_lengths(mut wav: Vec<u8>) -> Vec<u8> {
    if wav.len() < 12 || &wav[0..4] != b"RIFF" || &wav[8..12] != b"WAVE" {
        return wav;
    }
    let riff_size = (wav.len() - 8) as u32;
    wav[4..8].copy_from_slice(&riff_size.to_le_bytes());
    let mut at = 12;
    while at + 8 <= wav.len() {
        let size =
            u32::from_le_bytes([wav[at + 4], wav[at + 5], wav[at + 6], wav[at + 7]]) as usize;
        if &wav[at..at + 4] == b"data" {
            let actual = (wav.len() - at - 8) as u32;
            wav[at + 4..at + 8].copy_from_slice(&actual.to_le_bytes());
            break;
        }
        at += 8 + size + (size & 1);
    }
    wav
}

impl EspeakVoice {
    fn failed(&self, reason: String) -> TtsError {
        TtsError::Espeak {
            voice: self.voice.clone(),
            reason,
        }
    }
}
