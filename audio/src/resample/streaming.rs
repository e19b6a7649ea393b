//! `StreamingResampler`: converts a live stream between a channel's rate and the engine's
//! 16 kHz, 20 ms at a time (G.711 at 8 kHz, Opus/WebRTC at 48 kHz).
//!
//! It wraps rubato's synchronous FFT resampler with both chunk sizes fixed to 20 ms, so every
//! call takes one 20 ms chunk and returns one 20 ms chunk. The filter state carries over between
//! calls (no clicks at chunk edges) and all buffers are allocated once, at construction. The
//! price is a fixed latency of about 10 ms (see [`StreamingResampler::delay_samples`]).

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use super::error::{ResampleError, check_rate};
use super::sample_format::{f32_to_i16, i16_to_f32};
use crate::frame::{FRAME_MS, FRAME_SAMPLES, Frame, SAMPLE_RATE};

/// A stateful rate converter taking and producing exactly 20 ms per call.
pub struct StreamingResampler {
    resampler: Fft<f32>,
    input_rate: u32,
    output_rate: u32,
    input: Vec<f32>,
    output: Vec<f32>,
}

impl std::fmt::Debug for StreamingResampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamingResampler")
            .field("input_rate", &self.input_rate)
            .field("output_rate", &self.output_rate)
            .field("delay_samples", &self.delay_samples())
            .finish()
    }
}

fn chunk_len(rate: u32) -> usize {
    (rate * FRAME_MS / 1000) as usize
}

impl StreamingResampler {
    /// A resampler from `input_rate` to `output_rate`; both must be multiples of 50 Hz so that
    /// 20 ms is a whole number of samples.
    pub fn new(input_rate: u32, output_rate: u32) -> Result<Self, ResampleError> {
        for rate in [input_rate, output_rate] {
            check_rate(rate)?;
            if rate % 50 != 0 {
                return Err(ResampleError::RateNotMultipleOf50 { rate });
            }
        }
        let input_len = chunk_len(input_rate);
        let resampler = Fft::<f32>::new(
            input_rate as usize,
            output_rate as usize,
            input_len,
            1,
            FixedSync::Both,
        )
        .map_err(|source| ResampleError::Construction {
            input_rate,
            output_rate,
            source,
        })?;
        // With FixedSync::Both and a chunk that is a multiple of the minimum FFT block (always
        // true for 20 ms at rates that are multiples of 50 Hz), one call maps 20 ms to 20 ms.
        debug_assert_eq!(resampler.input_frames_next(), input_len);
        debug_assert_eq!(resampler.output_frames_next(), chunk_len(output_rate));
        Ok(Self {
            resampler,
            input_rate,
            output_rate,
            input: vec![0.0; input_len],
            output: vec![0.0; chunk_len(output_rate)],
        })
    }

    /// A resampler from a channel's rate to the engine's 16 kHz (use with [`Self::to_frame`]).
    pub fn to_engine_rate(channel_rate: u32) -> Result<Self, ResampleError> {
        Self::new(channel_rate, SAMPLE_RATE)
    }

    /// A resampler from the engine's 16 kHz to a channel's rate (use with [`Self::from_frame`]).
    pub fn from_engine_rate(channel_rate: u32) -> Result<Self, ResampleError> {
        Self::new(SAMPLE_RATE, channel_rate)
    }

    /// Input rate in Hz.
    pub fn input_rate(&self) -> u32 {
        self.input_rate
    }

    /// Output rate in Hz.
    pub fn output_rate(&self) -> u32 {
        self.output_rate
    }

    /// Samples taken per call (20 ms at the input rate).
    pub fn input_chunk_len(&self) -> usize {
        self.input.len()
    }

    /// Samples produced per call (20 ms at the output rate).
    pub fn output_chunk_len(&self) -> usize {
        self.output.len()
    }

    /// Latency in output samples: an event in the input appears this much later in the output.
    pub fn delay_samples(&self) -> usize {
        self.resampler.output_delay()
    }

    /// Latency in milliseconds.
    pub fn delay_ms(&self) -> f32 {
        self.delay_samples() as f32 * 1000.0 / self.output_rate as f32
    }

