//! `RecordingArchiver`: with `[recording] archive_format = "opus"`, the recordings of calls
//! that ended `archive_after_minutes` ago are kept as Ogg Opus instead of WAV, for three years
//! of retention at a twentieth of the disk. Per call, in an order where a stop at any step
//! leaves a playable recording the store points at: the waveform's peaks are read from the WAV
//! into a file beside it (the review page draws them; Opus is not decoded for that), the Opus
//! file is written whole (temporary name, sync, rename), the store is pointed at it, and only
//! then is the WAV deleted. A run interrupted before the store changed is redone by the next.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::call_store::{CallStore, StoreError, WavRecording};
use super::clock::Clock;
use super::config::{ArchiveFormat, RecordingConfig};
use super::live_wav::RECORDING_RATE;
use super::ogg_opus::{OPUS_EXTENSION, TranscodeError, wav_to_ogg_opus};
use super::recording_peaks::{PEAK_POINTS, PeaksError, RecordingPeaks, recording_peaks};
use super::store_metrics::StoreMetrics;

/// Where the peaks of an archived recording are kept: beside it, `NAME.peaks.json`.
pub fn peaks_file(recording: &Path) -> PathBuf {
    recording.with_extension("peaks.json")
}

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ArchiveReport {
    /// Calls whose recording is Ogg Opus now.
    pub archived: Vec<i64>,
    /// Calls whose WAV could not be transcoded (left as WAV, logged), with why.
    pub failed: Vec<(i64, String)>,
    /// Bytes of the WAVs archived, and of the Opus files that replaced them.
    pub wav_bytes: u64,
    pub opus_bytes: u64,
}

/// The archiving job over one store.
pub struct RecordingArchiver {
    pub store: Arc<dyn CallStore>,
    pub clock: Arc<dyn Clock>,
    pub config: RecordingConfig,
    pub metrics: Arc<StoreMetrics>,
}

impl RecordingArchiver {
    /// Archives every finished call's WAV old enough; nothing when the format is `wav`.
    pub fn run_once(&self) -> Result<ArchiveReport, StoreError> {
        let mut report = ArchiveReport::default();
        if self.config.archive_format != ArchiveFormat::Opus {
            return Ok(report);
        }
        let cutoff = self.clock.now_ms() - i64::from(self.config.archive_after_minutes) * 60_000;
        for recording in self.store.wav_recordings_ended_before(cutoff)? {
            let wav_bytes = std::fs::metadata(&recording.path).map_or(0, |m| m.len());
            match self.archive(&recording) {
                Ok(opus) => {
                    self.store.set_recording(
                        recording.id,
                        recording.status,
                        Some(&opus.0),
                        None,
                    )?;
                    if let Err(error) = std::fs::remove_file(&recording.path) {
                        tracing::error!(call = recording.id, path = %recording.path.display(), %error, "archived recording's WAV could not be deleted; delete it by hand");
                    }
                    report.archived.push(recording.id);
                    report.wav_bytes += wav_bytes;
                    report.opus_bytes += opus.1;
                }
                Err(error) => {
                    tracing::error!(call = recording.id, %error, "recording not archived as Opus; it stays a WAV, retried at the next run");
                    StoreMetrics::add(&self.metrics.store_errors, 1);
                    report.failed.push((recording.id, error.to_string()));
                }
            }
        }
        if !report.archived.is_empty() {
            tracing::info!(
                calls = report.archived.len(),
                wav_bytes = report.wav_bytes,
                opus_bytes = report.opus_bytes,
                "recordings archived as Ogg Opus"
            );
        }
        Ok(report)
    }

    /// Writes the peaks file and the Opus file of `recording`; the Opus path and size.
    fn archive(&self, recording: &WavRecording) -> Result<(PathBuf, u64), TranscodeError> {
        let io_error = |path: &Path| {
            let path = path.display().to_string();
            move |source| TranscodeError::Io { path, source }
        };
        let opus = recording.path.with_extension(OPUS_EXTENSION);
        let file = std::fs::File::open(&recording.path).map_err(io_error(&recording.path))?;
        let peaks = match recording_peaks(file, PEAK_POINTS) {
            Ok(peaks) => peaks,
            // A call hung up before its first frame: nothing to draw, still a recording.
            Err(PeaksError::Empty) => RecordingPeaks {
                duration_s: 0.0,
                sample_rate: RECORDING_RATE,
                channels: vec![Vec::new(), Vec::new()],
            },
            Err(error) => {
                return Err(TranscodeError::NotRecording {
                    path: recording.path.display().to_string(),
                    problem: error.to_string(),
                });
            }
        };
        let json = serde_json::to_vec(&peaks).map_err(|error| TranscodeError::Io {
            path: recording.path.display().to_string(),
            source: error.into(),
        })?;
        let peaks_path = peaks_file(&opus);
        let mut peaks_out = std::fs::File::create(&peaks_path).map_err(io_error(&peaks_path))?;
        peaks_out
            .write_all(&json)
            .and_then(|()| peaks_out.sync_all())
            .map_err(io_error(&peaks_path))?;
        let bitrate = i32::try_from(self.config.opus_bitrate_kbps * 1000).unwrap_or(24_000);
        let done = wav_to_ogg_opus(&recording.path, &opus, bitrate)?;
        Ok((opus, done.bytes))
    }
}
