//! G.711 μ-law (PCMU): 16-bit linear PCM ↔ 8-bit codes.
//!
//! Facts from ITU-T G.711: magnitudes are biased by 132 (0x84) and clipped at 32635, split
//! into 8 segments (exponent) of 16 steps (mantissa); the code is sign|exponent|mantissa with
//! all bits inverted. Decoding puts each code in the middle of its interval, so 0xFF and 0x7F
//! are +0 and -0, and the extremes 0x80/0x00 decode to ±32124.

const BIAS: i32 = 0x84;
const CLIP: i32 = 32635;

const fn encode_one(sample: i16) -> u8 {
    let mut magnitude = sample as i32;
    let sign: u8 = if magnitude < 0 {
        magnitude = -magnitude;
        0x80
    } else {
        0x00
    };
    if magnitude > CLIP {
        magnitude = CLIP;
    }
    let biased = magnitude + BIAS; // 132 ..= 32767: the top set bit is bit 7 ..= 14
    let top_bit = 31 - biased.leading_zeros() as i32;
    let exponent = top_bit - 7;
    let mantissa = (biased >> (exponent + 3)) & 0x0F;
    !(sign | ((exponent as u8) << 4) | mantissa as u8)
}

const fn decode_one(code: u8) -> i16 {
    let code = !code;
    let exponent = ((code >> 4) & 0x07) as i32;
    let mantissa = (code & 0x0F) as i32;
    let magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
    if code & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
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

/// Encode one linear sample to a μ-law code.
#[inline]
pub fn mulaw_encode(sample: i16) -> u8 {
    ENCODE_TABLE[sample as u16 as usize]
}

/// Decode one μ-law code to a linear sample.
#[inline]
pub fn mulaw_decode(code: u8) -> i16 {
    DECODE_TABLE[code as usize]
}

/// Encode `samples` into `codes`, pairwise up to the shorter length.
pub fn mulaw_encode_slice(samples: &[i16], codes: &mut [u8]) {
    for (code, &sample) in codes.iter_mut().zip(samples) {
        *code = mulaw_encode(sample);
    }
}

/// Decode `codes` into `samples`, pairwise up to the shorter length.
pub fn mulaw_decode_slice(codes: &[u8], samples: &mut [i16]) {
    for (sample, &code) in samples.iter_mut().zip(codes) {
        *sample = mulaw_decode(code);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g711::snr_db;

    #[test]
    fn known_code_points() {
        assert_eq!(mulaw_decode(0xFF), 0);
        assert_eq!(mulaw_decode(0x7F), 0);
        assert_eq!(mulaw_decode(0x00), -32124);
        assert_eq!(mulaw_decode(0x80), 32124);
        assert_eq!(mulaw_decode(0xFE), 8);
        assert_eq!(mulaw_decode(0x7E), -8);
        assert_eq!(mulaw_decode(0xEF), 132); // exponent 1 begins at 132 + 132 biased = 264
        assert_eq!(mulaw_encode(0), 0xFF);
        assert_eq!(mulaw_encode(i16::MAX), 0x80);
        assert_eq!(mulaw_encode(i16::MIN), 0x00);
        assert_eq!(mulaw_encode(-1), 0x7F);
    }

    #[test]
    fn decode_then_encode_gives_the_same_code() {
        for code in 0..=255u8 {
            let expected = if code == 0x7F { 0xFF } else { code }; // -0 re-encodes as +0
            assert_eq!(
                mulaw_encode(mulaw_decode(code)),
                expected,
                "code {code:#04x}"
            );
        }
    }

    #[test]
    fn decoding_is_monotonic_and_antisymmetric() {
        // Codes 0x80..=0xFF are positive (0x80 largest), 0x00..=0x7F their negatives.
        for code in 0x80..0xFFu8 {
            assert!(mulaw_decode(code) > mulaw_decode(code + 1));
            assert_eq!(mulaw_decode(code), -mulaw_decode(code & 0x7F));
        }
    }

    #[test]
    fn round_trip_error_is_within_half_a_step() {
        for sample in i16::MIN..=i16::MAX {
            let back = mulaw_decode(mulaw_encode(sample));
            let magnitude = i32::from(sample).abs().min(CLIP);
            let clipped = magnitude - i32::from(back).abs();
            // Step in segment e is 8 << e; the decoder sits mid-step, so the error is at most
            // half a step: 4 << e = (magnitude + 132) / 32 rounded up to that segment's power.
            let exponent = (31 - (magnitude + BIAS).leading_zeros() as i32) - 7;
            let half_step = 4 << exponent;
            assert!(
                clipped.abs() <= half_step,
                "sample {sample} -> {back}: error {clipped} > {half_step}"
            );
            assert!(sample == 0 || back == 0 || (sample > 0) == (back > 0));
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
        mulaw_encode_slice(&tone, &mut codes);
        mulaw_decode_slice(&codes, &mut back);
        let snr = snr_db(&tone, &back);
        assert!(snr > 35.0, "μ-law SNR {snr:.1} dB");
    }
}
