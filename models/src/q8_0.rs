//! ggml q8_0 block quantization, bit-exact with ggml's reference `quantize_row_q8_0_ref`:
//! per block of 32 values, d = max|x| / 127 stored as f16, then round(x / d) as int8 using the
//! f32 reciprocal of the unrounded d (round half away from zero).

use half::f16;

use crate::ggml_format::{Q8_0_BLOCK_BYTES, Q8_0_BLOCK_ELEMENTS};

/// Quantizes one block of 32 values into 34 bytes (f16 scale, little-endian, then 32 int8).
pub fn quantize_block(x: &[f32; Q8_0_BLOCK_ELEMENTS]) -> [u8; Q8_0_BLOCK_BYTES] {
    let amax = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    let mut out = [0u8; Q8_0_BLOCK_BYTES];
    out[..2].copy_from_slice(&f16::from_f32(d).to_le_bytes());
    for (q, v) in out[2..].iter_mut().zip(x) {
        *q = ((v * id).round() as i8) as u8;
    }
    out
}

/// Quantizes a row whose length is a multiple of 32, appending the blocks to `out`.
/// Returns false (appending nothing) when the length is not a multiple of 32.
pub fn quantize_row(row: &[f32], out: &mut Vec<u8>) -> bool {
    if !row.len().is_multiple_of(Q8_0_BLOCK_ELEMENTS) {
        return false;
    }
    out.reserve(row.len() / Q8_0_BLOCK_ELEMENTS * Q8_0_BLOCK_BYTES);
    for chunk in row.chunks_exact(Q8_0_BLOCK_ELEMENTS) {
        let mut block = [0.0f32; Q8_0_BLOCK_ELEMENTS];
        block.copy_from_slice(chunk);
        out.extend_from_slice(&quantize_block(&block));
    }
    true
}

/// Decodes one block back to f32 (d * q).
pub fn dequantize_block(block: &[u8; Q8_0_BLOCK_BYTES]) -> [f32; Q8_0_BLOCK_ELEMENTS] {
    let d = f16::from_le_bytes([block[0], block[1]]).to_f32();
    let mut out = [0.0f32; Q8_0_BLOCK_ELEMENTS];
    for (o, q) in out.iter_mut().zip(&block[2..]) {
        *o = d * f32::from(*q as i8);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_block_has_exact_bytes() {
        // x = (i - 16) / 8 for i in 0..32: amax = 2.0, d = 2/127.
        let mut x = [0.0f32; 32];
        for (i, v) in x.iter_mut().enumerate() {
            *v = (i as f32 - 16.0) / 8.0;
        }
        let block = quantize_block(&x);
        // f16(2/127 = 0.015748...) = 0x2408 (0.0157470703125).
        assert_eq!(&block[..2], &[0x08, 0x24]);
        let q: Vec<i8> = block[2..].iter().map(|b| *b as i8).collect();
        // 1/d is exactly 63.5 in f32, so q = round((i-16)/8 * 63.5): i=0 -> -127,
        // i=1 -> round(-119.0625) = -119, i=8 -> -63.5 ties away from zero to -64,
        // i=15 -> round(-7.9375) = -8, i=16 -> 0, i=24 -> 64, i=31 -> round(119.0625) = 119.
        assert_eq!(q[0], -127);
        assert_eq!(q[1], -119);
        assert_eq!(q[8], -64);
        assert_eq!(q[24], 64);
        assert_eq!(q[15], -8);
        assert_eq!(q[16], 0);
        assert_eq!(q[17], 8);
        assert_eq!(q[31], 119);
        let expected: Vec<i8> = (0..32)
            .map(|i| ((i as f32 - 16.0) / 8.0 * (127.0 / 2.0)).round() as i8)
            .collect();
        assert_eq!(q, expected);
    }

    #[test]
    fn halves_round_away_from_zero() {
        // amax 127 -> d = 1, id = 1: values are their own quanta.
        let mut x = [0.0f32; 32];
        x[0] = 127.0;
        x[1] = 2.5;
        x[2] = -2.5;
        x[3] = 0.5;
        let block = quantize_block(&x);
        assert_eq!(&block[..2], &f16::from_f32(1.0).to_le_bytes());
        assert_eq!(block[2] as i8, 127);
        assert_eq!(block[3] as i8, 3);
        assert_eq!(block[4] as i8, -3);
        assert_eq!(block[5] as i8, 1);
    }

    #[test]
    fn zero_block_is_all_zero() {
        assert_eq!(quantize_block(&[0.0; 32]), [0u8; 34]);
    }

    #[test]
    fn round_trip_error_is_within_half_a_step() {
        // Deterministic pseudo-random data over several magnitudes.
        let mut state = 0x1234_5678u32;
        for scale in [1e-3f32, 0.1, 1.0, 37.0] {
            let mut x = [0.0f32; 32];
            for v in &mut x {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                *v = ((state >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0) * scale;
            }
            let amax = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let back = dequantize_block(&quantize_block(&x));
            let step = amax / 127.0;
            for (a, b) in x.iter().zip(back) {
                // Half a quantization step, plus 127 times the f16 rounding error of d:
                // relative 2^-11 for normal f16, absolute 2^-25 once d is subnormal (< 2^-14).
                let d_error = (step / 2048.0).max(1.0 / (1u32 << 25) as f32);
                let bound = step * 0.5 + 127.0 * d_error;
                assert!((a - b).abs() <= bound, "{a} vs {b} (bound {bound})");
            }
        }
    }

    #[test]
    fn rows_must_be_whole_blocks() {
        let mut out = Vec::new();
        assert!(!quantize_row(&[1.0; 33], &mut out));
        assert!(out.is_empty());
        assert!(quantize_row(&[1.0; 64], &mut out));
        assert_eq!(out.len(), 68);
    }
}
