//! A small RIFF/WAVE header scanner: finds the `fmt ` and `data` chunks so the reader can tell a
//! non-WAV, a truncated WAV and an unsupported encoding apart before decoding, and decode the
//! encodings hound does not (G.711, 64-bit float) itself.

use super::encoding::WavEncoding;

/// Where the audio lies in a WAV file and how it is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RiffHeader {
    pub encoding: WavEncoding,
    pub channels: u16,
    pub sample_rate: u32,
    /// Bytes per sample frame (all channels), from the header.
    pub block_align: u16,
    /// Byte offset of the audio in the file.
    pub data_offset: usize,
    /// Bytes of audio.
    pub data_len: usize,
}

/// Why a header could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeaderProblem {
    /// Not RIFF/WAVE at all; the string hints at what it is instead (may be empty).
    NotWav(String),
    /// RIFF/WAVE but damaged or cut short.
    Corrupt(String),
}

const SUBTYPE_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// A guess at what a non-WAV file is, from its first bytes.
fn what_it_looks_like(bytes: &[u8]) -> String {
    let kind =
        if bytes.is_empty() {
            "the file is empty"
        } else if bytes.starts_with(b"ID3")
            || (bytes.len() > 1 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0)
        {
            "it looks like an MP3 file"
        } else if bytes.starts_with(b"OggS") {
            "it looks like an Ogg (Opus/Vorbis) file"
        } else if bytes.starts_with(b"fLaC") {
            "it looks like a FLAC file"
        } else if bytes.len() >= 8 && &bytes[4..8] == b"ftyp" {
            "it looks like an MP4/M4A file"
        } else if bytes.starts_with(b"RIFX") {
            "it is a big-endian RIFX file"
        } else if bytes.starts_with(b"RF64") {
            "it is an RF64 (64-bit) WAV"
        } else if bytes.starts_with(b"RIFF") {
            "a RIFF file but not WAVE (AVI?)"
        } else if bytes.iter().take(512).all(|&b| {
            b == b'\n' || b == b'\r' || b == b'\t' || (0x20..0x7F).contains(&b) || b >= 0x80
        }) {
            "it looks like a text file"
        } else {
            ""
        };
    if kind.is_empty() {
        String::new()
    } else {
        format!("; {kind}")
    }
}

