//! G.711 (ITU-T) companding, the codec of the telephone network: 8-bit μ-law (PCMU, North
//! America/Japan, RTP payload type 0) and A-law (PCMA, elsewhere, payload type 8) at 8 kHz.
//!
//! Both directions are table lookups built at compile time: a 256-entry decode table and a
//! 65,536-entry encode table (one entry per i16 value) per law.

mod alaw;
mod mulaw;

pub use alaw::{alaw_decode, alaw_decode_slice, alaw_encode, alaw_encode_slice};
pub use mulaw::{mulaw_decode, mulaw_decode_slice, mulaw_encode, mulaw_encode_slice};

/// The two G.711 laws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum G711Law {
    /// μ-law (PCMU, RTP static payload type 0).
    MuLaw,
    /// A-law (PCMA, RTP static payload type 8).
    ALaw,
}

impl G711Law {
    /// RTP static payload type (RFC 3551).
    pub const fn rtp_payload_type(self) -> u8 {
        match self {
            Self::MuLaw => 0,
            Self::ALaw => 8,
        }
    }

    /// Encoding name used in SDP `a=rtpmap` lines.
    pub const fn sdp_name(self) -> &'static str {
        match self {
            Self::MuLaw => "PCMU",
            Self::ALaw => "PCMA",
        }
    }

    /// Encode one sample.
    pub fn encode(self, sample: i16) -> u8 {
        match self {
            Self::MuLaw => mulaw_encode(sample),
            Self::ALaw => alaw_encode(sample),
        }
    }

    /// Decode one code.
    pub fn decode(self, code: u8) -> i16 {
        match self {
            Self::MuLaw => mulaw_decode(code),
            Self::ALaw => alaw_decode(code),
        }
    }

    /// Encode `samples` into `codes` (equal lengths; extra entries of the longer one are untouched).
    pub fn encode_slice(self, samples: &[i16], codes: &mut [u8]) {
        match self {
            Self::MuLaw => mulaw_encode_slice(samples, codes),
            Self::ALaw => alaw_encode_slice(samples, codes),
        }
    }

    /// Decode `codes` into `samples` (equal lengths; extra entries of the longer one are untouched).
    pub fn decode_slice(self, codes: &[u8], samples: &mut [i16]) {
        match self {
            Self::MuLaw => mulaw_decode_slice(codes, samples),
            Self::ALaw => alaw_decode_slice(codes, samples),
        }
    }
}

/// Signal-to-noise ratio in dB of `decoded` against `original` (shared test helper).
#[cfg(test)]
pub(crate) fn snr_db(original: &[i16], decoded: &[i16]) -> f64 {
    let signal: f64 = original.iter().map(|&s| f64::from(s).powi(2)).sum();
    let noise: f64 = original
        .iter()
        .zip(decoded)
        .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
        .sum();
    10.0 * (signal / noise).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn law_dispatch_matches_the_free_functions() {
        for sample in [-32768i16, -1000, -1, 0, 1, 77, 12345, 32767] {
            assert_eq!(G711Law::MuLaw.encode(sample), mulaw_encode(sample));
            assert_eq!(G711Law::ALaw.encode(sample), alaw_encode(sample));
        }
        assert_eq!(G711Law::MuLaw.rtp_payload_type(), 0);
        assert_eq!(G711Law::ALaw.sdp_name(), "PCMA");
        let mut codes = [0u8; 4];
        let mut back = [0i16; 4];
        G711Law::ALaw.encode_slice(&[0, 100, -100, 5000], &mut codes);
        G711Law::ALaw.decode_slice(&codes, &mut back);
        assert_eq!(back, [8, 104, -104, 4992]);
    }
}
