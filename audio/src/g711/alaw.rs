//! G.711 A-law (PCMA): 16-bit linear PCM ↔ 8-bit codes.
//!
//! Facts from ITU-T G.711: A-law works on 13-bit magnitudes (the 16-bit sample >> 3), with
//! 8 segments of 16 steps where segments 0 and 1 share the finest step. The code is
//! sign|segment|step with the even bits inverted (XOR 0x55); sign bit set means positive.
//! Decoding puts each code mid-interval, so the smallest codes 0xD5/0x55 decode to ±8.

/// Segment ends, in 13-bit magnitude units.
const SEGMENT_ENDS: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];

const fn encode_one(sample: i16) -> u8 {
    let mut magnitude = (sample as i32) >> 3;
    let mask: u8 = if magnitude >= 0 {
        0xD5
    } else {
        magnitude = -magnitude - 1;
        0x55
    };
    let mut segment = 0;
    while segment < 8 && magnitude > SEGMENT_ENDS[segment] {
        segment += 1;
    }
    if segment == 8 {
        return 0x7F ^ mask;
    }
    let step = if segment < 2 {
        (magnitude >> 1) & 0x0F
    } else {
        (magnitude >> segment) & 0x0F
    };
    (((segment as u8) << 4) | step as u8) ^ mask
}

const fn decode_one(code: u8) -> i16 {
    let code = code ^ 0x55;
    let segment = ((code & 0x70) >> 4) as i32;
    let mut magnitude = ((code & 0x0F) as i32) << 4;
    magnitude += if segment == 0 { 8 } else { 0x108 };
    if segment > 1 {
        magnitude <<= segment - 1;
    }
    if code & 0x80 != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
    }
}

static DECODE_TABLE: [i16; 256] = {
    let mut table = [0i16; 256];
    let mut code = 0;
    while code < 256 {
        table[code] = decode_one(code as u8);
        code += 1;
    }
    table
};

/// Indexed by the sample's bit pattern as u16.
static ENCODE_TABLE: [u8; 65536] = {
    let mut table = [0u8; 65536];
    let mut index = 0;
    while index < 65536 {
        table[index] = encode_one(index as u16 as i16);
        index += 1;
    }
    table
};

/// Encode one linear sample to an A-law code.
#[inline]
pub fn alaw_encode(sample: i16) -> u8 {
    ENCODE_TABLE[sample as u16 as usize]
}

/// Decode one A-law code to a linear sample.
#[inline]
pub fn alaw_decode(code: u8) -> i16 {
    DECODE_TABLE[code as usize]
}

/// Encode `samples` into `codes`, pairwise up to the shorter length.
pub fn alaw_encode_slice(samples: &[i16], codes: &mut [u8]) {
    for (code, &sample) in codes.iter_mut().zip(samples) {
        *code = alaw_encode(sample);
    }
}

/// Decode `codes` into `samples`, pairwise up to the shorter length.
pub fn alaw_decode_slice(codes: &[u8], samples: &mut [i16]) {
    for (sample, &code) in samples.iter_mut().zip(codes) {
        *sample = alaw_decode(code);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g711::snr_db;

    #[test]
    fn known_code_points() {
        assert_eq!(alaw_decode(0xD5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0xAA), 32256);
        assert_eq!(alaw_decode(0x2A), -32256);
        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(alaw_encode(-1), 0x55);
        assert_eq!(alaw_encode(i16::MAX), 0xAA);
        assert_eq!(alaw_encode(i16::MIN), 0x2A);
    }

    #[test]
    fn decode_then_encode_gives_the_same_code() {
        for code in 0..=255u8 {
            assert_eq!(alaw_encode(alaw_decode(code)), code, "code {code:#04x}");
        }
    }

    #[test]
    fn decoding_is_antisymmetric_and_monotonic_in_magnitude() {
        let mut positives: Vec<i16> = (0..=255u8).map(alaw_decode).filter(|&s| s > 0).collect();
        positives.sort_unstable();
        positives.dedup();
        assert_eq!(positives.len(), 128, "128 distinct positive levels");
        for code in 0x80..=0xFFu8 {
            assert_eq!(alaw_decode(code), -alaw_decode(code & 0x7F));
        }
    }

    #[test]
    fn round_trip_error_is_within_half_a_step() {
        for sample in i16::MIN..=i16::MAX {
            let back = alaw_decode(alaw_encode(sample));
            let error = (i32::from(sample) - i32::from(back)).abs();
            // 13-bit magnitude m: segments 0 and 1 have a step of 2 (16 in 16-bit units),
            // segment s >= 2 a step of 2^s (8 << s). Half a step, plus the 3 bits
            // dropped when going to 13 bits, bounds the error.
            let magnitude = (i32::from(sample) >> 3).max(-(i32::from(sample) >> 3) - 1);
            let segment = SEGMENT_ENDS
                .iter()
                .position(|&end| magnitude <= end)
                .unwrap_or(7);
            let half_step = if segment < 2 { 8 } else { 4 << segment };
            assert!(
                error <= half_step,
                "sample {sample} -> {back}: error {error} > {half_step}"
            );
        }
    }

    #[test]
    fn speech_level_tone_keeps_telephone_quality() {
        let tone: Vec<i16> = (0..8000)
            .map(|n| {
                (8000.0 * (2.0 * std::f64::consts::PI * 1000.0 * n as f64 / 8000.3).sin()) as i16
            })
            .collect();
        let mut codes = vec![0u8; tone.len()];
        let mut back = vec![0i16; tone.len()];
        alaw_encode_slice(&tone, &mut codes);
        alaw_decode_slice(&codes, &mut back);
        let snr = snr_db(&tone, &back);
        assert!(snr > 35.0, "A-law SNR {snr:.1} dB");
    }
}
