//! Reading any WAV into the engine's format: 16 kHz mono i16.
//!
//! Integer PCM and 32-bit float go through hound; G.711 and 64-bit float, which hound does not
//! read, are decoded here. Channels are averaged, then the clip is resampled as a whole (delay
//! compensated) when its rate is not 16 kHz.

use std::io::Cursor;
use std::path::Path;

use super::encoding::{WavEncoding, WavFormat};
use super::error::WavError;
use super::riff_header::{HeaderProblem, RiffHeader};
use crate::frame::SAMPLE_RATE;
use crate::g711::{alaw_decode, mulaw_decode};
use crate::resample::{f32_to_i16, i16_to_f32, resample_buffer_f32};

/// The sample rates read (Hz): any real recording's. A header claiming less (3 Hz, found by
/// fuzzing) would make the resampler stretch each sample into thousands, for seconds of CPU.
pub const SAMPLE_RATES: std::ops::RangeInclusive<u32> = 1_000..=384_000;

/// A WAV file converted to the engine's format.
#[derive(Debug, Clone, PartialEq)]
pub struct WavAudio {
    /// 16 kHz mono samples.
    pub samples: Vec<i16>,
    /// What the file held before conversion.
    pub source: WavFormat,
}

/// Read a WAV file from disk as 16 kHz mono.
pub fn read_wav_16k_mono(path: impl AsRef<Path>) -> Result<WavAudio, WavError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            WavError::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            WavError::Unreadable {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    decode_wav_16k_mono(&bytes, path)
}

/// Decode a whole WAV file held in memory (an upload, a fixture) as 16 kHz mono; `name` is
/// used in error messages.
pub fn decode_wav_16k_mono(bytes: &[u8], name: impl AsRef<Path>) -> Result<WavAudio, WavError> {
    let path = name.as_ref().to_path_buf();
    let header = RiffHeader::parse(bytes).map_err(|problem| match problem {
        HeaderProblem::NotWav(found) => WavError::NotWav {
            path: path.clone(),
            found,
        },
        HeaderProblem::Corrupt(detail) => WavError::Corrupt {
            path: path.clone(),
            detail,
        },
    })?;
    if !SAMPLE_RATES.contains(&header.sample_rate) {
        return Err(WavError::UnsupportedRate {
            path,
            rate: header.sample_rate,
        });
    }
    let interleaved = match header.encoding {
        WavEncoding::PcmInt { .. } | WavEncoding::Float { bits: 32 } => {
            decode_with_hound(bytes, &header, &path)?
        }
        WavEncoding::Float { .. } => decode_f64(bytes, &header),
        WavEncoding::MuLaw => g711_data(bytes, &header)
            .map(|&c| i16_to_f32(mulaw_decode(c)))
            .collect(),
        WavEncoding::ALaw => g711_data(bytes, &header)
            .map(|&c| i16_to_f32(alaw_decode(c)))
            .collect(),
        WavEncoding::Other { .. } => {
            return Err(WavError::UnsupportedEncoding {
                path,
                encoding: header.encoding,
            });
        }
    };
    let interleaved: Vec<f32> = interleaved.into_iter().map(full_scale).collect();
    let channels = usize::from(header.channels);
    let frames = interleaved.len() / channels;
    let source = WavFormat {
        sample_rate: header.sample_rate,
        channels: header.channels,
        encoding: header.encoding,
        frames: frames as u64,
    };
    if frames == 0 {
        return Err(WavError::Empty { path });
    }
    let mono = downmix(&interleaved, channels);
    let mono = resample_buffer_f32(&mono, header.sample_rate, SAMPLE_RATE).map_err(|source| {
        WavError::Resample {
            path: path.clone(),
            source,
        }
    })?;
    Ok(WavAudio {
        samples: mono.into_iter().map(f32_to_i16).collect(),
        source,
    })
}

fn decode_with_hound(bytes: &[u8], header: &RiffHeader, path: &Path) -> Result<Vec<f32>, WavError> {
    let corrupt = |error: hound::Error, path: &Path| match error {
        hound::Error::Unsupported => WavError::UnsupportedEncoding {
            path: path.to_path_buf(),
            encoding: header.encoding,
        },
        other => WavError::Corrupt {
            path: path.to_path_buf(),
            detail: other.to_string(),
        },
    };
    // hound cannot follow a streamed header (length 0 or 0xFFFFFFFF): give it a copy whose
    // lengths match the audio present.
    let patched;
    let bytes = if declared_data_len(bytes, header) != header.data_len {
        patched = with_data_len(bytes, header);
        &patched[..]
    } else {
        bytes
    };
    let mut reader = hound::WavReader::new(Cursor::new(bytes)).map_err(|e| corrupt(e, path))?;
    let spec = reader.spec();
    let samples: Result<Vec<f32>, hound::Error> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect(),
        hound::SampleFormat::Int => {
            // hound takes an extensible header's valid-bits field, which may say anything.
            let bits = match spec.bits_per_sample {
                bits @ 1..=32 => bits,
                _ => return Err(corrupt(hound::Error::Unsupported, path)),
            };
            let scale = 1.0 / (1u64 << (bits - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|s| s as f32 * scale))
                .collect()
        }
    };
    samples.map_err(|e| corrupt(e, path))
}

fn declared_data_len(bytes: &[u8], header: &RiffHeader) -> usize {
    let at = header.data_offset - 4;
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
}

/// A copy of the file cut to the end of its audio, with the data length written in.
fn with_data_len(bytes: &[u8], header: &RiffHeader) -> Vec<u8> {
    let block = usize::from(header.block_align.max(1));
    let data_len = header.data_len / block * block;
    let mut copy = bytes[..header.data_offset + data_len].to_vec();
    copy[header.data_offset - 4..header.data_offset]
        .copy_from_slice(&(data_len as u32).to_le_bytes());
    let riff_len = (copy.len() - 8) as u32;
    copy[4..8].copy_from_slice(&riff_len.to_le_bytes());
    copy
}

fn audio_bytes<'a>(bytes: &'a [u8], header: &RiffHeader) -> &'a [u8] {
    let data = &bytes[header.data_offset..header.data_offset + header.data_len];
    let block = usize::from(header.block_align.max(1));
    &data[..data.len() / block * block]
}

fn g711_data<'a>(bytes: &'a [u8], header: &RiffHeader) -> std::slice::Iter<'a, u8> {
    audio_bytes(bytes, header).iter()
}

fn decode_f64(bytes: &[u8], header: &RiffHeader) -> Vec<f32> {
    audio_bytes(bytes, header)
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32)
        .collect()
}

/// A float sample as audio: NaN is silence, anything beyond full scale (infinities included)
/// is full scale. Float WAVs may hold any bit pattern, and the resampler's FFT turns a single
/// NaN or infinity into a panic.
fn full_scale(sample: f32) -> f32 {
    if sample.is_nan() {
        0.0
    } else {
        sample.clamp(-1.0, 1.0)
    }
}

fn downmix(interleaved: &[f32], channels: usize) -> Vec<f32> {
    if channels == 1 {
        return interleaved.to_vec();
    }
    let scale = 1.0 / channels as f32;
    interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() * scale)
        .collect()
}

impl WavAudio {
    /// Duration of the converted audio in seconds.
    pub fn duration_seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(SAMPLE_RATE)
    }
}