impl RiffHeader {
    /// Scan the chunks of a whole WAV file held in memory.
    pub fn parse(bytes: &[u8]) -> Result<Self, HeaderProblem> {
        if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
            return Err(HeaderProblem::NotWav(what_it_looks_like(bytes)));
        }
        let mut format: Option<(WavEncoding, u16, u32, u16)> = None;
        let mut at = 12;
        while at + 8 <= bytes.len() {
            let id = &bytes[at..at + 4];
            let size = u32_at(bytes, at + 4) as usize;
            let body = at + 8;
            if id == b"fmt " {
                if size < 16 || body + size > bytes.len() {
                    return Err(HeaderProblem::Corrupt(format!(
                        "the fmt chunk is {size} bytes, needs 16 or more and must fit in the file"
                    )));
                }
                format = Some(Self::parse_fmt(&bytes[body..body + size]));
            } else if id == b"data" {
                let Some((encoding, channels, sample_rate, block_align)) = format else {
                    return Err(HeaderProblem::Corrupt(
                        "the data chunk comes before any fmt chunk".into(),
                    ));
                };
                let available = bytes.len() - body;
                // 0xFFFFFFFF (or 0 with audio after it) marks a WAV written as a stream whose
                // writer never came back to fill in the length: take what is there.
                let streamed = size == u32::MAX as usize || (size == 0 && available > 0);
                let data_len = if streamed {
                    available
                } else if size > available {
                    return Err(HeaderProblem::Corrupt(format!(
                        "truncated: the header promises {size} bytes of audio but only {available} follow"
                    )));
                } else {
                    size
                };
                if channels == 0 {
                    return Err(HeaderProblem::Corrupt(
                        "the header declares zero channels".into(),
                    ));
                }
                if sample_rate == 0 {
                    return Err(HeaderProblem::Corrupt(
                        "the header declares a sample rate of 0 Hz".into(),
                    ));
                }
                return Ok(Self {
                    encoding,
                    channels,
                    sample_rate,
                    block_align,
                    data_offset: body,
                    data_len,
                });
            }
            at = body.saturating_add(size).saturating_add(size & 1);
        }
        Err(HeaderProblem::Corrupt(
            if format.is_none() {
                "no fmt chunk (the header is cut short or damaged)"
            } else {
                "no data chunk (the file is cut short after its header)"
            }
            .into(),
        ))
    }

    fn parse_fmt(fmt: &[u8]) -> (WavEncoding, u16, u32, u16) {
        let mut format_tag = u16_at(fmt, 0);
        let channels = u16_at(fmt, 2);
        let sample_rate = u32_at(fmt, 4);
        let block_align = u16_at(fmt, 12);
        let mut bits = u16_at(fmt, 14);
        // WAVE_FORMAT_EXTENSIBLE: the real tag opens the sub-format GUID. Samples sit in
        // containers of `bits`; the valid-bits field only says how many carry signal.
        if format_tag == 0xFFFE && fmt.len() >= 40 && fmt[26..40] == SUBTYPE_TAIL {
            format_tag = u16_at(fmt, 24);
        }
        if bits == 0 && block_align > 0 && channels > 0 {
            // A block of 8192 bytes or more per channel is no sample size: leave 0 (unsupported).
            bits = (block_align / channels).checked_mul(8).unwrap_or(0);
        }
        let encoding = match (format_tag, bits) {
            (0x0001, 8 | 16 | 24 | 32) => WavEncoding::PcmInt { bits },
            (0x0003, 32 | 64) => WavEncoding::Float { bits },
            (0x0007, 8) => WavEncoding::MuLaw,
            (0x0006, 8) => WavEncoding::ALaw,
            _ => WavEncoding::Other { format_tag, bits },
        };
        (encoding, channels, sample_rate, block_align)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal WAV header + data for tests.
    pub(crate) fn wav_bytes(
        format_tag: u16,
        channels: u16,
        rate: u32,
        bits: u16,
        data: &[u8],
    ) -> Vec<u8> {
        let block_align = channels * bits / 8;
        let mut bytes = Vec::new();
        bytes.extend_from_slice(b"RIFF");
        bytes.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
        bytes.extend_from_slice(b"WAVE");
        bytes.extend_from_slice(b"fmt ");
        bytes.extend_from_slice(&16u32.to_le_bytes());
        bytes.extend_from_slice(&format_tag.to_le_bytes());
        bytes.extend_from_slice(&channels.to_le_bytes());
        bytes.extend_from_slice(&rate.to_le_bytes());
        bytes.extend_from_slice(&(rate * u32::from(block_align)).to_le_bytes());
        bytes.extend_from_slice(&block_align.to_le_bytes());
        bytes.extend_from_slice(&bits.to_le_bytes());
        bytes.extend_from_slice(b"data");
        bytes.extend_from_slice(&(data.len() as u32).to_le_bytes());
        bytes.extend_from_slice(data);
        bytes
    }

    #[test]
    fn finds_format_and_data() {
        let bytes = wav_bytes(7, 1, 8000, 8, &[0xFF; 80]);
        let header = RiffHeader::parse(&bytes).unwrap();
        assert_eq!(header.encoding, WavEncoding::MuLaw);
        assert_eq!((header.channels, header.sample_rate), (1, 8000));
        assert_eq!((header.data_offset, header.data_len), (44, 80));
    }

    #[test]
    fn skips_unknown_chunks_with_odd_sizes() {
        let mut bytes = wav_bytes(1, 2, 44100, 16, &[0; 8]);
        // Insert a 3-byte LIST chunk (+1 pad byte) between fmt and data.
        let list = [b"LIST".as_slice(), &3u32.to_le_bytes(), &[1, 2, 3, 0]].concat();
        bytes.splice(36..36, list);
        let header = RiffHeader::parse(&bytes).unwrap();
        assert_eq!(header.encoding, WavEncoding::PcmInt { bits: 16 });
        assert_eq!(header.data_len, 8);
    }

    #[test]
    fn tells_what_a_non_wav_is() {
        let mp3 = RiffHeader::parse(b"ID3\x04\x00\x00\x00\x00\x00\x00rest").unwrap_err();
        assert_eq!(
            mp3,
            HeaderProblem::NotWav("; it looks like an MP3 file".into())
        );
        let text = RiffHeader::parse(b"hello, this is not audio\n").unwrap_err();
        assert_eq!(
            text,
            HeaderProblem::NotWav("; it looks like a text file".into())
        );
        assert!(
            matches!(RiffHeader::parse(b""), Err(HeaderProblem::NotWav(hint)) if hint.contains("empty"))
        );
    }

    #[test]
    fn reports_truncation_and_missing_chunks() {
        let bytes = wav_bytes(1, 1, 16000, 16, &[0; 1000]);
        match RiffHeader::parse(&bytes[..500]) {
            Err(HeaderProblem::Corrupt(detail)) => {
                assert!(detail.contains("truncated"), "{detail}")
            }
            other => panic!("{other:?}"),
        }
        match RiffHeader::parse(&bytes[..30]) {
            Err(HeaderProblem::Corrupt(detail)) => assert!(detail.contains("fmt"), "{detail}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_unsupported_encodings() {
        let header = RiffHeader::parse(&wav_bytes(2, 1, 8000, 4, &[0; 10])).unwrap();
        assert_eq!(
            header.encoding,
            WavEncoding::Other {
                format_tag: 2,
                bits: 4
            }
        );
        assert!(header.encoding.to_string().contains("ADPCM"));
    }

    /// Found by the `wav` fuzz target (fuzz/regressions/wav/block-align-64000-no-bits): with
    /// no bits per sample, the size guessed from a huge block overflowed (a panic where
    /// overflow is checked, a wrong size elsewhere).
    #[test]
    fn a_huge_block_without_bits_is_an_unsupported_encoding() {
        let mut bytes = wav_bytes(3, 1, 8000, 0, &[0; 16]);
        bytes[32..34].copy_from_slice(&64_000u16.to_le_bytes());
        let header = RiffHeader::parse(&bytes).unwrap();
        assert_eq!(
            header.encoding,
            WavEncoding::Other {
                format_tag: 3,
                bits: 0
            }
        );
    }
}
