//! Voice activity detection: [`SileroVad`] turns 20 ms frames into speech probabilities with
//! the Silero ONNX model (state carried across calls), and [`VadSegmenter`] turns probabilities
//! into speech start/end events with hysteresis, minimum speech and hangover.

mod error;
mod onnx_runtime;
mod segmenter;
mod silero;

pub use error::VadError;
pub use onnx_runtime::{OnnxRuntimeError, init_onnx_runtime, onnx_runtime_library};
pub use segmenter::{VadConfig, VadEvent, VadSegmenter};
pub use silero::{SILERO_CHUNK_SAMPLES, SILERO_CONTEXT_SAMPLES, SileroModel, SileroVad};
