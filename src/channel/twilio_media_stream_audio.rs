//! The media stream's edge: base64 μ-law at 8 kHz in and out, the engine's 16 kHz [`Frame`]s
//! inside. Each direction resamples once, with a streaming resampler that keeps its filter
//! state across the call's 20 ms chunks.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hotline_audio::resample::{ResampleError, StreamingResampler};
use hotline_audio::{FRAME_MS, Frame, g711};

/// The telephony rate of Twilio media streams.
pub const MEDIA_STREAM_RATE: u32 = 8000;
/// Samples in 20 ms at 8 kHz.
const CHUNK_8K: usize = (MEDIA_STREAM_RATE * FRAME_MS / 1000) as usize;

/// Why an inbound payload could not be used.
#[derive(Debug, thiserror::Error)]
pub enum MediaPayloadError {
    #[error("media payload is not valid base64 ({0}): the sender must base64-encode μ-law bytes")]
    Base64(#[from] base64::DecodeError),
    #[error("resampling failed: {0}")]
    Resample(#[from] ResampleError),
}

/// Caller audio: base64 μ-law payloads of any length → 20 ms frames at 16 kHz.
#[derive(Debug)]
pub struct InboundAudio {
    resampler: StreamingResampler,
    pending: Vec<i16>,
    codes: Vec<u8>,
}

impl InboundAudio {
    pub fn new() -> Result<Self, ResampleError> {
        Ok(Self {
            resampler: StreamingResampler::to_engine_rate(MEDIA_STREAM_RATE)?,
            pending: Vec::with_capacity(CHUNK_8K * 4),
            codes: Vec::with_capacity(CHUNK_8K * 4),
        })
    }

    /// Decodes one payload; calls `on_frame` for every complete 20 ms frame it completes.
    pub fn push_payload(
        &mut self,
        payload: &str,
        mut on_frame: impl FnMut(Frame),
    ) -> Result<(), MediaPayloadError> {
        self.codes.clear();
        BASE64.decode_vec(payload.trim(), &mut self.codes)?;
        let start = self.pending.len();
        self.pending.resize(start + self.codes.len(), 0);
        g711::mulaw_decode_slice(&self.codes, &mut self.pending[start..]);
        let mut used = 0;
        while self.pending.len() - used >= CHUNK_8K {
            let frame = self
                .resampler
                .to_frame(&self.pending[used..used + CHUNK_8K])?;
            used += CHUNK_8K;
            on_frame(frame);
        }
        self.pending.drain(..used);
        Ok(())
    }
}

/// Bot audio: 16 kHz frames → base64 μ-law 8 kHz payloads of 20 ms.
#[derive(Debug)]
pub struct OutboundAudio {
    resampler: StreamingResampler,
    samples: [i16; CHUNK_8K],
    codes: [u8; CHUNK_8K],
}

impl OutboundAudio {
    pub fn new() -> Result<Self, ResampleError> {
        Ok(Self {
            resampler: StreamingResampler::from_engine_rate(MEDIA_STREAM_RATE)?,
            samples: [0; CHUNK_8K],
            codes: [0; CHUNK_8K],
        })
    }

    /// The payload for one frame.
    pub fn encode(&mut self, frame: &Frame) -> Result<String, ResampleError> {
        self.resampler.from_frame(frame, &mut self.samples)?;
        g711::mulaw_encode_slice(&self.samples, &mut self.codes);
        Ok(BASE64.encode(self.codes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone_8k(samples: usize, hz: f32) -> Vec<i16> {
        (0..samples)
            .map(|i| ((i as f32 * hz * std::f32::consts::TAU / 8000.0).sin() * 8000.0) as i16)
            .collect()
    }

    fn payload(samples: &[i16]) -> String {
        let mut codes = vec![0u8; samples.len()];
        g711::mulaw_encode_slice(samples, &mut codes);
        BASE64.encode(codes)
    }

    #[test]
    fn payloads_of_any_length_become_whole_frames() {
        let mut inbound = InboundAudio::new().unwrap();
        let tone = tone_8k(800, 440.0);
        let mut frames = Vec::new();
        // 100 ms in uneven pieces: 5 frames, none lost, none invented.
        for piece in [&tone[..100], &tone[100..420], &tone[420..800]] {
            inbound
                .push_payload(&payload(piece), |f| frames.push(f))
                .unwrap();
        }
        assert_eq!(frames.len(), 5);
        // After the resampler's delay the tone comes through at its level.
        let level = frames[4].dbfs();
        assert!(level > -18.0 && level < -12.0, "level {level}");
    }

    #[test]
    fn bad_base64_is_an_error() {
        let mut inbound = InboundAudio::new().unwrap();
        let err = inbound.push_payload("not base64!", |_| {}).unwrap_err();
        assert!(err.to_string().contains("base64"), "{err}");
    }

    #[test]
    fn round_trip_keeps_the_tone() {
        let mut outbound = OutboundAudio::new().unwrap();
        let mut inbound = InboundAudio::new().unwrap();
        let tone: Vec<i16> = (0..3200)
            .map(|i| ((i as f32 * 440.0 * std::f32::consts::TAU / 16000.0).sin() * 8000.0) as i16)
            .collect();
        let mut back = Vec::new();
        for chunk in tone.chunks(320) {
            let frame = Frame::from_slice(chunk).unwrap();
            let payload = outbound.encode(&frame).unwrap();
            assert_eq!(BASE64.decode(&payload).unwrap().len(), 160);
            inbound.push_payload(&payload, |f| back.push(f)).unwrap();
        }
        assert_eq!(back.len(), 10);
        let level = back[9].dbfs();
        assert!(level > -18.0 && level < -12.0, "level {level}");
        assert!(Frame::silence().dbfs() < -100.0);
        let silent = outbound.encode(&Frame::silence()).unwrap();
        assert!(!silent.is_empty());
    }
}
