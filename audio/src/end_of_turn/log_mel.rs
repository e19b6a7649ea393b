//! Whisper-style log-mel features of the last 8 s of an utterance: the input of the Smart Turn
//! end-of-turn model.
//!
//! The model was trained on the features Hugging Face's `WhisperFeatureExtractor` makes with an
//! 8 s chunk, so they are reproduced here: the audio is cut to its last 8 s (or zero-padded in
//! front), normalised to zero mean and unit variance, framed with a 400-sample periodic Hann
//! window every 160 samples (reflect-padded by 200 at each end), turned into a power spectrum,
//! projected onto 80 Slaney-normalised mel bands (0-8 kHz), and compressed as Whisper does:
//! log10 with a floor of 1e-10, clamped to 8 below the maximum, then `(x + 4) / 4`. The last
//! frame is dropped, leaving 800 frames of 10 ms.

use std::sync::{Arc, OnceLock};

use realfft::{RealFftPlanner, RealToComplex};

/// Samples the model reads: 8 s at 16 kHz.
pub const WINDOW_SAMPLES: usize = 8 * 16_000;
/// Mel bands per frame.
pub const MEL_BANDS: usize = 80;
/// Frames per window (10 ms each).
pub const MEL_FRAMES: usize = 800;

const FFT_SIZE: usize = 400;
const HOP: usize = 160;
const FREQUENCY_BINS: usize = FFT_SIZE / 2 + 1;
const SAMPLE_RATE: f64 = 16_000.0;
const NORMALISE_EPSILON: f64 = 1e-7;
const MEL_FLOOR: f32 = 1e-10;

/// What the features need once per process: the FFT plan, the window and the mel filters.
struct Tables {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    /// `MEL_BANDS` rows of `FREQUENCY_BINS` weights, with the first and last non-zero bin of
    /// each row (most weights are zero).
    filters: Vec<(usize, usize, Vec<f32>)>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FFT_SIZE);
        let window = (0..FFT_SIZE)
            .map(|n| {
                let phase = 2.0 * std::f64::consts::PI * n as f64 / FFT_SIZE as f64;
                (0.5 - 0.5 * phase.cos()) as f32
            })
            .collect();
        Tables {
            fft,
            window,
            filters: slaney_mel_filters(),
        }
    })
}

/// Hertz to mel on the Slaney scale: linear below 1 kHz, logarithmic above.
fn hz_to_mel(hz: f64) -> f64 {
    if hz < 1000.0 {
        3.0 * hz / 200.0
    } else {
        15.0 + (hz / 1000.0).ln() * 27.0 / 6.4f64.ln()
    }
}

fn mel_to_hz(mel: f64) -> f64 {
    if mel < 15.0 {
        200.0 * mel / 3.0
    } else {
        1000.0 * ((mel - 15.0) * 6.4f64.ln() / 27.0).exp()
    }
}

/// Triangular filters with centres evenly spaced in mel between 0 Hz and 8 kHz, each scaled by
/// 2 / (its width in Hz) so every band has the same area.
fn slaney_mel_filters() -> Vec<(usize, usize, Vec<f32>)> {
    let top = hz_to_mel(SAMPLE_RATE / 2.0);
    let edges: Vec<f64> = (0..MEL_BANDS + 2)
        .map(|i| mel_to_hz(top * i as f64 / (MEL_BANDS + 1) as f64))
        .collect();
    let bin_hz = |bin: usize| bin as f64 * (SAMPLE_RATE / 2.0) / (FREQUENCY_BINS - 1) as f64;
    (0..MEL_BANDS)
        .map(|band| {
            let (low, centre, high) = (edges[band], edges[band + 1], edges[band + 2]);
            let area = 2.0 / (high - low);
            let weights: Vec<f32> = (0..FREQUENCY_BINS)
                .map(|bin| {
                    let hz = bin_hz(bin);
                    let rising = (hz - low) / (centre - low);
                    let falling = (high - hz) / (high - centre);
                    (rising.min(falling).max(0.0) * area) as f32
                })
                .collect();
            let first = weights.iter().position(|w| *w > 0.0).unwrap_or(0);
            let last = weights.iter().rposition(|w| *w > 0.0).unwrap_or(0);
            (first, last, weights)
        })
        .collect()
}

