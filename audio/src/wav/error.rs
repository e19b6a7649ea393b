//! Why a WAV file could not be read or written; every message names the file, the problem
//! and what to do about it.

use std::path::PathBuf;

use super::encoding::WavEncoding;
use crate::resample::ResampleError;

/// A WAV file that could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum WavError {
    /// No file at that path.
    #[error(
        "{path}: file not found: check the path (relative paths start from the current directory)"
    )]
    NotFound {
        /// The path given.
        path: PathBuf,
    },
    /// The file exists but could not be read (permissions, a directory, I/O error).
    #[error("{path}: cannot read the file ({source}): check that it is a readable regular file")]
    Unreadable {
        /// The path given.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The file does not start with a RIFF/WAVE header (MP3, Ogg, text, raw PCM...).
    #[error(
        "{path}: not a WAV file (RIFF/WAVE header missing{found}): convert it, e.g. \
         `sox in.mp3 -r 16000 -c 1 out.wav` or `ffmpeg -i in.mp3 -ar 16000 -ac 1 out.wav`"
    )]
    NotWav {
        /// The path given.
        path: PathBuf,
        /// What the first bytes look like, e.g. "; it looks like an MP3 file".
        found: String,
    },
    /// The header or data is damaged or cut short.
    #[error(
        "{path}: corrupt or truncated WAV ({detail}): re-export or re-record it, \
         or repair it with `sox --ignore-length in.wav out.wav`"
    )]
    Corrupt {
        /// The path given.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A valid WAV whose sample encoding is not supported here (ADPCM, GSM, MP3-in-WAV...).
    #[error(
        "{path}: unsupported WAV encoding {encoding}: convert it to 16-bit PCM, e.g. \
         `sox in.wav -e signed-integer -b 16 -r 16000 -c 1 out.wav`"
    )]
    UnsupportedEncoding {
        /// The path given.
        path: PathBuf,
        /// The encoding found.
        encoding: WavEncoding,
    },
    /// A header whose sample rate no recording has (see `SAMPLE_RATES`).
    #[error(
        "{path}: a sample rate of {rate} Hz is not one hotline reads (1000 to 384000 Hz): the \
         header is damaged or the file is not audio; re-export it, e.g. \
         `sox in.wav -r 16000 -c 1 out.wav`"
    )]
    UnsupportedRate {
        /// The path given.
        path: PathBuf,
        /// The rate the header claims.
        rate: u32,
    },
    /// A valid WAV with no audio in it.
    #[error("{path}: the WAV file holds no audio (zero samples): record or export it again")]
    Empty {
        /// The path given.
        path: PathBuf,
    },
    /// The file's rate could not be converted to 16 kHz.
    #[error("{path}: cannot convert to 16 kHz: {source}")]
    Resample {
        /// The path given.
        path: PathBuf,
        /// Why.
        source: ResampleError,
    },
    /// Writing failed (missing directory, permissions, disk full).
    #[error(
        "{path}: cannot write the WAV file ({source}): check that the directory exists and is writable"
    )]
    Write {
        /// The path given.
        path: PathBuf,
        /// hound's reason.
        source: hound::Error,
    },
    /// A sample rate of 0 was asked for when writing.
    #[error(
        "{path}: cannot write a WAV at 0 Hz: pass the audio's real sample rate (16000 for engine frames)"
    )]
    ZeroSampleRate {
        /// The path given.
        path: PathBuf,
    },
}
