//! Why the Silero VAD model could not be loaded or run.

use std::path::PathBuf;

/// A Silero VAD failure.
#[derive(Debug, thiserror::Error)]
pub enum VadError {
    /// [`init_onnx_runtime`](super::init_onnx_runtime) has not been called in this process.
    #[error(
        "ONNX Runtime is not loaded: call `init_onnx_runtime(path to libonnxruntime.so)` before \
         creating a SileroVad"
    )]
    OnnxRuntimeNotLoaded,
    /// No model file at the path.
    #[error(
        "Silero VAD model not found at {path}: download silero_vad.onnx (v5 or v6, e.g. from the PyPI `silero-vad` package, silero_vad/data/silero_vad.onnx) and put it there"
    )]
    ModelNotFound {
        /// The path given.
        path: PathBuf,
    },
    /// ONNX Runtime could not load the file as a model.
    #[error(
        "cannot load the Silero VAD model {path}: {reason}; the file may be damaged: download silero_vad.onnx again"
    )]
    ModelLoad {
        /// The path given.
        path: PathBuf,
        /// ONNX Runtime's reason.
        reason: String,
    },
    /// The model does not have Silero v5/v6's inputs and outputs.
    #[error(
        "{path} is not a Silero VAD v5/v6 model (expected inputs input, state, sr and outputs \
         output, stateN; found {found}): use silero_vad.onnx from silero-vad 5.0 or newer"
    )]
    UnexpectedModel {
        /// The path given.
        path: PathBuf,
        /// The names found.
        found: String,
    },
    /// Running the model failed.
    #[error("Silero VAD inference failed: {reason}")]
    Inference {
        /// ONNX Runtime's reason.
        reason: String,
    },
}

impl From<ort::Error> for VadError {
    fn from(error: ort::Error) -> Self {
        Self::Inference {
            reason: error.to_string(),
        }
    }
}
