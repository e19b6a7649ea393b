//! `RecordingArchiver`: what happens to a finished call's recording once the call has been over
//! for `[recording] archive_after_minutes`. With `archive_format = "opus"` the WAV becomes
//! Ogg Opus (a twentieth of the disk); with `object_store` set the recording leaves for that
//! store ([`RecordingObjects`]). Per call, in an order where a stop at any step leaves a
//! playable recording the call store points at: the waveform's peaks are read from the WAV
//! into a file beside it (the review page draws them; Opus is not decoded for that), the Opus
//! file is written whole (temporary name, sync, rename), the recording and its peaks are
//! uploaded, the call store is pointed at the result, and only then are the files it replaced
//! deleted. A run interrupted before the store changed is redone by the next.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::live_wav::RECORDING_RATE;
use super::objects::{ObjectError, RecordingObjects, block_on};
use super::ogg_opus::{OPUS_EXTENSION, TranscodeError, io_error, wav_to_ogg_opus};
use super::peaks::{PEAK_POINTS, PeaksError, RecordingPeaks, recording_peaks};
use crate::store::call_store::{CallStore, LocalRecording, StoreError};
use crate::store::clock::Clock;
use crate::store::config::{ArchiveFormat, RecordingConfig};
use crate::store::store_metrics::StoreMetrics;

/// Where the peaks of an archived recording are kept: beside it, `NAME.peaks.json`.
pub fn peaks_file(recording: &Path) -> PathBuf {
    recording.with_extension("peaks.json")
}

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ArchiveReport {
    /// Calls whose recording was transcoded and/or uploaded.
    pub archived: Vec<i64>,
    /// Calls whose recording could not be archived (left as it was, logged), with why.
    pub failed: Vec<(i64, String)>,
    /// Bytes of the recordings archived as they were (local files), and as they are now.
    pub bytes_before: u64,
    pub bytes_after: u64,
}

/// Why one recording was not archived.
#[derive(Debug, thiserror::Error)]
enum ArchiveStepError {
    #[error(transparent)]
    Transcode(#[from] TranscodeError),
    #[error(transparent)]
    Object(#[from] ObjectError),
}

/// The archiving job over one store.
pub struct RecordingArchiver {
    pub store: Arc<dyn CallStore>,
    pub clock: Arc<dyn Clock>,
    pub config: RecordingConfig,
    /// Where archived recordings go (the local folder unless an object store is set).
    pub objects: Arc<RecordingObjects>,
    pub metrics: Arc<StoreMetrics>,
}

impl RecordingArchiver {
    /// Archives every finished call's recording old enough; nothing when recordings are
    /// kept as WAV in the local folder.
    pub fn run_once(&self) -> Result<ArchiveReport, StoreError> {
        let mut report = ArchiveReport::default();
        let transcode = self.config.archive_format == ArchiveFormat::Opus;
        let upload = self.objects.is_remote();
        if !transcode && !upload {
            return Ok(report);
        }
        let cutoff = self.clock.now_ms() - i64::from(self.config.archive_after_minutes) * 60_000;
        for recording in self.store.local_recordings_ended_before(cutoff, !upload)? {
            let before = std::fs::metadata(&recording.path).map_or(0, |m| m.len());
            match self.archive(&recording, transcode) {
                Ok(archived) => {
                    self.store.set_recording(
                        recording.id,
                        recording.status,
                        Some(&archived.location),
                        None,
                    )?;
                    for file in &archived.replaced {
                        if let Err(error) = std::fs::remove_file(file) {
                            tracing::error!(call = recording.id, path = %file.display(), %error, "an archived recording's local file could not be deleted; delete it by hand");
                        }
                    }
                    report.archived.push(recording.id);
                    report.bytes_before += before;
                    report.bytes_after += archived.bytes;
                }
                Err(error) => {
                    tracing::error!(call = recording.id, %error, "recording not archived; it stays as it is, retried at the next run");
                    StoreMetrics::add(&self.metrics.store_errors, 1);
                    report.failed.push((recording.id, error.to_string()));
                }
            }
        }
        if !report.archived.is_empty() {
            tracing::info!(
                calls = report.archived.len(),
                bytes_before = report.bytes_before,
                bytes_after = report.bytes_after,
                "recordings archived"
            );
        }
        Ok(report)
    }

    /// Transcodes (when asked and still a WAV) and uploads (when an object store is set)
    /// one recording; where it is now and which local files it replaced.
    fn archive(
        &self,
        recording: &LocalRecording,
        transcode: bool,
    ) -> Result<Archived, ArchiveStepError> {
        let mut local = recording.path.clone();
        let mut replaced = Vec::new();
        let is_wav = |path: &Path| {
            path.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("wav"))
        };
        if transcode && is_wav(&local) {
            let opus = local.with_extension(OPUS_EXTENSION);
            write_peaks(&local, &peaks_file(&opus))?;
            let bitrate = i32::try_from(self.config.opus_bitrate_kbps * 1000).unwrap_or(24_000);
            wav_to_ogg_opus(&local, &opus, bitrate)?;
            replaced.push(local);
            local = opus;
        }
        let bytes = std::fs::metadata(&local).map_err(io_error(&local))?.len();
        if !self.objects.is_remote() {
            return Ok(Archived {
                location: local,
                bytes,
                replaced,
            });
        }
        let peaks = peaks_file(&local);
        if !peaks.exists() && is_wav(&local) {
            write_peaks(&local, &peaks)?;
        }
        let url = block_on(self.objects.upload(&local))?;
        if peaks.exists() {
            block_on(self.objects.upload(&peaks))?;
            replaced.push(peaks);
        }
        replaced.push(local);
        Ok(Archived {
            location: PathBuf::from(url),
            bytes,
            replaced,
        })
    }
}

/// One recording archived.
struct Archived {
    /// The file or object URL the call store points at now.
    location: PathBuf,
    bytes: u64,
    /// Local files to delete once the store points at `location`.
    replaced: Vec<PathBuf>,
}

/// Reads the peaks of the WAV at `wav` into `out` (synced): what the review page draws.
fn write_peaks(wav: &Path, out: &Path) -> Result<(), TranscodeError> {
    let file = std::fs::File::open(wav).map_err(io_error(wav))?;
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
                path: wav.display().to_string(),
                problem: error.to_string(),
            });
        }
    };
    let json = serde_json::to_vec(&peaks).map_err(|error| TranscodeError::Io {
        path: out.display().to_string(),
        source: error.into(),
    })?;
    let mut file = std::fs::File::create(out).map_err(io_error(out))?;
    file.write_all(&json)
        .and_then(|()| file.sync_all())
        .map_err(io_error(out))
}
