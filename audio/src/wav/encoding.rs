//! How a WAV file stores its samples, as found in its `fmt ` chunk.

use std::fmt;

/// Sample encoding of a WAV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WavEncoding {
    /// Integer PCM (format tag 1, or extensible PCM) with this many bits per sample.
    PcmInt {
        /// 8, 16, 24 or 32 (8-bit is unsigned in the file).
        bits: u16,
    },
    /// IEEE float (format tag 3, or extensible float) with this many bits per sample.
    Float {
        /// 32 or 64.
        bits: u16,
    },
    /// G.711 μ-law (format tag 7), 8 bits per sample.
    MuLaw,
    /// G.711 A-law (format tag 6), 8 bits per sample.
    ALaw,
    /// Anything else (ADPCM, GSM, MP3-in-WAV...): the format tag and its usual name.
    Other {
        /// The `fmt ` chunk's format tag (the extensible sub-format's tag when tag is 0xFFFE).
        format_tag: u16,
        /// Bits per sample as declared.
        bits: u16,
    },
}

impl WavEncoding {
    /// Common name of a WAV format tag, for messages.
    pub fn format_tag_name(format_tag: u16) -> &'static str {
        match format_tag {
            0x0001 => "PCM",
            0x0002 => "Microsoft ADPCM",
            0x0003 => "IEEE float",
            0x0006 => "A-law",
            0x0007 => "μ-law",
            0x0011 => "IMA ADPCM",
            0x0031 => "GSM 6.10",
            0x0050 => "MPEG audio",
            0x0055 => "MP3",
            0x0064 | 0x0065 => "G.726 ADPCM",
            0x0067 => "G.722",
            0x00FF | 0x1610 => "AAC",
            0x704F => "Opus",
            _ => "an unknown encoding",
        }
    }
}

impl fmt::Display for WavEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PcmInt { bits } => write!(f, "{bits}-bit integer PCM"),
            Self::Float { bits } => write!(f, "{bits}-bit float"),
            Self::MuLaw => write!(f, "8-bit G.711 μ-law"),
            Self::ALaw => write!(f, "8-bit G.711 A-law"),
            Self::Other { format_tag, bits } => write!(
                f,
                "{} (format tag {format_tag:#06x}, {bits} bits)",
                Self::format_tag_name(*format_tag)
            ),
        }
    }
}

/// What a WAV file held before conversion to 16 kHz mono.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavFormat {
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Number of interleaved channels.
    pub channels: u16,
    /// How samples are stored.
    pub encoding: WavEncoding,
    /// Samples per channel in the file.
    pub frames: u64,
}

impl WavFormat {
    /// Duration of the audio in seconds.
    pub fn duration_seconds(&self) -> f64 {
        self.frames as f64 / f64::from(self.sample_rate.max(1))
    }
}

impl fmt::Display for WavFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} Hz, {} channel(s), {}, {:.2} s",
            self.sample_rate,
            self.channels,
            self.encoding,
            self.duration_seconds()
        )
    }
}