    /// Resample one 20 ms chunk. `input` must hold [`Self::input_chunk_len`] samples and
    /// `output` exactly [`Self::output_chunk_len`].
    pub fn process(&mut self, input: &[i16], output: &mut [i16]) -> Result<(), ResampleError> {
        if input.len() != self.input.len() {
            return Err(ResampleError::WrongInputLength {
                expected: self.input.len(),
                actual: input.len(),
            });
        }
        if output.len() != self.output.len() {
            return Err(ResampleError::WrongOutputLength {
                expected: self.output.len(),
                actual: output.len(),
            });
        }
        for (scratch, &sample) in self.input.iter_mut().zip(input) {
            *scratch = i16_to_f32(sample);
        }
        let frames_in = self.input.len();
        let frames_out = self.output.len();
        // Wrapping the slices only stores references: nothing is allocated here.
        let adapter_in = InterleavedSlice::new(&self.input[..], 1, frames_in).map_err(|_| {
            ResampleError::WrongInputLength {
                expected: frames_in,
                actual: self.input.len(),
            }
        })?;
        let mut adapter_out = InterleavedSlice::new_mut(&mut self.output[..], 1, frames_out)
            .map_err(|_| ResampleError::WrongOutputLength {
                expected: frames_out,
                actual: frames_out,
            })?;
        self.resampler
            .process_into_buffer(&adapter_in, &mut adapter_out, None)?;
        for (sample, &scratch) in output.iter_mut().zip(&self.output) {
            *sample = f32_to_i16(scratch);
        }
        Ok(())
    }

    /// Resample 20 ms of channel audio into an engine [`Frame`] (output rate must be 16 kHz).
    pub fn to_frame(&mut self, input: &[i16]) -> Result<Frame, ResampleError> {
        if self.output_rate != SAMPLE_RATE {
            return Err(self.not_engine_rate("produce"));
        }
        let mut frame = Frame::silence();
        self.process(input, frame.samples_mut())?;
        Ok(frame)
    }

    /// Resample an engine [`Frame`] into 20 ms at the channel rate (input rate must be 16 kHz).
    pub fn from_frame(&mut self, frame: &Frame, output: &mut [i16]) -> Result<(), ResampleError> {
        if self.input_rate != SAMPLE_RATE {
            return Err(self.not_engine_rate("consume"));
        }
        debug_assert_eq!(self.input.len(), FRAME_SAMPLES);
        self.process(frame.as_slice(), output)
    }

    /// Forget the stream so far (new call, or after a gap), keeping the buffers.
    pub fn reset(&mut self) {
        self.resampler.reset();
    }

