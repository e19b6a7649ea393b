//! How much of a signal's power sits at one frequency (the Goertzel algorithm): checking a
//! hold chime, a test tone through a codec, or a call-progress tone, without a full FFT.

/// Power at `hz` in `samples` taken at `rate` Hz, as a share (0-1) of their total power. A pure
/// tone at `hz` over a whole number of periods gives about 1; silence gives 0.
pub fn tone_share(samples: &[i16], hz: f64, rate: u32) -> f64 {
    let coeff = 2.0 * (2.0 * std::f64::consts::PI * hz / f64::from(rate.max(1))).cos();
    let (mut s1, mut s2, mut total) = (0.0f64, 0.0f64, 0.0f64);
    for &x in samples {
        let x = f64::from(x);
        total += x * x;
        let s0 = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    if total == 0.0 {
        return 0.0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    (2.0 * power / (samples.len() as f64 * total)).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f64, rate: u32, len: usize) -> Vec<i16> {
        (0..len)
            .map(|n| {
                let t = n as f64 / f64::from(rate);
                (8000.0 * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16
            })
            .collect()
    }

    #[test]
    fn a_tone_is_found_at_its_frequency_and_not_elsewhere() {
        let samples = tone(1000.0, 16_000, 320);
        assert!(tone_share(&samples, 1000.0, 16_000) > 0.95);
        assert!(tone_share(&samples, 600.0, 16_000) < 0.05);
        let narrow = tone(600.0, 8_000, 160);
        assert!(tone_share(&narrow, 600.0, 8_000) > 0.9);
    }

    #[test]
    fn silence_and_empty_input_have_no_tone() {
        assert_eq!(tone_share(&[0; 320], 1000.0, 16_000), 0.0);
        assert_eq!(tone_share(&[], 1000.0, 16_000), 0.0);
    }
}
