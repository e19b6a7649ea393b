//! Piper neural voices (VITS in ONNX) through piper-rs, resampled to the engine's 16 kHz.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::{Speech, TtsError, Voice};

/// One Piper model. ONNX sessions are not shared between threads, so synthesis is serialised
/// per voice; load the voice once per process.
pub struct PiperVoice {
    name: String,
    piper: Mutex<piper_rs::Piper>,
}

impl PiperVoice {
    /// Loads `model` (`.onnx`) and its `.onnx.json`, its sentences computed on `threads`
    /// threads (at least 1). The onnxruntime library must have been initialised first
    /// (`hotline_audio::vad::init_onnx_runtime`, done by `engine::load_voices`).
    pub fn load(model: &Path, threads: usize) -> Result<Self, TtsError> {
        if !model.is_file() {
            return Err(TtsError::VoiceMissing(model.to_path_buf()));
        }
        let config_file = config_path(model);
        if !config_file.is_file() {
            return Err(TtsError::VoiceConfigMissing(config_file));
        }
        let load_error = |reason: String| TtsError::VoiceLoad {
            path: model.to_path_buf(),
            reason,
        };
        let config: piper_rs::ModelConfig = std::fs::read(&config_file)
            .map_err(|e| e.to_string())
            .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
            .map_err(|e| TtsError::VoiceLoad {
                path: config_file.clone(),
                reason: e,
            })?;
        // onnxruntime's own default is a thread per core that spins between runs, burning CPU
        // the calls need; the worker threads here sleep as soon as a sentence is done.
        let session = ort::session::Session::builder()
            .map_err(|e| load_error(e.to_string()))?
            .with_intra_threads(threads.max(1))
            .map_err(|e| load_error(e.to_string()))?
            .with_inter_threads(1)
            .map_err(|e| load_error(e.to_string()))?
            .with_intra_op_spinning(false)
            .map_err(|e| load_error(e.to_string()))?
            .with_inter_op_spinning(false)
            .map_err(|e| load_error(e.to_string()))?
            .commit_from_file(model)
            .map_err(|e| load_error(e.to_string()))?;
        let piper = piper_rs::Piper::from_session(session, config);
        let stem = model
            .file_stem()
            .map_or_else(|| "piper".into(), |s| s.to_string_lossy().into_owned());
        Ok(Self {
            name: format!("piper:{stem}"),
            piper: Mutex::new(piper),
        })
    }
}

fn config_path(model: &Path) -> PathBuf {
    let mut name = model.as_os_str().to_owned();
    name.push(".json");
    PathBuf::from(name)
}

impl Voice for PiperVoice {
    fn name(&self) -> &str {
        &self.name
    }

    fn synthesize(&self, text: &str) -> Result<Speech, TtsError> {
        let (samples, rate) = {
            let mut piper = self.piper.lock().unwrap_or_else(|e| e.into_inner());
            piper
                .create(text, false, None, None, None, None)
                .map_err(|e| TtsError::Piper(e.to_string()))?
        };
        let pcm: Vec<i16> = samples
            .iter()
            .map(|&s| (s.clamp(-1.0, 1.0) * 32767.0) as i16)
            .collect();
        let samples =
            hotline_audio::resample::resample_buffer(&pcm, rate, hotline_audio::SAMPLE_RATE)
                .map_err(|e| TtsError::Piper(format!("resampling {rate} Hz output: {e}")))?;
        Ok(Speech::from_voice(samples))
    }
}
