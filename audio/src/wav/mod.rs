//! WAV files in and out. Reading accepts any common WAV (any rate, any channel count, 8/16/24/32-bit
//! integer PCM, 32/64-bit float, G.711 μ-law/A-law) and returns 16 kHz mono i16, the engine's
//! format; writing produces 16-bit PCM mono at 16 kHz or any given rate.

mod encoding;
mod error;
mod read;
mod riff_header;
mod write;

pub use encoding::{WavEncoding, WavFormat};
pub use error::WavError;
pub use read::{WavAudio, decode_wav_16k_mono, read_wav_16k_mono};
pub use write::{encode_wav_mono, write_wav_16k_mono, write_wav_mono};
