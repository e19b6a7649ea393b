//! G.711 at the call's edge: the phone line's 8 kHz μ-law/A-law meets the engine's 16 kHz
//! [`Frame`]s through a streaming resampler.
//!
//! Inbound: G.711 payloads of any packet size are decoded, cut into 20 ms chunks at 8 kHz and
//! resampled (stream state kept) into frames. Lost packets are concealed by repeating the last
//! frame once at half level, then silence. Outbound: one frame becomes one 160-byte payload.

use hotline_audio::Frame;
use hotline_audio::g711::G711Law;
use hotline_audio::resample::{ResampleError, StreamingResampler};

/// Samples in 20 ms at 8 kHz: one G.711 packet at ptime 20.
pub const NARROWBAND_FRAME_SAMPLES: usize = 160;

/// G.711 payloads → engine frames.
pub struct G711Inbound {
    law: G711Law,
    pending: Vec<i16>,
    decoded: Vec<i16>,
    resampler: StreamingResampler,
    last: Option<Frame>,
    concealed_in_a_row: u32,
}

impl G711Inbound {
    pub fn new(law: G711Law) -> Result<G711Inbound, ResampleError> {
        Ok(G711Inbound {
            law,
            pending: Vec::with_capacity(2 * NARROWBAND_FRAME_SAMPLES),
            decoded: Vec::with_capacity(2 * NARROWBAND_FRAME_SAMPLES),
            resampler: StreamingResampler::new(8000, hotline_audio::SAMPLE_RATE)?,
            last: None,
            concealed_in_a_row: 0,
        })
    }

    /// Decodes one packet's payload, calling `on_frame` for each complete 20 ms frame.
    pub fn decode(
        &mut self,
        payload: &[u8],
        mut on_frame: impl FnMut(Frame),
    ) -> Result<(), ResampleError> {
        self.decoded.clear();
        self.decoded.resize(payload.len(), 0);
        self.law.decode_slice(payload, &mut self.decoded);
        self.pending.extend_from_slice(&self.decoded);
        self.concealed_in_a_row = 0;
        let mut start = 0;
        while self.pending.len() - start >= NARROWBAND_FRAME_SAMPLES {
            let chunk = &self.pending[start..start + NARROWBAND_FRAME_SAMPLES];
            let frame = self.resampler.to_frame(chunk)?;
            self.last = Some(frame.clone());
            on_frame(frame);
            start += NARROWBAND_FRAME_SAMPLES;
        }
        self.pending.drain(..start);
        Ok(())
    }

    /// A frame standing in for one lost packet.
    pub fn conceal(&mut self) -> Frame {
        self.concealed_in_a_row += 1;
        match (&self.last, self.concealed_in_a_row) {
            (Some(last), 1) => {
                let mut frame = last.clone();
                for sample in frame.samples_mut() {
                    *sample /= 2;
                }
                frame
            }
            _ => Frame::silence(),
        }
    }
}

/// Engine frames → G.711 payloads.
pub struct G711Outbound {
    law: G711Law,
    narrowband: [i16; NARROWBAND_FRAME_SAMPLES],
    resampler: StreamingResampler,
}

impl G711Outbound {
    pub fn new(law: G711Law) -> Result<G711Outbound, ResampleError> {
        Ok(G711Outbound {
            law,
            narrowband: [0; NARROWBAND_FRAME_SAMPLES],
            resampler: StreamingResampler::new(hotline_audio::SAMPLE_RATE, 8000)?,
        })
    }

    /// Encodes one frame into exactly [`NARROWBAND_FRAME_SAMPLES`] bytes.
    pub fn encode(
        &mut self,
        frame: &Frame,
        payload: &mut [u8; NARROWBAND_FRAME_SAMPLES],
    ) -> Result<(), ResampleError> {
        self.resampler.from_frame(frame, &mut self.narrowband)?;
        self.law.encode_slice(&self.narrowband, payload);
        Ok(())
    }

    /// The G.711 code for digital silence (what an idle line sends).
    pub fn silence_payload(&self, payload: &mut [u8; NARROWBAND_FRAME_SAMPLES]) {
        payload.fill(self.law.encode(0));
    }

    /// Forget filter state (after a flush the next audio is unrelated to what was queued).
    pub fn reset(&mut self) {
        self.resampler.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone_8k(len: usize) -> Vec<i16> {
        (0..len)
            .map(|n| {
                (8000.0 * (2.0 * std::f64::consts::PI * 440.0 * n as f64 / 8000.0).sin()) as i16
            })
            .collect()
    }

    #[test]
    fn odd_packet_sizes_become_whole_frames() {
        let law = G711Law::MuLaw;
        let tone = tone_8k(240 * 4);
        let mut payload = vec![0u8; tone.len()];
        law.encode_slice(&tone, &mut payload);
        let mut decoder = G711Inbound::new(law).unwrap();
        let mut frames = Vec::new();
        // 30 ms packets (240 samples) → 4 packets = 120 ms = 6 frames.
        for packet in payload.chunks(240) {
            decoder.decode(packet, |f| frames.push(f)).unwrap();
        }
        assert_eq!(frames.len(), 6);
        // After the resampler's start-up delay, the tone is there at about the same level.
        let rms = frames[5].rms();
        assert!(rms > 3000.0 && rms < 8000.0, "rms {rms}");
    }

    #[test]
    fn conceal_repeats_once_at_half_level_then_silence() {
        let mut decoder = G711Inbound::new(G711Law::ALaw).unwrap();
        assert_eq!(decoder.conceal(), Frame::silence());
        let tone = tone_8k(160 * 3);
        let mut payload = vec![0u8; tone.len()];
        G711Law::ALaw.encode_slice(&tone, &mut payload);
        let mut last = None;
        decoder.decode(&payload, |f| last = Some(f)).unwrap();
        let last = last.unwrap();
        let first = decoder.conceal();
        assert!((first.rms() - last.rms() / 2.0).abs() < 50.0);
        assert_eq!(decoder.conceal(), Frame::silence());
    }

    #[test]
    fn encode_round_trips_a_tone_through_g711() {
        let mut encoder = G711Outbound::new(G711Law::MuLaw).unwrap();
        let mut decoder = G711Inbound::new(G711Law::MuLaw).unwrap();
        let mut payload = [0u8; NARROWBAND_FRAME_SAMPLES];
        let mut out = Vec::new();
        for i in 0..10 {
            let samples: Vec<i16> = (0..hotline_audio::FRAME_SAMPLES)
                .map(|n| {
                    let t = (i * hotline_audio::FRAME_SAMPLES + n) as f64 / 16000.0;
                    (6000.0 * (2.0 * std::f64::consts::PI * 500.0 * t).sin()) as i16
                })
                .collect();
            let frame = Frame::from_slice(&samples).unwrap();
            encoder.encode(&frame, &mut payload).unwrap();
            decoder.decode(&payload, |f| out.push(f)).unwrap();
        }
        assert_eq!(out.len(), 10);
        let rms = out[9].rms();
        assert!(rms > 3000.0 && rms < 5500.0, "rms {rms}");
        encoder.silence_payload(&mut payload);
        assert!(payload.iter().all(|&b| b == 0xff));
    }
}
