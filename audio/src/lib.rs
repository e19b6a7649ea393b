//! hotline-audio: the audio building blocks of the hotline engine, with no knowledge of it.
//!
//! - [`Frame`]: 20 ms of 16 kHz mono i16, the one unit of audio the engine passes around;
//!   [`FrameAssembler`] and [`split_into_frames`] cut other buffers into frames.
//! - [`level`]: RMS / dBFS / peak; [`tone`]: the share of one frequency (Goertzel).
//! - [`allocation_count`]: a counting allocator for tests that prove a path allocates nothing.
//! - [`g711`]: μ-law and A-law tables.
//! - [`opus`]: Opus at 16 kHz (libopus): frames to packets and back, with loss concealment.
//! - [`resample`]: a streaming 20 ms-chunk resampler for channel edges (8/48 kHz ↔ 16 kHz) and a
//!   whole-buffer resampler for files and TTS output.
//! - [`wav`]: read any WAV into 16 kHz mono, write WAVs.
//! - [`end_of_turn`]: the Smart Turn model (ONNX): has a caller who paused finished their turn?
//! - [`vad`]: Silero VAD through ONNX Runtime (streaming, state carried across frames) and a
//!   pure-logic segmenter turning per-frame probabilities into speech start/end events.

pub mod allocation_count;
pub mod end_of_turn;
mod frame;
mod frame_assembler;
pub mod g711;
pub mod level;
mod onnx_sessions;
pub mod opus;
pub mod resample;
pub mod tone;
pub mod vad;
pub mod wav;

pub use frame::{
    FRAME_MS, FRAME_SAMPLES, Frame, FrameLengthError, SAMPLE_RATE, frames_needed, join_frames,
    split_into_frames,
};
pub use frame_assembler::FrameAssembler;
