//! Signal level of a run of samples (RMS, dBFS, peak): the cheap way to tell sound from
//! digital silence before (or instead of) running a VAD model.

/// The dBFS reported for digital silence (all-zero samples), instead of minus infinity.
///
/// The quietest non-zero i16 signal (a lone ±1) over one 20 ms frame sits near -115 dBFS,
/// so this floor is below any real signal.
pub const SILENCE_FLOOR_DBFS: f32 = -120.0;

/// Root mean square of the samples, on the i16 scale (0.0 ..= 32768.0). Empty input gives 0.0.
pub fn rms(samples: &[i16]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum_of_squares: f64 = samples
        .iter()
        .map(|&s| {
            let s = f64::from(s);
            s * s
        })
        .sum();
    (sum_of_squares / samples.len() as f64).sqrt() as f32
}

/// Level relative to full scale (32768): 0 dBFS is a full-scale square wave, a full-scale
/// sine is about -3 dBFS. Digital silence (and empty input) gives [`SILENCE_FLOOR_DBFS`].
pub fn dbfs(samples: &[i16]) -> f32 {
    rms_to_dbfs(rms(samples))
}

/// Convert an RMS value on the i16 scale to dBFS, floored at [`SILENCE_FLOOR_DBFS`].
pub fn rms_to_dbfs(rms: f32) -> f32 {
    if rms <= 0.0 {
        return SILENCE_FLOOR_DBFS;
    }
    (20.0 * (rms / 32768.0).log10()).max(SILENCE_FLOOR_DBFS)
}

/// Largest absolute sample value (i16::MIN counts as 32768). Empty input gives 0.
pub fn peak(samples: &[i16]) -> u16 {
    samples.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(amplitude: f32, len: usize) -> Vec<i16> {
        (0..len)
            .map(|n| {
                let phase = 2.0 * std::f32::consts::PI * 440.0 * n as f32 / 16000.0;
                (amplitude * phase.sin()).round() as i16
            })
            .collect()
    }

    #[test]
    fn silence_is_at_the_floor() {
        assert_eq!(rms(&[0; 320]), 0.0);
        assert_eq!(dbfs(&[0; 320]), SILENCE_FLOOR_DBFS);
        assert_eq!(dbfs(&[]), SILENCE_FLOOR_DBFS);
        assert_eq!(peak(&[]), 0);
    }

    #[test]
    fn full_scale_square_is_zero_dbfs() {
        let square: Vec<i16> = (0..320)
            .map(|n| if n % 2 == 0 { i16::MAX } else { i16::MIN })
            .collect();
        assert!(dbfs(&square).abs() < 0.01, "{}", dbfs(&square));
        assert_eq!(peak(&square), 32768);
    }

    #[test]
    fn sine_level_matches_theory() {
        // A sine of amplitude A has RMS A/sqrt(2): half scale is -6.02 - 3.01 = -9.03 dBFS.
        let tone = sine(16384.0, 16000);
        let expected_rms = 16384.0 / 2f32.sqrt();
        assert!((rms(&tone) - expected_rms).abs() < 5.0, "{}", rms(&tone));
        assert!((dbfs(&tone) + 9.03).abs() < 0.05, "{}", dbfs(&tone));
        // 20 dB quieter is 10x smaller in amplitude.
        assert!((dbfs(&sine(1638.4, 16000)) + 29.03).abs() < 0.05);
    }
}
