//! `SileroVad`: streaming speech probability for 20 ms frames with the Silero VAD v5/v6 model.
//!
//! The model reads 512-sample chunks (32 ms at 16 kHz), each preceded by the last 64 samples of
//! the previous chunk (the "context" Silero v5+ expects), and carries an LSTM state
//! (2 × 1 × 128) from chunk to chunk. Frames are 320 samples, so frames are buffered into
//! chunks here, and state and context persist across calls: unlike whisper.cpp's VAD, which
//! resets its state on every call, this is right for live audio. One session per call, run on
//! one thread.

use std::path::Path;
use std::sync::Arc;

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::Tensor;

use super::error::VadError;
use super::onnx_runtime::onnx_runtime_library;
use crate::frame::{Frame, SAMPLE_RATE};
use crate::onnx_sessions::SessionPool;
use crate::resample::i16_to_f32;

/// Samples the model reads per run at 16 kHz (32 ms).
pub const SILERO_CHUNK_SAMPLES: usize = 512;
/// Samples of the previous chunk prepended to each chunk at 16 kHz.
pub const SILERO_CONTEXT_SAMPLES: usize = 64;
const STATE_LEN: usize = 2 * 128;

/// The loaded Silero model: a few ONNX sessions shared by every stream. A run takes
/// ~0.1 ms; the sessions hold no stream state (that travels in each [`SileroVad`]), so a
/// handful serve any number of calls, instead of one ~10 MiB session built per call.
pub struct SileroModel {
    sessions: SessionPool,
}

impl std::fmt::Debug for SileroModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SileroModel")
            .field("sessions", &self.sessions.len())
            .finish()
    }
}

/// A Silero VAD stream: its state, on a shared [`SileroModel`]. One per call.
pub struct SileroVad {
    model: Arc<SileroModel>,
    /// [1, 64 + 512]: context followed by the chunk.
    input: Tensor<f32>,
    /// [2, 1, 128] LSTM state, fed back after every chunk.
    state: Tensor<f32>,
    sample_rate: Tensor<i64>,
    pending: [f32; SILERO_CHUNK_SAMPLES],
    pending_len: usize,
    probability: f32,
    chunks: u64,
    /// Chunks with an RMS level below this (linear, on the -1..1 scale) are silence without
    /// running the model; None: every chunk runs.
    energy_gate: Option<f32>,
    /// The last chunk was gated: the next one that runs starts from a fresh state.
    gated: bool,
}

impl std::fmt::Debug for SileroVad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SileroVad")
            .field("probability", &self.probability)
            .field("chunks", &self.chunks)
            .finish()
    }
}

fn load_error(path: &Path, error: impl std::fmt::Display) -> VadError {
    VadError::ModelLoad {
        path: path.to_path_buf(),
        reason: error.to_string(),
    }
}

