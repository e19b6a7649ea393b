//! A finished call's stereo WAV as Ogg Opus (RFC 7845) for long retention: at the default
//! 24 kbit/s a twentieth of the WAV's size (512 kbit/s), still both channels (caller left,
//! bot or agent right) and playable in every browser the review page supports. The file is
//! written under a temporary name, synced and renamed, so a file with the final name is whole.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

use ogg::writing::{PacketWriteEndInfo, PacketWriter};
use opus::{Application, Bitrate, Channels, Encoder};

use super::live_wav::RECORDING_RATE;
use super::peaks::{PeaksError, wav_data};

/// File extension of archived recordings.
pub const OPUS_EXTENSION: &str = "opus";
/// Samples per channel in one Opus packet: 20 ms at 16 kHz.
const PACKET_SAMPLES: usize = RECORDING_RATE as usize / 50;
/// Ogg Opus granule positions count 48 kHz samples whatever the input rate (RFC 7845 §4).
const GRANULES_PER_SAMPLE: u64 = 48_000 / RECORDING_RATE as u64;
/// Largest packet the encoder may produce (RFC 6716 allows 1275 bytes per frame).
const MAX_PACKET_BYTES: usize = 1500;
/// The Ogg stream's serial number (one stream per file, so any value works).
const STREAM_SERIAL: u32 = 0x686f_746c;

/// Why a recording could not be transcoded; the WAV is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum TranscodeError {
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("{path} is not a stereo 16 kHz 16-bit WAV recording: {problem}")]
    NotRecording { path: String, problem: String },
    #[error("Opus encoder: {0}")]
    Opus(#[from] opus::Error),
}

/// What [`wav_to_ogg_opus`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transcoded {
    /// Samples per channel of the source (and of the decoded file).
    pub samples: u64,
    /// Size of the Ogg Opus file.
    pub bytes: u64,
}

/// Encodes the stereo 16 kHz WAV at `wav` as Ogg Opus at `out` (`bitrate_bps` for both
/// channels together), reading it in packet-sized pieces (memory bounded by the packet, not
/// the call). `out` appears only once it is complete and synced.
pub fn wav_to_ogg_opus(
    wav: &Path,
    out: &Path,
    bitrate_bps: i32,
) -> Result<Transcoded, TranscodeError> {
    let mut source = File::open(wav).map_err(io_error(wav))?;
    let file_len = source.seek(io::SeekFrom::End(0)).map_err(io_error(wav))?;
    source.seek(io::SeekFrom::Start(0)).map_err(io_error(wav))?;
    let (channels, rate, data_bytes) =
        wav_data(&mut source, file_len).map_err(|error| match error {
            PeaksError::Io(source) => TranscodeError::Io {
                path: wav.display().to_string(),
                source,
            },
            other => TranscodeError::NotRecording {
                path: wav.display().to_string(),
                problem: other.to_string(),
            },
        })?;
    if channels != 2 || rate != RECORDING_RATE {
        return Err(TranscodeError::NotRecording {
            path: wav.display().to_string(),
            problem: format!("{channels} channel(s) at {rate} Hz"),
        });
    }
    let samples = data_bytes / 4;

    let mut encoder = Encoder::new(RECORDING_RATE, Channels::Stereo, Application::Voip)?;
    encoder.set_bitrate(Bitrate::Bits(bitrate_bps))?;
    // The encoder's delay, in input samples: the decoder drops this much at the start
    // (pre-skip), and as much silence is fed at the end so the last real samples come out.
    let lookahead = u64::try_from(encoder.get_lookahead()?.max(0)).unwrap_or(0);
    let pre_skip = lookahead * GRANULES_PER_SAMPLE;

    let partial = part_path(out);
    let file = File::create(&partial).map_err(io_error(&partial))?;
    let mut ogg = PacketWriter::new(BufWriter::new(file));
    let write = |ogg: &mut PacketWriter<BufWriter<File>>, packet: Vec<u8>, end, granule| {
        ogg.write_packet(packet, STREAM_SERIAL, end, granule)
            .map_err(io_error(&partial))
    };
    write(
        &mut ogg,
        opus_head(pre_skip),
        PacketWriteEndInfo::EndPage,
        0,
    )?;
    write(&mut ogg, opus_tags(), PacketWriteEndInfo::EndPage, 0)?;

    let mut reader = io::BufReader::new(source.take(samples * 4));
    let mut bytes = vec![0u8; PACKET_SAMPLES * 4];
    let mut pcm = vec![0i16; PACKET_SAMPLES * 2];
    let mut packet = vec![0u8; MAX_PACKET_BYTES];
    let to_encode = samples + lookahead;
    let mut encoded = 0u64;
    loop {
        let real = usize::try_from(samples.saturating_sub(encoded).min(PACKET_SAMPLES as u64))
            .unwrap_or(PACKET_SAMPLES);
        reader
            .read_exact(&mut bytes[..real * 4])
            .map_err(io_error(wav))?;
        bytes[real * 4..].fill(0);
        for (sample, pair) in pcm.iter_mut().zip(bytes.chunks_exact(2)) {
            *sample = i16::from_le_bytes([pair[0], pair[1]]);
        }
        let length = encoder.encode(&pcm, &mut packet)?;
        encoded += PACKET_SAMPLES as u64;
        let last = encoded >= to_encode;
        // A page's granule position counts the 48 kHz samples decoded up to its last packet,
        // the pre-skip among them; the last page's ends exactly at the source's end
        // (RFC 7845 §4), which trims the padding of the last packet.
        let granule = (encoded * GRANULES_PER_SAMPLE).min(pre_skip + samples * GRANULES_PER_SAMPLE);
        let end = if last {
            PacketWriteEndInfo::EndStream
        } else if encoded.is_multiple_of(50 * PACKET_SAMPLES as u64) {
            // A page a second, so a player seeking by bisection lands close.
            PacketWriteEndInfo::EndPage
        } else {
            PacketWriteEndInfo::NormalPacket
        };
        write(&mut ogg, packet[..length].to_vec(), end, granule)?;
        if last {
            break;
        }
    }
    let mut buffered = ogg.into_inner();
    buffered.flush().map_err(io_error(&partial))?;
    let file = buffered
        .into_inner()
        .map_err(|error| io_error(&partial)(error.into_error()))?;
    file.sync_all().map_err(io_error(&partial))?;
    let bytes = file.metadata().map_err(io_error(&partial))?.len();
    drop(file);
    std::fs::rename(&partial, out).map_err(io_error(out))?;
    if let Some(folder) = out.parent()
        && let Ok(folder) = File::open(folder)
    {
        // The rename itself survives a power cut once the folder is synced.
        let _ = folder.sync_all();
    }
    Ok(Transcoded { samples, bytes })
}

