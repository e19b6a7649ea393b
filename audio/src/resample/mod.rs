//! Sample-rate conversion with rubato 5: [`StreamingResampler`] for the channel edges (one
//! 20 ms chunk in, one 20 ms chunk out, state kept between chunks, no allocation per chunk)
//! and [`resample_buffer`] for whole clips (WAV files, TTS output), delay-compensated.

mod error;
mod sample_format;
mod streaming;
mod whole_buffer;

pub use error::ResampleError;
pub use sample_format::{f32_to_i16, i16_to_f32};
pub use streaming::StreamingResampler;
pub use whole_buffer::{resample_buffer, resample_buffer_f32};
