//! A recording's waveform in a few thousand numbers: the lowest and highest sample of each of
//! `points` equal stretches of every channel, read through the WAV in chunks (memory bounded
//! whatever the call's length). The review player draws these instead of downloading and
//! decoding the whole file (a 10-minute call is 38 MB), so it draws at once and plays by
//! streaming. Pure: a reader in, numbers out; the caching is [`crate::store::PeaksCache`].

use std::io::{self, Read, Seek, SeekFrom};

use serde::Serialize;

/// Stretches per channel the review page asks for: more than a page's width in pixels.
pub const PEAK_POINTS: usize = 2000;

/// Bytes read at a time.
const CHUNK_BYTES: usize = 64 * 1024;

/// Chunks skipped looking for `data` before the file is taken as not a recording.
const MAX_CHUNKS: usize = 64;

/// A recording's peaks, as the review page's script reads them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordingPeaks {
    /// Seconds of audio in the file.
    pub duration_s: f64,
    pub sample_rate: u32,
    /// Per channel (caller, then bot): `min, max` of each stretch in turn, in -1..=1.
    pub channels: Vec<Vec<f32>>,
}

/// Why a file has no peaks.
#[derive(Debug, thiserror::Error)]
pub enum PeaksError {
    #[error("reading the recording failed: {0}")]
    Io(#[from] io::Error),
    #[error("not a WAV file ({0})")]
    NotWav(&'static str),
    #[error("a WAV this player cannot draw ({0})")]
    Unsupported(String),
    #[error("the recording holds no audio yet")]
    Empty,
}

/// The WAV's audio format, from its `fmt ` chunk.
struct Format {
    channels: usize,
    sample_rate: u32,
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn read_format(body: &[u8]) -> Result<Format, PeaksError> {
    if body.len() < 16 {
        return Err(PeaksError::NotWav("fmt chunk too short"));
    }
    let tag = u16_at(body, 0);
    let channels = usize::from(u16_at(body, 2));
    let sample_rate = u32_at(body, 4);
    let bits = u16_at(body, 14);
    // 0xFFFE (extensible) holds plain PCM too; its sub-format is not checked.
    if !(tag == 1 || tag == 0xFFFE) || bits != 16 {
        return Err(PeaksError::Unsupported(format!(
            "format {tag:#x}, {bits}-bit: only 16-bit PCM"
        )));
    }
    if !(1..=8).contains(&channels) || sample_rate == 0 {
        return Err(PeaksError::Unsupported(format!(
            "{channels} channels at {sample_rate} Hz"
        )));
    }
    Ok(Format {
        channels,
        sample_rate,
    })
}

/// Reads the RIFF header up to the `data` chunk: the format and the audio's byte count (as
/// the header says it, but never past the end of the file, for a file cut short).
fn read_header<R: Read + Seek>(wav: &mut R, file_len: u64) -> Result<(Format, u64), PeaksError> {
    let mut riff = [0u8; 12];
    wav.read_exact(&mut riff)
        .map_err(|_| PeaksError::NotWav("shorter than a WAV header"))?;
    if &riff[0..4] != b"RIFF" || &riff[8..12] != b"WAVE" {
        return Err(PeaksError::NotWav("no RIFF/WAVE header"));
    }
    let mut format = None;
    for _ in 0..MAX_CHUNKS {
        let mut head = [0u8; 8];
        wav.read_exact(&mut head)
            .map_err(|_| PeaksError::NotWav("no data chunk"))?;
        let size = u64::from(u32_at(&head, 4));
        match &head[0..4] {
            b"fmt " => {
                let mut body = vec![0u8; usize::try_from(size.min(64)).unwrap_or(64)];
                wav.read_exact(&mut body)
                    .map_err(|_| PeaksError::NotWav("fmt chunk cut short"))?;
                format = Some(read_format(&body)?);
                let rest = size + (size & 1) - body.len() as u64;
                wav.seek(SeekFrom::Current(i64::try_from(rest).unwrap_or(i64::MAX)))?;
            }
            b"data" => {
                let format = format.ok_or(PeaksError::NotWav("data before fmt"))?;
                let at = wav.stream_position()?;
                return Ok((format, size.min(file_len.saturating_sub(at))));
            }
            _ => {
                let skip = size + (size & 1);
                wav.seek(SeekFrom::Current(i64::try_from(skip).unwrap_or(i64::MAX)))?;
            }
        }
    }
    Err(PeaksError::NotWav("no data chunk"))
}

/// The channel count, sample rate and audio bytes of the 16-bit PCM WAV in `wav` (of
/// `file_len` bytes), leaving it positioned at the first sample.
pub(super) fn wav_data<R: Read + Seek>(
    wav: &mut R,
    file_len: u64,
) -> Result<(usize, u32, u64), PeaksError> {
    let (format, data_bytes) = read_header(wav, file_len)?;
    Ok((format.channels, format.sample_rate, data_bytes))
}

/// The peaks of the WAV in `wav` (16-bit PCM, any rate, 1-8 channels): `points` stretches
/// per channel, fewer when the file holds fewer samples. Reads the file once, in chunks.
pub fn recording_peaks<R: Read + Seek>(
    mut wav: R,
    points: usize,
) -> Result<RecordingPeaks, PeaksError> {
    let file_len = wav.seek(SeekFrom::End(0))?;
    wav.seek(SeekFrom::Start(0))?;
    let (format, data_bytes) = read_header(&mut wav, file_len)?;
    let block = format.channels * 2;
    let frames = data_bytes / block as u64;
    if frames == 0 || points == 0 {
        return Err(PeaksError::Empty);
    }
    let points = u64::try_from(points).unwrap_or(u64::MAX).min(frames);
    // Stretch `b` holds frames [b * frames / points, (b + 1) * frames / points).
    let stretch_end =
        |b: u64| ((u128::from(b) + 1) * u128::from(frames) / u128::from(points)) as u64;
    let mut channels: Vec<Vec<f32>> = (0..format.channels)
        .map(|_| Vec::with_capacity(points as usize * 2))
        .collect();
    let mut low = vec![i16::MAX; format.channels];
    let mut high = vec![i16::MIN; format.channels];
    let mut stretch = 0u64;
    let mut next_end = stretch_end(0);
    let mut frame = 0u64;
    let mut chunk = vec![0u8; CHUNK_BYTES - CHUNK_BYTES % block];
    let mut reader = wav.take(frames * block as u64);
    while frame < frames {
        let want = usize::try_from((frames - frame) * block as u64)
            .unwrap_or(usize::MAX)
            .min(chunk.len());
        // The data was measured against the file's length, so it is all there unless the
        // file shrank under us.
        reader.read_exact(&mut chunk[..want])?;
        let mut data = &chunk[..want];
        while !data.is_empty() {
            // The frames of this chunk that belong to the current stretch.
            let run_frames = (next_end - frame).min((data.len() / block) as u64);
            let (run, rest) = data.split_at(run_frames as usize * block);
            fold_run(run, block, &mut low, &mut high);
            frame += run_frames;
            data = rest;
            if frame == next_end {
                for ((channel, low), high) in channels.iter_mut().zip(&mut low).zip(&mut high) {
                    channel.push(scaled(*low));
                    channel.push(scaled(*high));
                    *low = i16::MAX;
                    *high = i16::MIN;
                }
                stretch += 1;
                next_end = stretch_end(stretch);
            }
        }
    }
    Ok(RecordingPeaks {
        duration_s: frames as f64 / f64::from(format.sample_rate),
        sample_rate: format.sample_rate,
        channels,
    })
}

/// Folds the interleaved frames `run` (`block` bytes each) into each channel's lowest and
/// highest sample, a channel at a time (a tight loop the compiler vectorizes).
fn fold_run(run: &[u8], block: usize, low: &mut [i16], high: &mut [i16]) {
    for (c, (low, high)) in low.iter_mut().zip(high.iter_mut()).enumerate() {
        let (lo, hi) = run
            .chunks_exact(block)
            .map(|frame| i16::from_le_bytes([frame[2 * c], frame[2 * c + 1]]))
            .fold((*low, *high), |(lo, hi), v| (lo.min(v), hi.max(v)));
        *low = lo;
        *high = hi;
    }
}

/// A sample in -1..=1, rounded to 1/10000 (enough to draw, short in JSON).
fn scaled(sample: i16) -> f32 {
    (f32::from(sample) / 32768.0 * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A canonical 16-bit WAV of interleaved `samples`; `data_size` overrides the header's.
    fn wav(channels: u16, rate: u32, samples: &[i16], data_size: Option<u32>) -> Vec<u8> {
        let data = (samples.len() * 2) as u32;
        let mut b = Vec::new();
        b.extend_from_slice(b"RIFF");
        b.extend_from_slice(&(36 + data).to_le_bytes());
        b.extend_from_slice(b"WAVEfmt ");
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&channels.to_le_bytes());
        b.extend_from_slice(&rate.to_le_bytes());
        b.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
        b.extend_from_slice(&(channels * 2).to_le_bytes());
        b.extend_from_slice(&16u16.to_le_bytes());
        b.extend_from_slice(b"data");
        b.extend_from_slice(&data_size.unwrap_or(data).to_le_bytes());
        for s in samples {
            b.extend_from_slice(&s.to_le_bytes());
        }
        b
    }

    #[test]
    fn each_stretch_keeps_its_lowest_and_highest_sample_per_channel() {
        // Stereo, 8 frames, 4 stretches of 2 frames: left rises, right is its negative.
        let left = [0i16, 100, -200, 300, 16384, -16384, 0, 32767];
        let samples: Vec<i16> = left.iter().flat_map(|&l| [l, -l]).collect();
        let peaks = recording_peaks(Cursor::new(wav(2, 16_000, &samples, None)), 4).unwrap();
        assert_eq!(peaks.sample_rate, 16_000);
        assert!((peaks.duration_s - 8.0 / 16_000.0).abs() < 1e-12);
        assert_eq!(
            peaks.channels[0],
            [0.0, 0.0031, -0.0061, 0.0092, -0.5, 0.5, 0.0, 1.0]
        );
        assert_eq!(
            peaks.channels[1],
            [-0.0031, 0.0, -0.0092, 0.0061, -0.5, 0.5, -1.0, 0.0]
        );
    }

    #[test]
    fn stretches_cover_every_frame_when_they_do_not_divide_evenly() {
        let samples: Vec<i16> = (0..1001).map(|i| i as i16).collect();
        let peaks = recording_peaks(Cursor::new(wav(1, 8_000, &samples, None)), 7).unwrap();
        assert_eq!(peaks.channels.len(), 1);
        assert_eq!(peaks.channels[0].len(), 14);
        assert_eq!(peaks.channels[0][0], 0.0);
        assert_eq!(*peaks.channels[0].last().unwrap(), scaled(1000));
        // Fewer frames than points: one stretch per frame.
        let peaks = recording_peaks(Cursor::new(wav(1, 8_000, &[5, 6, 7], None)), 2000).unwrap();
        assert_eq!(peaks.channels[0].len(), 6);
    }

    #[test]
    fn a_long_recording_is_read_in_chunks_to_the_end() {
        // 3 s of stereo at 16 kHz: many chunks; the loudest sample is in the last frame.
        let mut samples = vec![0i16; 16_000 * 3 * 2];
        let n = samples.len();
        samples[n - 1] = -32768;
        let peaks = recording_peaks(Cursor::new(wav(2, 16_000, &samples, None)), 2000).unwrap();
        assert_eq!(peaks.channels[1].len(), 4000);
        assert_eq!(peaks.channels[1][3998], -1.0);
        assert!((peaks.duration_s - 3.0).abs() < 1e-9);
    }

    #[test]
    fn a_file_cut_short_is_drawn_as_far_as_it_goes() {
        // The header promises 1000 frames (a recording still being written); 10 are there.
        let samples = vec![1000i16; 20];
        let peaks =
            recording_peaks(Cursor::new(wav(2, 16_000, &samples, Some(4000))), 2000).unwrap();
        assert_eq!(peaks.channels[0].len(), 20);
        assert!((peaks.duration_s - 10.0 / 16_000.0).abs() < 1e-12);
    }

    #[test]
    fn other_chunks_before_the_audio_are_skipped() {
        let mut file = wav(1, 16_000, &[7, -7], None);
        // A `LIST` chunk of 3 bytes (padded to 4) between `fmt ` and `data`.
        let list = [b"LIST".as_slice(), &3u32.to_le_bytes(), b"abc\0"].concat();
        file.splice(36..36, list);
        let peaks = recording_peaks(Cursor::new(file), 1).unwrap();
        assert_eq!(peaks.channels[0], [scaled(-7), scaled(7)]);
    }

    #[test]
    fn corrupt_short_and_empty_files_are_errors_not_panics() {
        let not_wav = recording_peaks(Cursor::new(b"hello, world, not a wav".to_vec()), 10);
        assert!(matches!(not_wav, Err(PeaksError::NotWav(_))), "{not_wav:?}");
        let short = recording_peaks(Cursor::new(b"RIFF".to_vec()), 10);
        assert!(matches!(short, Err(PeaksError::NotWav(_))), "{short:?}");
        let no_data = wav(1, 16_000, &[], None)[..36].to_vec();
        assert!(matches!(
            recording_peaks(Cursor::new(no_data), 10),
            Err(PeaksError::NotWav(_))
        ));
        let empty = recording_peaks(Cursor::new(wav(2, 16_000, &[], None)), 10);
        assert!(matches!(empty, Err(PeaksError::Empty)), "{empty:?}");
        let mut float = wav(1, 16_000, &[1, 2], None);
        float[20] = 3;
        float[34] = 32;
        let float = recording_peaks(Cursor::new(float), 10);
        assert!(
            matches!(float, Err(PeaksError::Unsupported(_))),
            "{float:?}"
        );
        let mut zero_channels = wav(1, 16_000, &[1, 2], None);
        zero_channels[22] = 0;
        assert!(matches!(
            recording_peaks(Cursor::new(zero_channels), 10),
            Err(PeaksError::Unsupported(_))
        ));
        // Garbage after a valid RIFF header: a chunk claiming 4 GB, then nothing.
        let mut garbage = b"RIFF\0\0\0\0WAVE".to_vec();
        garbage.extend_from_slice(b"junk\xff\xff\xff\xff");
        assert!(recording_peaks(Cursor::new(garbage), 10).is_err());
    }
}