/// The model's input for `audio` (16 kHz mono, -1..1): `MEL_BANDS` rows of `MEL_FRAMES` values,
/// row-major (band by band), for the last 8 s of `audio`.
pub fn smart_turn_features(audio: &[f32]) -> Vec<f32> {
    let tables = tables();
    // The last 8 s, zero-padded in front when shorter.
    let mut window = vec![0.0f32; WINDOW_SAMPLES];
    let kept = &audio[audio.len().saturating_sub(WINDOW_SAMPLES)..];
    window[WINDOW_SAMPLES - kept.len()..].copy_from_slice(kept);

    let mean = window.iter().map(|&x| f64::from(x)).sum::<f64>() / WINDOW_SAMPLES as f64;
    let variance = window
        .iter()
        .map(|&x| (f64::from(x) - mean).powi(2))
        .sum::<f64>()
        / WINDOW_SAMPLES as f64;
    let scale = 1.0 / (variance + NORMALISE_EPSILON).sqrt();
    let normalised: Vec<f32> = window
        .iter()
        .map(|&x| ((f64::from(x) - mean) * scale) as f32)
        .collect();

    // Reflect padding (the edge sample is not repeated), as a centred STFT does.
    let pad = FFT_SIZE / 2;
    let sample = |i: isize| -> f32 {
        let n = WINDOW_SAMPLES as isize;
        let j = if i < 0 {
            -i
        } else if i >= n {
            2 * (n - 1) - i
        } else {
            i
        };
        normalised[j as usize]
    };

    let mut frame = tables.fft.make_input_vec();
    let mut spectrum = tables.fft.make_output_vec();
    let mut scratch = tables.fft.make_scratch_vec();
    let mut power = vec![0.0f32; FREQUENCY_BINS];
    let mut features = vec![0.0f32; MEL_BANDS * MEL_FRAMES];
    for t in 0..MEL_FRAMES {
        let start = (t * HOP) as isize - pad as isize;
        for (k, value) in frame.iter_mut().enumerate() {
            *value = sample(start + k as isize) * tables.window[k];
        }
        // Lengths come from the plan itself, so the transform cannot fail.
        if tables
            .fft
            .process_with_scratch(&mut frame, &mut spectrum, &mut scratch)
            .is_err()
        {
            continue;
        }
        for (p, c) in power.iter_mut().zip(&spectrum) {
            *p = c.norm_sqr();
        }
        for (band, (first, last, weights)) in tables.filters.iter().enumerate() {
            let energy: f32 = (*first..=*last).map(|bin| weights[bin] * power[bin]).sum();
            features[band * MEL_FRAMES + t] = energy.max(MEL_FLOOR).log10();
        }
    }
    let ceiling = features.iter().copied().fold(f32::MIN, f32::max);
    for value in &mut features {
        *value = (value.max(ceiling - 8.0) + 4.0) / 4.0;
    }
    features
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filters_cover_the_band_with_equal_areas() {
        let filters = slaney_mel_filters();
        assert_eq!(filters.len(), MEL_BANDS);
        // Each triangle peaks between its neighbours and the last one reaches towards 8 kHz.
        for pair in filters.windows(2) {
            assert!(pair[0].0 <= pair[1].0 && pair[0].1 <= pair[1].1);
        }
        assert!(filters[MEL_BANDS - 1].1 >= FREQUENCY_BINS - 3);
        // Area (in Hz) of every band ≈ 1 (2 / width × width / 2).
        let bin_hz = 8000.0 / (FREQUENCY_BINS - 1) as f32;
        for (band, (_, _, weights)) in filters.iter().enumerate().skip(10) {
            let area: f32 = weights.iter().sum::<f32>() * bin_hz;
            assert!((area - 1.0).abs() < 0.2, "band {band}: area {area}");
        }
    }

    #[test]
    fn a_tone_lights_the_band_that_holds_its_frequency() {
        let audio: Vec<f32> = (0..16_000)
            .map(|n| (2.0 * std::f32::consts::PI * 1000.0 * n as f32 / 16_000.0).sin() * 0.5)
            .collect();
        let features = smart_turn_features(&audio);
        assert_eq!(features.len(), MEL_BANDS * MEL_FRAMES);
        // The last frames hold the tone: the loudest band is the one around 1 kHz (mel 15).
        let frame = MEL_FRAMES - 50;
        let loudest = (0..MEL_BANDS)
            .max_by(|&a, &b| {
                features[a * MEL_FRAMES + frame].total_cmp(&features[b * MEL_FRAMES + frame])
            })
            .unwrap_or(0);
        let centre_hz = mel_to_hz(hz_to_mel(8000.0) * (loudest + 1) as f64 / 81.0);
        assert!((900.0..1100.0).contains(&centre_hz), "{centre_hz} Hz");
        // Compressed as Whisper does: nothing more than 2 (8 log units / 4) below the top.
        let (low, high) = features
            .iter()
            .fold((f32::MAX, f32::MIN), |(l, h), &v| (l.min(v), h.max(v)));
        assert!(high - low <= 2.0 + 1e-4, "{low}..{high}");
    }

    #[test]
    fn only_the_last_eight_seconds_count() {
        let long: Vec<f32> = (0..WINDOW_SAMPLES + 16_000)
            .map(|n| {
                if n < 16_000 {
                    0.9
                } else {
                    (n as f32 * 0.01).sin() * 0.1
                }
            })
            .collect();
        assert_eq!(
            smart_turn_features(&long),
            smart_turn_features(&long[16_000..])
        );
    }
}
