//! Whole-clip resampling, any rate to any rate, for audio that is already in memory: WAV files
//! at 44.1/22.05/8 kHz, TTS voices at 22.05 kHz. The output is aligned with the input (the
//! filter delay is trimmed) and has `ceil(len * to / from)` samples.

use rubato::audioadapter::Adapter;
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{
    Async, Fft, FixedAsync, FixedSync, Resampler, SincInterpolationParameters, WindowFunction,
};

use super::error::{ResampleError, check_rate};
use super::sample_format::{f32_to_i16, i16_to_f32};

/// Largest FFT block (input side) used before switching to the sinc resampler: rates whose
/// ratio reduces to big coprime numbers (e.g. 44099 → 16000) would need huge FFTs.
const MAX_FFT_BLOCK: usize = 4096;
/// Input chunk the clip is fed in.
const CHUNK: usize = 4096;

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Resample a whole mono clip of i16 samples from `from_rate` to `to_rate`.
pub fn resample_buffer(
    samples: &[i16],
    from_rate: u32,
    to_rate: u32,
) -> Result<Vec<i16>, ResampleError> {
    let input: Vec<f32> = samples.iter().map(|&s| i16_to_f32(s)).collect();
    let output = resample_buffer_f32(&input, from_rate, to_rate)?;
    Ok(output.into_iter().map(f32_to_i16).collect())
}

/// Resample a whole mono clip of f32 samples (full scale ±1.0) from `from_rate` to `to_rate`.
pub fn resample_buffer_f32(
    samples: &[f32],
    from_rate: u32,
    to_rate: u32,
) -> Result<Vec<f32>, ResampleError> {
    check_rate(from_rate)?;
    check_rate(to_rate)?;
    if from_rate == to_rate || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let (from, to) = (from_rate as usize, to_rate as usize);
    let construction = |source| ResampleError::Construction {
        input_rate: from_rate,
        output_rate: to_rate,
        source,
    };
    let mut resampler: Box<dyn Resampler<f32>> = if from / gcd(from, to) <= MAX_FFT_BLOCK {
        Box::new(Fft::<f32>::new(from, to, CHUNK, 1, FixedSync::Input).map_err(construction)?)
    } else {
        let parameters = SincInterpolationParameters::new(256, WindowFunction::BlackmanHarris2);
        Box::new(
            Async::<f32>::new_sinc(
                to as f64 / from as f64,
                1.0,
                &parameters,
                CHUNK,
                1,
                FixedAsync::Input,
            )
            .map_err(construction)?,
        )
    };
    let input = InterleavedSlice::new(samples, 1, samples.len()).map_err(|_| {
        ResampleError::WrongInputLength {
            expected: samples.len(),
            actual: samples.len(),
        }
    })?;
    // process_all trims the resampler's start-up delay and returns exactly
    // ceil(len * ratio) frames.
    let output = resampler.process_all(&input, samples.len(), None)?;
    let frames = output.frames();
    let mut data = output.take_data();
    data.truncate(frames);
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn impulse(len: usize, at: usize) -> Vec<i16> {
        let mut samples = vec![0i16; len];
        samples[at] = 30000;
        samples
    }

    fn peak_index(samples: &[i16]) -> usize {
        samples
            .iter()
            .enumerate()
            .max_by_key(|(_, s)| s.unsigned_abs())
            .map(|(n, _)| n)
            .unwrap()
    }

    #[test]
    fn length_is_input_length_times_ratio_rounded_up() {
        for (from, to, len) in [
            (44100, 16000, 44100),
            (22050, 16000, 22050 * 3 + 17),
            (8000, 16000, 8001),
            (48000, 16000, 4800),
            (16000, 8000, 333),
            (44099, 16000, 10000),
            (11025, 16000, 50),
        ] {
            let output = resample_buffer(&vec![100; len], from, to).unwrap();
            let expected = (len as u64 * to as u64).div_ceil(from as u64) as usize;
            assert!(
                output.len().abs_diff(expected) <= 1,
                "{from}->{to}, {len} samples: got {}, expected {expected}",
                output.len()
            );
        }
    }

    #[test]
    fn impulse_stays_in_place_after_delay_compensation() {
        for (from, to) in [
            (44100, 16000),
            (22050, 16000),
            (8000, 16000),
            (48000, 16000),
            (16000, 22050),
            (44099, 16000),
        ] {
            let at = from as usize / 4; // 250 ms in
            let output = resample_buffer(&impulse(from as usize, at), from, to).unwrap();
            let expected = at as f64 * f64::from(to) / f64::from(from);
            let found = peak_index(&output) as f64;
            assert!(
                (found - expected).abs() <= 2.0,
                "{from}->{to}: impulse at {found}, expected {expected:.1}"
            );
        }
    }

    /// Time shift (in output samples) of a 440 Hz tone after resampling, from its phase.
    fn tone_shift(from: u32, to: u32) -> (f64, Vec<f32>) {
        let omega = 2.0 * std::f64::consts::PI * 440.0;
        let tone: Vec<f32> = (0..from)
            .map(|n| (0.6 * (omega * n as f64 / f64::from(from) + 1.0).sin()) as f32)
            .collect();
        let output = resample_buffer_f32(&tone, from, to).unwrap();
        let (mut sin_part, mut cos_part) = (0.0f64, 0.0f64);
        let middle = to as usize / 8..to as usize * 7 / 8;
        for k in middle {
            let phase = omega * k as f64 / f64::from(to);
            sin_part += f64::from(output[k]) * phase.sin();
            cos_part += f64::from(output[k]) * phase.cos();
        }
        let phase = cos_part.atan2(sin_part);
        ((phase - 1.0) / omega * f64::from(to), output)
    }

    #[test]
    fn tone_is_neither_delayed_nor_preceded_by_silence() {
        // The FFT resampler shifts by half an input sample when its block is odd (441 for
        // 44.1/22.05 kHz) and the sinc one by the fraction its integer delay trim cannot
        // remove: both stay well under one output sample.
        for (from, to) in [
            (22050, 16000),
            (44100, 16000),
            (8000, 16000),
            (48000, 16000),
            (44099, 16000),
        ] {
            let (shift, output) = tone_shift(from, to);
            assert!(
                shift.abs() < 1.0,
                "{from}->{to}: shifted by {shift:.3} samples"
            );
            // The tone starts at 0.6 * sin(1.0) ≈ 0.50: no leading silence.
            assert!(
                output[0].abs() > 0.25,
                "{from}->{to}: first samples {:?}",
                &output[..4]
            );
        }
    }

    #[test]
    fn same_rate_and_empty_input_pass_through() {
        let samples = [1i16, -2, 3];
        assert_eq!(resample_buffer(&samples, 16000, 16000).unwrap(), samples);
        assert!(resample_buffer(&[], 44100, 16000).unwrap().is_empty());
        assert!(matches!(
            resample_buffer(&samples, 0, 16000),
            Err(ResampleError::InvalidRate { rate: 0 })
        ));
    }
}
