//! Opus packets → engine frames: any packet duration (2.5-120 ms), mono or stereo, made at any
//! rate, decoded straight to 16 kHz mono and cut into 20 ms frames. A lost packet is rebuilt
//! from the next packet's in-band FEC when it has some, else by libopus's loss concealment.

use ::opus::{Channels, Decoder};

use super::MAX_PACKET_SAMPLES;
use super::error::OpusError;
use crate::{FRAME_SAMPLES, Frame, SAMPLE_RATE};

/// Concealment works in multiples of 2.5 ms (40 samples at 16 kHz).
const CONCEAL_STEP: usize = 40;

/// Decodes one peer's stream; keeps the state a speech decoder needs between packets.
pub struct OpusFrameDecoder {
    decoder: Decoder,
    /// The last packet's samples, decoded (reused: no allocation per packet).
    decoded: Box<[i16; MAX_PACKET_SAMPLES]>,
    /// Samples of a frame still being filled (packets shorter than 20 ms, or not aligned).
    partial: [i16; FRAME_SAMPLES],
    partial_len: usize,
    /// Duration of the last good packet in samples: what one lost packet stands for.
    packet_samples: usize,
}

impl OpusFrameDecoder {
    /// A decoder producing 16 kHz mono.
    pub fn new() -> Result<OpusFrameDecoder, OpusError> {
        let decoder =
            Decoder::new(SAMPLE_RATE, Channels::Mono).map_err(|source| OpusError::Create {
                what: "decoder",
                source,
            })?;
        Ok(OpusFrameDecoder {
            decoder,
            decoded: Box::new([0; MAX_PACKET_SAMPLES]),
            partial: [0; FRAME_SAMPLES],
            partial_len: 0,
            packet_samples: FRAME_SAMPLES,
        })
    }

    /// Decodes one packet, calling `on_frame` for every 20 ms frame completed; returns how
    /// many. A malformed packet is an error and changes nothing: conceal it instead.
    pub fn decode(
        &mut self,
        packet: &[u8],
        on_frame: impl FnMut(Frame),
    ) -> Result<usize, OpusError> {
        if packet.is_empty() {
            return Err(OpusError::EmptyPacket);
        }
        let samples = self
            .decoder
            .decode(packet, &mut self.decoded[..], false)
            .map_err(|source| OpusError::BadPacket {
                len: packet.len(),
                source,
            })?;
        let samples = samples.min(MAX_PACKET_SAMPLES);
        if samples > 0 {
            self.packet_samples = samples;
        }
        Ok(self.emit(samples, on_frame))
    }

    /// Stands in for one lost packet (as long as the last good one): rebuilt from
    /// `next_packet`'s in-band FEC when given (libopus falls back to concealment when it
    /// carries none), else concealed. Returns the frames completed.
    pub fn conceal(
        &mut self,
        next_packet: Option<&[u8]>,
        on_frame: impl FnMut(Frame),
    ) -> Result<usize, OpusError> {
        let samples = (self.packet_samples / CONCEAL_STEP).max(1) * CONCEAL_STEP;
        let out = &mut self.decoded[..samples];
        let recovered = match next_packet.filter(|p| !p.is_empty()) {
            Some(next) => self.decoder.decode(next, out, true).ok(),
            None => None,
        };
        let produced = match recovered {
            Some(n) => n,
            None => self
                .decoder
                .decode(&[], out, false)
                .map_err(|source| OpusError::BadPacket { len: 0, source })?,
        };
        Ok(self.emit(produced.min(samples), on_frame))
    }

    /// Forgets the stream (a new peer stream or codec change).
    pub fn reset(&mut self) {
        // Resetting a valid decoder cannot fail; a failure would leave the old state, which
        // only costs a few milliseconds of blended audio.
        let _ = self.decoder.reset_state();
        self.partial_len = 0;
        self.packet_samples = FRAME_SAMPLES;
    }

    fn emit(&mut self, samples: usize, mut on_frame: impl FnMut(Frame)) -> usize {
        let mut frames = 0;
        let mut rest = &self.decoded[..samples];
        while !rest.is_empty() {
            let take = (FRAME_SAMPLES - self.partial_len).min(rest.len());
            self.partial[self.partial_len..self.partial_len + take].copy_from_slice(&rest[..take]);
            self.partial_len += take;
            rest = &rest[take..];
            if self.partial_len == FRAME_SAMPLES {
                on_frame(Frame::from_array(self.partial));
                self.partial_len = 0;
                frames += 1;
            }
        }
        frames
    }
}
