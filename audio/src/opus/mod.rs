//! Opus (RFC 6716) at the engine's rate: 20 ms, 16 kHz mono [`Frame`](crate::Frame)s in and
//! out, packets on the other side.
//!
//! libopus encodes and decodes at 16 kHz itself (a peer's 48 kHz or stereo packets decode
//! straight to 16 kHz mono), so an Opus channel edge needs no resampler. Nothing here knows
//! about RTP or SDP: the channel wraps the packets in whatever transport it speaks.

mod decoder;
mod encoder;
mod error;

pub use decoder::OpusFrameDecoder;
pub use encoder::{OpusEncoderSettings, OpusFrameEncoder};
pub use error::OpusError;

/// Room for any one encoded 20 ms packet: RFC 6716 caps a frame at 1275 bytes (plus its
/// table-of-contents byte); the bitrates used for speech produce 30-120 bytes.
pub const MAX_PACKET_BYTES: usize = 1500;

/// Samples per channel of the longest Opus packet (120 ms) at 16 kHz.
pub const MAX_PACKET_SAMPLES: usize = 1920;
