//! `[store]` and `[recording]`: where call records and recordings are kept, what personal data
//! is kept of them, and for how long. Defaults keep everything under `./data`, redacted, for
//! three years; [`StoreConfig::validate`] names the key and the fix of a bad value.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Days in the default retention period (three years).
pub const DEFAULT_RETENTION_DAYS: u32 = 3 * 365;

/// `[store]`: the call store (SQLite).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Keep a record of every call. Off: nothing is stored or recorded, `/api` answers 503.
    pub enabled: bool,
    /// The SQLite database file (created with its folder).
    pub database: PathBuf,
    /// Redact personal data (IDs, HKIDs, cards, phones, emails) from transcripts before they
    /// are stored.
    pub redact_pii: bool,
    /// Also keep the unredacted transcript and caller number, for roles allowed to un-redact
    /// (every un-redact is audited). Off by default: nothing unredacted is stored.
    pub keep_unredacted: bool,
    /// What is kept of the caller's number: `hash` (keyed SHA-256, for "same caller" only),
    /// `redact` (the last four digits) or `keep`.
    pub caller_id: CallerIdPolicy,
    /// Calls (and their recordings) older than this are deleted, unless on legal hold.
    pub retention_days: u32,
    /// How often the deletion job runs, in minutes.
    pub retention_check_minutes: u32,
    /// Store updates queued for the writer before new ones are dropped (and counted).
    pub writer_queue: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            database: PathBuf::from("data/calls.sqlite"),
            redact_pii: true,
            keep_unredacted: false,
            caller_id: CallerIdPolicy::Hash,
            retention_days: DEFAULT_RETENTION_DAYS,
            retention_check_minutes: 60,
            writer_queue: 4096,
        }
    }
}

/// What the store keeps of the caller's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallerIdPolicy {
    /// A keyed hash: the same caller is recognisable, the number is not.
    #[default]
    Hash,
    /// Everything but the last four digits masked.
    Redact,
    /// The number as the channel gave it.
    Keep,
}

/// `[recording]`: stereo WAV of every call (caller left, bot right), written while it runs;
/// optionally kept as Ogg Opus once the call is over.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordingConfig {
    /// Record calls (needs `[store] enabled`).
    pub enabled: bool,
    /// Where recordings are written (one folder per day).
    pub dir: PathBuf,
    /// How often the written audio is handed to the OS and the WAV header rewritten, in ms:
    /// what a killed process can lose at most (100-1000).
    pub flush_interval_ms: u32,
    /// 20 ms frames queued for a call's writer before new ones are dropped (and counted).
    pub queue_frames: usize,
    /// What finished recordings are kept as: `wav` (as written) or `opus` (transcoded to Ogg
    /// Opus `archive_after_minutes` after the call ended, about a twentieth of the size; the
    /// WAV is deleted once the store points at the Opus file).
    pub archive_format: ArchiveFormat,
    /// Minutes after a call ends before its recording is transcoded (reviews of fresh calls
    /// read the WAV); the job looks every few minutes.
    pub archive_after_minutes: u32,
    /// Opus bitrate for both channels together, kbit/s (12-128; 24 keeps speech clear).
    pub opus_bitrate_kbps: u32,
    /// Where finished recordings are kept: empty = `dir`; an `s3://bucket/prefix` URL = any
    /// S3-compatible store (uploaded `archive_after_minutes` after the call, then deleted
    /// from `dir`).
    pub object_store: String,
    /// Options of the object store (`aws_endpoint`, `aws_region`, `aws_access_key_id`,
    /// `aws_secret_access_key`, `aws_allow_http` …), over the process's `AWS_*` variables.
    pub object_store_options: HashMap<String, String>,
}

