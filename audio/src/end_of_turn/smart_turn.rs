//! `SmartTurnModel`: whether a caller who just paused has finished their turn, judged from the
//! sound of the last 8 s (intonation, a trailing "and…", a breath before the next digit group)
//! by the Smart Turn v3 model (BSD-2-Clause, Pipecat), through ONNX Runtime.
//!
//! One run reads the log-mel features of [`smart_turn_features`] and gives the probability
//! that the turn is complete; it takes ≈ 80 ms of one core here, far less than the
//! Whisper decodes that would otherwise be needed to read the same cue from the words.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::Tensor;

use super::log_mel::{MEL_BANDS, MEL_FRAMES, WINDOW_SAMPLES, smart_turn_features};
use crate::onnx_sessions::SessionPool;
use crate::resample::i16_to_f32;
use crate::vad::onnx_runtime_library;

const INPUT: &str = "input_features";

/// Why the end-of-turn model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum SmartTurnError {
    /// ONNX Runtime was not loaded in this process first.
    #[error(
        "ONNX Runtime is not loaded: call `init_onnx_runtime(path to libonnxruntime.so)` before \
         loading the end-of-turn model"
    )]
    OnnxRuntimeNotLoaded,
    /// No model file at the path.
    #[error(
        "end-of-turn model not found at {path}: run `hotline models fetch smart-turn-v3` (it \
         comes from the PyPI `pipecat-ai` wheel, pipecat/audio/turn/smart_turn/data/\
         smart-turn-v3.2-cpu.onnx), or set [call.turn] end_of_turn_model = \"none\""
    )]
    ModelNotFound {
        /// The path given.
        path: PathBuf,
    },
    /// ONNX Runtime could not load the file, or it is not a Smart Turn v3 model.
    #[error(
        "cannot load the end-of-turn model {path}: {reason}; fetch smart-turn-v3.2-cpu.onnx again \
         with `hotline models fetch smart-turn-v3`"
    )]
    ModelLoad {
        /// The path given.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Running the model failed.
    #[error("end-of-turn model inference failed: {reason}")]
    Inference {
        /// ONNX Runtime's reason.
        reason: String,
    },
}

impl From<ort::Error> for SmartTurnError {
    fn from(error: ort::Error) -> Self {
        Self::Inference {
            reason: error.to_string(),
        }
    }
}

/// The loaded Smart Turn v3 model: a few sessions shared by every call.
pub struct SmartTurnModel {
    sessions: SessionPool,
}

impl std::fmt::Debug for SmartTurnModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmartTurnModel")
            .field("sessions", &self.sessions.len())
            .finish()
    }
}

impl SmartTurnModel {
    /// Load `smart-turn-v3.x` (ONNX) into `sessions` sessions (at least one; one per core
    /// serves every call). [`init_onnx_runtime`](crate::vad::init_onnx_runtime) must have been
    /// called first.
    pub fn load(path: impl AsRef<Path>, sessions: usize) -> Result<Arc<Self>, SmartTurnError> {
        let path = path.as_ref();
        if onnx_runtime_library().is_none() {
            return Err(SmartTurnError::OnnxRuntimeNotLoaded);
        }
        if !path.is_file() {
            return Err(SmartTurnError::ModelNotFound {
                path: path.to_path_buf(),
            });
        }
        let sessions = (0..sessions.max(1))
            .map(|_| load_session(path))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Arc::new(Self {
            sessions: SessionPool::new(sessions),
        }))
    }

    /// The probability (0..1) that the caller's turn is complete at the end of `audio`
    /// (16 kHz mono, the utterance so far; only its last 8 s are read).
    pub fn completion_probability(&self, audio: &[i16]) -> Result<f32, SmartTurnError> {
        let tail = &audio[audio.len().saturating_sub(WINDOW_SAMPLES)..];
        let samples: Vec<f32> = tail.iter().map(|&s| i16_to_f32(s)).collect();
        let features = smart_turn_features(&samples);
        let input = Tensor::from_array(([1usize, MEL_BANDS, MEL_FRAMES], features))?;
        let mut session = self.sessions.session();
        let outputs = session.run(ort::inputs![INPUT => input])?;
        let (_, values) = outputs[0].try_extract_tensor::<f32>()?;
        let value = values
            .first()
            .copied()
            .ok_or_else(|| SmartTurnError::Inference {
                reason: "the model returned an empty output".into(),
            })?;
        Ok(value.clamp(0.0, 1.0))
    }
}

fn load_session(path: &Path) -> Result<Session, SmartTurnError> {
    let error = |e: &dyn std::fmt::Display| SmartTurnError::ModelLoad {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let session = Session::builder()
        .map_err(|e| error(&e))?
        .with_intra_threads(1)
        .map_err(|e| error(&e))?
        .with_inter_threads(1)
        .map_err(|e| error(&e))?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(|e| error(&e))?
        .commit_from_file(path)
        .map_err(|e| error(&e))?;
    let has_input = session.inputs().iter().any(|i| i.name() == INPUT);
    if !has_input || session.outputs().len() != 1 {
        return Err(SmartTurnError::ModelLoad {
            path: path.to_path_buf(),
            reason: format!(
                "not a Smart Turn v3 model (expected one input `{INPUT}` [batch, 80, 800] and one \
                 output; found inputs {:?}, {} outputs)",
                session
                    .inputs()
                    .iter()
                    .map(|i| i.name().to_string())
                    .collect::<Vec<_>>(),
                session.outputs().len()
            ),
        });
    }
    Ok(session)
}
