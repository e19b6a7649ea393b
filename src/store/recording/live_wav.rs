//! `LiveWav`: a stereo 16 kHz 16-bit WAV written while the call runs. The audio is handed to
//! the OS and the header's sizes rewritten at every [`LiveWav::flush`], so a killed process
//! leaves a file any player reads up to the last flush; [`LiveWav::finish`] syncs it to disk.
//! [`repair_wav`] fixes the sizes of a file left partial, from its length.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Samples per second of every recording.
pub const RECORDING_RATE: u32 = 16_000;
/// Caller left, bot right.
pub const RECORDING_CHANNELS: u16 = 2;
/// Bytes of one stereo sample.
const BLOCK_BYTES: u64 = 4;
/// The canonical header: RIFF, `fmt ` (16 bytes), `data`.
pub const HEADER_BYTES: u64 = 44;
/// Bytes of audio per millisecond.
pub const BYTES_PER_MS: u64 = RECORDING_RATE as u64 * BLOCK_BYTES / 1000;

/// What can be wrong with a recording file.
#[derive(Debug, thiserror::Error)]
pub enum RecordingFileError {
    #[error("recording {path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("recording {path} is not a stereo 16 kHz 16-bit WAV written by hotline")]
    NotOurs { path: String },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> RecordingFileError + '_ {
    move |source| RecordingFileError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The 44-byte header of a stereo 16 kHz 16-bit WAV holding `data_bytes` of audio.
fn header(data_bytes: u64) -> [u8; HEADER_BYTES as usize] {
    let data = u32::try_from(data_bytes).unwrap_or(u32::MAX - 36);
    let mut h = [0u8; HEADER_BYTES as usize];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&data.saturating_add(36).to_le_bytes());
    h[8..12].copy_from_slice(b"WAVE");
    h[12..16].copy_from_slice(b"fmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes());
    h[22..24].copy_from_slice(&RECORDING_CHANNELS.to_le_bytes());
    h[24..28].copy_from_slice(&RECORDING_RATE.to_le_bytes());
    h[28..32].copy_from_slice(&(RECORDING_RATE * BLOCK_BYTES as u32).to_le_bytes());
    h[32..34].copy_from_slice(&(BLOCK_BYTES as u16).to_le_bytes());
    h[34..36].copy_from_slice(&16u16.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data.to_le_bytes());
    h
}

/// A recording being written.
#[derive(Debug)]
pub struct LiveWav {
    file: File,
    /// Interleaved little-endian samples not yet handed to the OS.
    pending: Vec<u8>,
    /// Audio bytes in the file.
    written: u64,
}

impl LiveWav {
    /// Creates `path` (never overwriting a file) with an empty recording.
    pub fn create(path: &Path) -> Result<Self, RecordingFileError> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(io_error(path))?;
        file.write_all(&header(0)).map_err(io_error(path))?;
        Ok(Self {
            file,
            pending: Vec::with_capacity(64 * 1024),
            written: 0,
        })
    }

    /// Appends one stretch of audio, `left` and `right` the same length.
    pub fn push(&mut self, left: &[i16], right: &[i16]) {
        for (l, r) in left.iter().zip(right) {
            self.pending.extend_from_slice(&l.to_le_bytes());
            self.pending.extend_from_slice(&r.to_le_bytes());
        }
    }

    /// Hands the audio to the OS and rewrites the header's sizes.
    pub fn flush(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.file.write_all(&self.pending)?;
        self.written += self.pending.len() as u64;
        self.pending.clear();
        self.file.write_all_at(&header(self.written), 0)
    }

    /// Length in ms of what was pushed.
    pub fn length_ms(&self) -> u64 {
        (self.written + self.pending.len() as u64) / BYTES_PER_MS
    }

    /// Flushes and syncs the file to disk; its length in ms.
    pub fn finish(mut self) -> io::Result<u64> {
        self.flush()?;
        self.file.sync_data()?;
        Ok(self.length_ms())
    }
}

/// Rewrites the sizes in a recording left partial from the file's length (cutting a torn
/// last sample) and syncs it; its length in ms.
pub fn repair_wav(path: &Path) -> Result<u64, RecordingFileError> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io_error(path))?;
    let mut head = [0u8; HEADER_BYTES as usize];
    let length = file.metadata().map_err(io_error(path))?.len();
    if length < HEADER_BYTES
        || file.read_exact(&mut head).is_err()
        || head[0..4] != *b"RIFF"
        || head[8..16] != *b"WAVEfmt "
        || head[36..40] != *b"data"
        || head[22..24] != RECORDING_CHANNELS.to_le_bytes()
        || head[24..28] != RECORDING_RATE.to_le_bytes()
    {
        return Err(RecordingFileError::NotOurs {
            path: path.display().to_string(),
        });
    }
    let data = (length - HEADER_BYTES) / BLOCK_BYTES * BLOCK_BYTES;
    file.set_len(HEADER_BYTES + data).map_err(io_error(path))?;
    file.write_all_at(&header(data), 0)
        .map_err(io_error(path))?;
    file.sync_data().map_err(io_error(path))?;
    Ok(data / BYTES_PER_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flushed_recording_reads_back_and_a_torn_one_is_repaired() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("call.wav");
        let mut wav = LiveWav::create(&path).unwrap();
        let left = vec![1000i16; 16_000];
        let right = vec![-1000i16; 16_000];
        wav.push(&left, &right);
        wav.flush().unwrap();
        // Readable mid-call: one second, stereo, 16 kHz.
        let audio = hotline_audio::wav::read_wav_16k_mono(&path).unwrap();
        assert_eq!(audio.samples.len(), 16_000);
        wav.push(&left[..800], &right[..800]);
        drop(wav); // killed: the last 50 ms were never flushed
        // A torn write: half a sample at the end, header still saying one second.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&[0u8; 4 * 160 + 3]).unwrap();
        assert_eq!(repair_wav(&path).unwrap(), 1010);
        assert!(LiveWav::create(&path).is_err(), "never overwrites");
        let finished = LiveWav::create(&dir.path().join("b.wav")).unwrap();
        assert_eq!(finished.finish().unwrap(), 0);
    }

    #[test]
    fn foreign_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.wav");
        std::fs::write(&path, b"not a wav at all, just some text, long enough..").unwrap();
        assert!(matches!(
            repair_wav(&path),
            Err(RecordingFileError::NotOurs { .. })
        ));
        assert!(matches!(
            repair_wav(&dir.path().join("missing.wav")),
            Err(RecordingFileError::Io { .. })
        ));
    }
}