impl RecordingConfig {
    /// `object_store` as a URL (`None`: recordings stay in `dir`); the error names the key and
    /// the fix.
    pub fn object_store_url(&self) -> Result<Option<url::Url>, StoreConfigError> {
        let text = self.object_store.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let bad = |fix: &'static str| StoreConfigError {
            key: "recording.object_store",
            value: format!("{text:?}"),
            fix,
        };
        let url = url::Url::parse(text).map_err(|_| {
            bad("give a URL such as \"s3://bucket/recordings\", or \"\" to keep recordings in recording.dir")
        })?;
        if url.scheme() != "s3" {
            return Err(bad(
                "only s3:// (any S3-compatible store: AWS, MinIO, SeaweedFS, Ceph …) is supported",
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad("name the bucket: \"s3://BUCKET/prefix\""));
        }
        Ok(Some(url))
    }
}

/// `[recording] archive_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArchiveFormat {
    Wav,
    Opus,
}

impl Default for RecordingConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            dir: PathBuf::from("data/recordings"),
            flush_interval_ms: 500,
            queue_frames: 500,
            archive_format: ArchiveFormat::Wav,
            archive_after_minutes: 60,
            opus_bitrate_kbps: 24,
            object_store: String::new(),
            object_store_options: HashMap::new(),
        }
    }
}

/// A `[store]` or `[recording]` value that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key} = {value}: {fix}")]
pub struct StoreConfigError {
    pub key: &'static str,
    pub value: String,
    pub fix: &'static str,
}

impl StoreConfig {
    /// Checks every value; the error names the key and the fix.
    pub fn validate(&self, recording: &RecordingConfig) -> Result<(), StoreConfigError> {
        if self.database.as_os_str().is_empty() {
            return Err(StoreConfigError {
                key: "store.database",
                value: "\"\"".into(),
                fix: "give a file path, e.g. \"data/calls.sqlite\"",
            });
        }
        if self.retention_days == 0 {
            return Err(StoreConfigError {
                key: "store.retention_days",
                value: "0".into(),
                fix: "keep calls at least one day (default 1095, three years)",
            });
        }
        if self.retention_check_minutes == 0 {
            return Err(StoreConfigError {
                key: "store.retention_check_minutes",
                value: "0".into(),
                fix: "run the deletion job at least every few hours, e.g. 60",
            });
        }
        if self.writer_queue < 16 {
            return Err(StoreConfigError {
                key: "store.writer_queue",
                value: self.writer_queue.to_string(),
                fix: "queue at least 16 updates (default 4096)",
            });
        }
        if !(100..=1000).contains(&recording.flush_interval_ms) {
            return Err(StoreConfigError {
                key: "recording.flush_interval_ms",
                value: recording.flush_interval_ms.to_string(),
                fix: "between 100 and 1000: a killed process must lose at most a second",
            });
        }
        if recording.queue_frames < 10 {
            return Err(StoreConfigError {
                key: "recording.queue_frames",
                value: recording.queue_frames.to_string(),
                fix: "queue at least 10 frames (default 500, 10 s)",
            });
        }
        if !(12..=128).contains(&recording.opus_bitrate_kbps) {
            return Err(StoreConfigError {
                key: "recording.opus_bitrate_kbps",
                value: recording.opus_bitrate_kbps.to_string(),
                fix: "between 12 and 128 kbit/s for both channels (default 24)",
            });
        }
        if recording.enabled {
            recording.object_store_url()?;
        }
        if recording.enabled && recording.dir.as_os_str().is_empty() {
            return Err(StoreConfigError {
                key: "recording.dir",
                value: "\"\"".into(),
                fix: "give a folder, e.g. \"data/recordings\", or set recording.enabled = false",
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        StoreConfig::default()
            .validate(&RecordingConfig::default())
            .unwrap();
    }

    #[test]
    fn errors_name_the_key() {
        let store = StoreConfig {
            retention_days: 0,
            ..StoreConfig::default()
        };
        let error = store.validate(&RecordingConfig::default()).unwrap_err();
        assert_eq!(error.key, "store.retention_days");
        let recording = RecordingConfig {
            flush_interval_ms: 5000,
            ..RecordingConfig::default()
        };
        let error = StoreConfig::default().validate(&recording).unwrap_err();
        assert!(
            error.to_string().contains("recording.flush_interval_ms"),
            "{error}"
        );
    }
}
