//! i16 ↔ f32 sample conversion (full scale 32768 ↔ 1.0), shared by the resamplers and the
//! WAV reader, which work in f32 so that 24-bit and float files keep their precision.

/// i16 to f32 in [-1.0, 1.0).
#[inline]
pub fn i16_to_f32(sample: i16) -> f32 {
    f32::from(sample) / 32768.0
}

/// f32 to i16, rounded and clamped to the i16 range (overshoot from filters saturates).
#[inline]
pub fn f32_to_i16(sample: f32) -> i16 {
    (sample * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_i16_survives_a_round_trip() {
        for sample in i16::MIN..=i16::MAX {
            assert_eq!(f32_to_i16(i16_to_f32(sample)), sample);
        }
    }

    #[test]
    fn out_of_range_saturates() {
        assert_eq!(f32_to_i16(1.5), i16::MAX);
        assert_eq!(f32_to_i16(-1.5), i16::MIN);
        assert_eq!(f32_to_i16(f32::NAN), 0);
    }
}