    fn not_engine_rate(&self, what: &'static str) -> ResampleError {
        ResampleError::NotEngineRate {
            input_rate: self.input_rate,
            output_rate: self.output_rate,
            what,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, hz: f64, amplitude: f64, len: usize) -> Vec<i16> {
        (0..len)
            .map(|n| {
                (amplitude * (2.0 * std::f64::consts::PI * hz * n as f64 / f64::from(rate)).sin())
                    as i16
            })
            .collect()
    }

    /// Stream `input` through in 20 ms chunks and collect the output.
    fn stream(resampler: &mut StreamingResampler, input: &[i16]) -> Vec<i16> {
        let mut output = Vec::new();
        let mut chunk_out = vec![0i16; resampler.output_chunk_len()];
        for chunk in input.chunks_exact(resampler.input_chunk_len()) {
            resampler.process(chunk, &mut chunk_out).unwrap();
            output.extend_from_slice(&chunk_out);
        }
        output
    }

    /// Amplitude of frequency `hz` in `samples` (single-bin DFT), relative to full scale.
    fn amplitude_at(samples: &[i16], rate: u32, hz: f64) -> f64 {
        let (mut re, mut im) = (0.0, 0.0);
        for (n, &s) in samples.iter().enumerate() {
            let phase = 2.0 * std::f64::consts::PI * hz * n as f64 / f64::from(rate);
            re += f64::from(s) * phase.cos();
            im += f64::from(s) * phase.sin();
        }
        2.0 * (re * re + im * im).sqrt() / samples.len() as f64
    }

    #[test]
    fn chunk_lengths_are_20_ms_on_each_side() {
        for (input_rate, output_rate, input_len, output_len) in [
            (8000, 16000, 160, 320),
            (16000, 8000, 320, 160),
            (48000, 16000, 960, 320),
            (16000, 48000, 320, 960),
            (44100, 16000, 882, 320),
            (22050, 16000, 441, 320),
        ] {
            let resampler = StreamingResampler::new(input_rate, output_rate).unwrap();
            assert_eq!(resampler.input_chunk_len(), input_len);
            assert_eq!(resampler.output_chunk_len(), output_len);
            assert!(resampler.delay_ms() <= 10.5, "{:?}", resampler);
        }
    }

    #[test]
    fn bad_rates_and_lengths_are_refused() {
        assert!(matches!(
            StreamingResampler::new(0, 16000),
            Err(ResampleError::InvalidRate { rate: 0 })
        ));
        assert!(matches!(
            StreamingResampler::new(11025, 16000),
            Err(ResampleError::RateNotMultipleOf50 { rate: 11025 })
        ));
        let mut resampler = StreamingResampler::to_engine_rate(8000).unwrap();
        let mut out = [0i16; 320];
        let err = resampler.process(&[0; 159], &mut out).unwrap_err();
        assert!(matches!(
            err,
            ResampleError::WrongInputLength {
                expected: 160,
                actual: 159
            }
        ));
        let err = resampler.process(&[0; 160], &mut out[..300]).unwrap_err();
        assert!(matches!(
            err,
            ResampleError::WrongOutputLength {
                expected: 320,
                actual: 300
            }
        ));
        assert!(matches!(
            resampler.from_frame(&Frame::silence(), &mut out),
            Err(ResampleError::NotEngineRate { .. })
        ));
        let mut down = StreamingResampler::from_engine_rate(8000).unwrap();
        assert!(down.to_frame(&[0; 320]).is_err());
    }

    #[test]
    fn tones_keep_frequency_and_level_through_each_edge() {
        for (input_rate, output_rate) in
            [(8000, 16000), (16000, 8000), (48000, 16000), (16000, 48000)]
        {
            let mut resampler = StreamingResampler::new(input_rate, output_rate).unwrap();
            let input = tone(input_rate, 1000.0, 10000.0, input_rate as usize); // 1 s
            let output = stream(&mut resampler, &input);
            assert_eq!(output.len(), output_rate as usize);
            // Skip the start-up delay, measure the 1 kHz tone and a non-tone bin.
            let steady = &output[output_rate as usize / 10..];
            let level = amplitude_at(steady, output_rate, 1000.0);
            assert!(
                (level - 10000.0).abs() < 200.0,
                "{input_rate}->{output_rate}: 1 kHz level {level}"
            );
            let leak = amplitude_at(steady, output_rate, 1500.0);
            assert!(
                leak < 50.0,
                "{input_rate}->{output_rate}: 1.5 kHz leak {leak}"
            );
        }
    }

    #[test]
    fn downsampling_filters_out_what_would_alias() {
        // Above the output Nyquist: 6 kHz at 16 kHz would fold to 2 kHz at 8 kHz; 12 kHz at
        // 48 kHz would fold to 4 kHz at 16 kHz. Both must be strongly attenuated (> 40 dB).
        for (input_rate, output_rate, hz, alias_hz) in [
            (16000, 8000, 6000.0, 2000.0),
            (48000, 16000, 12000.0, 4000.0),
        ] {
            let mut resampler = StreamingResampler::new(input_rate, output_rate).unwrap();
            let output = stream(
                &mut resampler,
                &tone(input_rate, hz, 10000.0, input_rate as usize),
            );
            let alias = amplitude_at(&output[output_rate as usize / 10..], output_rate, alias_hz);
            assert!(
                alias < 100.0,
                "{input_rate}->{output_rate}: {hz} Hz folded to {alias_hz} Hz at {alias:.0}"
            );
        }
    }

    #[test]
    fn state_carries_across_chunks_without_edge_clicks() {
        // A continuous tone streamed chunk by chunk must stay smooth at chunk boundaries:
        // the largest sample-to-sample step stays near the tone's own largest step.
        let mut resampler = StreamingResampler::to_engine_rate(8000).unwrap();
        let input = tone(8000, 440.0, 12000.0, 8000);
        let output = stream(&mut resampler, &input);
        let steady = &output[1600..];
        let max_step = steady
            .windows(2)
            .map(|w| (i32::from(w[1]) - i32::from(w[0])).abs())
            .max()
            .unwrap();
        let ideal_step = 12000.0 * 2.0 * std::f64::consts::PI * 440.0 / 16000.0;
        assert!(
            f64::from(max_step) < ideal_step * 1.1,
            "max step {max_step}, ideal {ideal_step:.0}"
        );
    }

    #[test]
    fn impulse_comes_out_after_the_reported_delay() {
        for (input_rate, output_rate) in
            [(8000, 16000), (16000, 8000), (48000, 16000), (16000, 48000)]
        {
            let mut resampler = StreamingResampler::new(input_rate, output_rate).unwrap();
            let mut input = vec![0i16; input_rate as usize / 5]; // 200 ms
            let impulse_at = input_rate as usize / 20; // 50 ms
            input[impulse_at] = 30000;
            let output = stream(&mut resampler, &input);
            let peak_at = output
                .iter()
                .enumerate()
                .max_by_key(|(_, s)| s.unsigned_abs())
                .map(|(n, _)| n)
                .unwrap();
            let expected =
                impulse_at * output_rate as usize / input_rate as usize + resampler.delay_samples();
            assert!(
                peak_at.abs_diff(expected) <= 1,
                "{input_rate}->{output_rate}: peak at {peak_at}, expected {expected}"
            );
        }
    }

    #[test]
    fn reset_forgets_the_previous_stream() {
        let mut resampler = StreamingResampler::from_engine_rate(8000).unwrap();
        let loud = Frame::from_array([20000; FRAME_SAMPLES]);
        let mut out = [0i16; 160];
        resampler.from_frame(&loud, &mut out).unwrap();
        resampler.reset();
        resampler.from_frame(&Frame::silence(), &mut out).unwrap();
        assert!(out.iter().all(|&s| s == 0), "{out:?}");
    }
}