/// The error of reading or writing `path`, for `map_err`.
pub(super) fn io_error(path: &Path) -> impl FnOnce(io::Error) -> TranscodeError + use<> {
    let path = path.display().to_string();
    move |source| TranscodeError::Io { path, source }
}

/// Where [`wav_to_ogg_opus`] writes before the rename.
fn part_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".part");
    PathBuf::from(name)
}

/// The identification header (RFC 7845 §5.1): version 1, two channels, mapping family 0.
fn opus_head(pre_skip: u64) -> Vec<u8> {
    let mut head = Vec::with_capacity(19);
    head.extend_from_slice(b"OpusHead");
    head.push(1);
    head.push(2);
    head.extend_from_slice(&u16::try_from(pre_skip).unwrap_or(u16::MAX).to_le_bytes());
    head.extend_from_slice(&RECORDING_RATE.to_le_bytes());
    head.extend_from_slice(&0i16.to_le_bytes());
    head.push(0);
    head
}

/// The comment header (RFC 7845 §5.2): the vendor string and what the channels hold.
fn opus_tags() -> Vec<u8> {
    let vendor = format!("hotline {}", env!("CARGO_PKG_VERSION"));
    let comments = ["CHANNELS=caller left, bot or agent right"];
    let mut tags = Vec::new();
    tags.extend_from_slice(b"OpusTags");
    tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    tags.extend_from_slice(vendor.as_bytes());
    tags.extend_from_slice(&(comments.len() as u32).to_le_bytes());
    for comment in comments {
        tags.extend_from_slice(&(comment.len() as u32).to_le_bytes());
        tags.extend_from_slice(comment.as_bytes());
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::LiveWav;
    use ogg::reading::PacketReader;

    /// A call-like stereo WAV: a 300 Hz tone on the left, 700 Hz on the right.
    fn tone_wav(path: &Path, samples: usize) {
        let mut wav = LiveWav::create(path).unwrap();
        let tone = |hz: f32, i: usize| {
            ((i as f32 * hz * std::f32::consts::TAU / 16_000.0).sin() * 8000.0) as i16
        };
        let left: Vec<i16> = (0..samples).map(|i| tone(300.0, i)).collect();
        let right: Vec<i16> = (0..samples).map(|i| tone(700.0, i)).collect();
        wav.push(&left, &right);
        wav.finish().unwrap();
    }

    /// Decodes an Ogg Opus file: the headers' fields, then the PCM after pre-skip, cut at
    /// the last granule position, per channel.
    fn decode(path: &Path) -> (Vec<u8>, Vec<i16>, Vec<i16>) {
        let mut reader = PacketReader::new(File::open(path).unwrap());
        let head = reader.read_packet_expected().unwrap();
        let tags = reader.read_packet_expected().unwrap();
        assert!(tags.data.starts_with(b"OpusTags"));
        let pre_skip = u64::from(u16::from_le_bytes([head.data[10], head.data[11]]));
        let mut decoder = opus::Decoder::new(48_000, Channels::Stereo).unwrap();
        let mut pcm = Vec::new();
        let mut last_granule = 0;
        let mut buffer = vec![0i16; 5760 * 2];
        while let Some(packet) = reader.read_packet().unwrap() {
            let n = decoder.decode(&packet.data, &mut buffer, false).unwrap();
            pcm.extend_from_slice(&buffer[..n * 2]);
            last_granule = packet.absgp_page();
            if packet.last_in_stream() {
                break;
            }
        }
        let end = usize::try_from(last_granule).unwrap();
        let frames: Vec<&[i16]> = pcm.chunks_exact(2).collect();
        let kept = &frames[pre_skip as usize..end];
        // Back to 16 kHz: every third sample (the tones are far below 8 kHz).
        let left = kept.iter().step_by(3).map(|f| f[0]).collect();
        let right = kept.iter().step_by(3).map(|f| f[1]).collect();
        (head.data, left, right)
    }

    fn level(samples: &[i16], from: usize) -> f64 {
        let tail = &samples[from..];
        (tail.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / tail.len() as f64).sqrt()
    }

    #[test]
    fn a_recording_comes_back_with_its_length_and_both_channels() {
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("call.wav");
        let out = dir.path().join("call.opus");
        // 2.51 s: not a whole number of packets.
        tone_wav(&wav, 40_160);
        let done = wav_to_ogg_opus(&wav, &out, 24_000).unwrap();
        assert_eq!(done.samples, 40_160);
        let wav_bytes = std::fs::metadata(&wav).unwrap().len();
        assert!(
            done.bytes * 10 < wav_bytes,
            "{} bytes of Opus for {wav_bytes} of WAV",
            done.bytes
        );
        assert!(!part_path(&out).exists(), "the temporary file is renamed");

        let (head, left, right) = decode(&out);
        assert_eq!(&head[..8], b"OpusHead");
        assert_eq!(head[9], 2, "two channels");
        assert_eq!(
            u32::from_le_bytes([head[12], head[13], head[14], head[15]]),
            16_000
        );
        assert_eq!(left.len(), 40_160, "decoded length = source length");
        // Each channel keeps its own tone at about its level (8000 peak → RMS ≈ 5657).
        let (l, r) = (level(&left, 1600), level(&right, 1600));
        assert!((4000.0..7000.0).contains(&l), "left RMS {l}");
        assert!((4000.0..7000.0).contains(&r), "right RMS {r}");
        // And lines up with its source sample for sample (pre-skip and length right): the
        // decoded channel correlates with its own tone, not with the other side's.
        let correlation = |decoded: &[i16], hz: f32| {
            let (mut dot, mut a, mut b) = (0.0f64, 0.0f64, 0.0f64);
            for (i, &d) in decoded.iter().enumerate().skip(1600) {
                let t = f64::from((i as f32 * hz * std::f32::consts::TAU / 16_000.0).sin());
                dot += f64::from(d) * t;
                a += f64::from(d).powi(2);
                b += t * t;
            }
            dot / (a.sqrt() * b.sqrt())
        };
        let (own, other) = (correlation(&left, 300.0), correlation(&left, 700.0));
        assert!(
            own > 0.9 && other.abs() < 0.1,
            "left: {own:.3} / {other:.3}"
        );
        let (own, other) = (correlation(&right, 700.0), correlation(&right, 300.0));
        assert!(
            own > 0.9 && other.abs() < 0.1,
            "right: {own:.3} / {other:.3}"
        );
    }

    #[test]
    fn what_is_not_a_recording_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let mono = dir.path().join("mono.wav");
        hotline_audio::wav::write_wav_16k_mono(&mono, &[0i16; 1600]).unwrap();
        let error = wav_to_ogg_opus(&mono, &dir.path().join("m.opus"), 24_000).unwrap_err();
        assert!(error.to_string().contains("mono.wav"), "{error}");
        assert!(error.to_string().contains("1 channel"), "{error}");
        let junk = dir.path().join("junk.wav");
        std::fs::write(&junk, b"not a wav at all").unwrap();
        let error = wav_to_ogg_opus(&junk, &dir.path().join("j.opus"), 24_000).unwrap_err();
        assert!(
            matches!(error, TranscodeError::NotRecording { .. }),
            "{error}"
        );
        assert!(!dir.path().join("j.opus").exists());
    }
}
