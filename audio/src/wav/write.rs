//! Writing 16-bit PCM mono WAVs: engine audio at 16 kHz (recordings, debugging dumps) or any
//! other rate (channel-side audio, fixtures).

use std::io::{Cursor, Seek, Write};
use std::path::Path;

use super::error::WavError;
use crate::frame::SAMPLE_RATE;

fn spec(sample_rate: u32) -> hound::WavSpec {
    hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    }
}

fn write_samples<W: Write + Seek>(
    writer: W,
    samples: &[i16],
    sample_rate: u32,
) -> Result<(), hound::Error> {
    let mut wav = hound::WavWriter::new(writer, spec(sample_rate))?;
    let mut samples_writer = wav.get_i16_writer(samples.len() as u32);
    for &sample in samples {
        samples_writer.write_sample(sample);
    }
    samples_writer.flush()?;
    wav.finalize()
}

/// Write 16 kHz mono samples (engine audio) as a 16-bit PCM WAV.
pub fn write_wav_16k_mono(path: impl AsRef<Path>, samples: &[i16]) -> Result<(), WavError> {
    write_wav_mono(path, samples, SAMPLE_RATE)
}

/// Write mono samples at `sample_rate` as a 16-bit PCM WAV.
pub fn write_wav_mono(
    path: impl AsRef<Path>,
    samples: &[i16],
    sample_rate: u32,
) -> Result<(), WavError> {
    let path = path.as_ref();
    if sample_rate == 0 {
        return Err(WavError::ZeroSampleRate {
            path: path.to_path_buf(),
        });
    }
    let write_error = |source| WavError::Write {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(path).map_err(|e| write_error(hound::Error::IoError(e)))?;
    write_samples(std::io::BufWriter::new(file), samples, sample_rate).map_err(write_error)
}

/// Encode mono samples at `sample_rate` as the bytes of a 16-bit PCM WAV (HTTP responses).
pub fn encode_wav_mono(samples: &[i16], sample_rate: u32) -> Result<Vec<u8>, WavError> {
    let name = Path::new("<in-memory WAV>");
    if sample_rate == 0 {
        return Err(WavError::ZeroSampleRate {
            path: name.to_path_buf(),
        });
    }
    let mut bytes = Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    write_samples(&mut bytes, samples, sample_rate).map_err(|source| WavError::Write {
        path: name.to_path_buf(),
        source,
    })?;
    Ok(bytes.into_inner())
}