impl SileroModel {
    /// Load `silero_vad.onnx` (v5 or v6) into `sessions` ONNX sessions (at least one; about
    /// one per core serves every call). [`init_onnx_runtime`](super::init_onnx_runtime) must
    /// have been called first.
    pub fn load(model_path: impl AsRef<Path>, sessions: usize) -> Result<Arc<Self>, VadError> {
        let path = model_path.as_ref();
        if onnx_runtime_library().is_none() {
            return Err(VadError::OnnxRuntimeNotLoaded);
        }
        if !path.is_file() {
            return Err(VadError::ModelNotFound {
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

    /// One model run on a free session (or the next one, waiting): the speech probability,
    /// with the next LSTM state written to `next_state`.
    fn run(
        &self,
        input: &Tensor<f32>,
        state: &Tensor<f32>,
        sample_rate: &Tensor<i64>,
        next_state: &mut [f32],
    ) -> Result<f32, VadError> {
        let mut session = self.sessions.session();
        let outputs = session.run(ort::inputs![
            "input" => input,
            "state" => state,
            "sr" => sample_rate,
        ])?;
        let (_, probability) = outputs["output"].try_extract_tensor::<f32>()?;
        let probability = probability
            .first()
            .copied()
            .ok_or_else(|| VadError::Inference {
                reason: "the model returned an empty output".into(),
            })?;
        let (_, state_n) = outputs["stateN"].try_extract_tensor::<f32>()?;
        if state_n.len() != next_state.len() {
            return Err(VadError::Inference {
                reason: format!(
                    "stateN has {} values, expected {}",
                    state_n.len(),
                    next_state.len()
                ),
            });
        }
        next_state.copy_from_slice(state_n);
        Ok(probability)
    }
}

/// One ONNX session of the Silero model, its inputs and outputs checked.
fn load_session(path: &Path) -> Result<Session, VadError> {
    let session = Session::builder()
        .map_err(|e| load_error(path, e))?
        .with_intra_threads(1)
        .map_err(|e| load_error(path, e))?
        .with_inter_threads(1)
        .map_err(|e| load_error(path, e))?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(|e| load_error(path, e))?
        .commit_from_file(path)
        .map_err(|e| load_error(path, e))?;
    let has = |names: &mut dyn Iterator<Item = &str>, wanted: &[&str]| {
        let names: Vec<&str> = names.collect();
        wanted.iter().all(|w| names.contains(w))
    };
    let inputs_ok = has(
        &mut session.inputs().iter().map(|i| i.name()),
        &["input", "state", "sr"],
    );
    let outputs_ok = has(
        &mut session.outputs().iter().map(|o| o.name()),
        &["output", "stateN"],
    );
    if !inputs_ok || !outputs_ok {
        let names = |outlets: &[ort::value::Outlet]| {
            outlets
                .iter()
                .map(|o| o.name().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(VadError::UnexpectedModel {
            path: path.to_path_buf(),
            found: format!(
                "inputs {}; outputs {}",
                names(session.inputs()),
                names(session.outputs())
            ),
        });
    }
    Ok(session)
}

impl SileroVad {
    /// Load `silero_vad.onnx` (v5 or v6) for this stream alone.
    /// [`init_onnx_runtime`](super::init_onnx_runtime) must have been called first.
    pub fn new(model_path: impl AsRef<Path>) -> Result<Self, VadError> {
        Self::with_model(SileroModel::load(model_path, 1)?)
    }

    /// A new stream on a shared model.
    pub fn with_model(model: Arc<SileroModel>) -> Result<Self, VadError> {
        let tensor_error = |e: ort::Error| VadError::Inference {
            reason: format!("cannot allocate the VAD's tensors: {e}"),
        };
        let input = Tensor::from_array((
            [1usize, SILERO_CONTEXT_SAMPLES + SILERO_CHUNK_SAMPLES],
            vec![0f32; SILERO_CONTEXT_SAMPLES + SILERO_CHUNK_SAMPLES],
        ))
        .map_err(tensor_error)?;
        let state =
            Tensor::from_array(([2usize, 1, 128], vec![0f32; STATE_LEN])).map_err(tensor_error)?;
        let sample_rate =
            Tensor::from_array(((), vec![i64::from(SAMPLE_RATE)])).map_err(tensor_error)?;
        Ok(Self {
            model,
            input,
            state,
            sample_rate,
            pending: [0.0; SILERO_CHUNK_SAMPLES],
            pending_len: 0,
            probability: 0.0,
            chunks: 0,
            energy_gate: None,
            gated: false,
        })
    }

    /// Chunks quieter than `dbfs` (RMS) count as silence without running the model: a line
    /// that carries only its noise floor costs nothing. The first chunk above the gate after
    /// gated ones starts from a fresh state, as a new stream does. None: no gate.
    pub fn set_energy_gate_dbfs(&mut self, dbfs: Option<f32>) {
        self.energy_gate = dbfs.map(|db| 10f32.powf(db / 20.0));
    }

    /// Feed one 20 ms frame; returns the speech probability (0..1) of the most recent
    /// complete 32 ms chunk, which includes this frame's audio when the frame completed a chunk
    /// (3 frames in 5 do), or the previous value otherwise. 0.0 before the first chunk.
    pub fn push_frame(&mut self, frame: &Frame) -> Result<f32, VadError> {
        self.push_samples(frame.as_slice())
    }

    /// Feed any number of 16 kHz samples; returns the probability as [`Self::push_frame`].
    pub fn push_samples(&mut self, mut samples: &[i16]) -> Result<f32, VadError> {
        while !samples.is_empty() {
            let take = (SILERO_CHUNK_SAMPLES - self.pending_len).min(samples.len());
            for (slot, &sample) in self.pending[self.pending_len..self.pending_len + take]
                .iter_mut()
                .zip(&samples[..take])
            {
                *slot = i16_to_f32(sample);
            }
            self.pending_len += take;
            samples = &samples[take..];
            if self.pending_len == SILERO_CHUNK_SAMPLES {
                self.run_chunk()?;
                self.pending_len = 0;
            }
        }
        Ok(self.probability)
    }

    fn run_chunk(&mut self) -> Result<(), VadError> {
        if let Some(gate) = self.energy_gate {
            let energy = self.pending.iter().map(|s| s * s).sum::<f32>();
            let rms = (energy / SILERO_CHUNK_SAMPLES as f32).sqrt();
            if rms < gate {
                self.gated = true;
                self.probability = 0.0;
                let (_, input) = self.input.extract_tensor_mut();
                input.copy_within(SILERO_CHUNK_SAMPLES.., 0);
                input[SILERO_CONTEXT_SAMPLES..].copy_from_slice(&self.pending);
                return Ok(());
            }
            if std::mem::take(&mut self.gated) {
                self.state.extract_tensor_mut().1.fill(0.0);
            }
        }
        {
            let (_, input) = self.input.extract_tensor_mut();
            // The previous chunk's last 64 samples are still at the end of the buffer: move them
            // to the front as this chunk's context, then write the new chunk after them.
            input.copy_within(SILERO_CHUNK_SAMPLES.., 0);
            input[SILERO_CONTEXT_SAMPLES..].copy_from_slice(&self.pending);
        }
        let mut next_state = [0f32; STATE_LEN];
        let probability =
            self.model
                .run(&self.input, &self.state, &self.sample_rate, &mut next_state)?;
        self.state
            .extract_tensor_mut()
            .1
            .copy_from_slice(&next_state);
        self.probability = probability;
        self.chunks += 1;
        Ok(())
    }

    /// The latest speech probability.
    pub fn probability(&self) -> f32 {
        self.probability
    }

    /// Model runs so far (32 ms each).
    pub fn chunks_processed(&self) -> u64 {
        self.chunks
    }

    /// Forget the stream (state, context, buffered samples) for a new one; keeps the session.
    pub fn reset(&mut self) {
        self.input.extract_tensor_mut().1.fill(0.0);
        self.state.extract_tensor_mut().1.fill(0.0);
        self.pending_len = 0;
        self.probability = 0.0;
        self.chunks = 0;
        self.gated = false;
    }
}
