//! `CallArchive`: the store, its writer, the recorder, the retention job and the Opus archiving
//! job as `hotline serve` runs them: opened (and unfinished calls recovered) at start, the writer following the
//! calls' notices, the deletion job on a timer. A store that cannot be opened leaves the
//! engine without one (logged, metric); calls go on.

use std::sync::Arc;
use std::time::Duration;

use crate::call::CallNotices;

use super::accounts::AccountError;
use super::call_store::{CallStore, StoreError};
use super::clock::Clock;
use super::config::StoreConfigError;
use super::config::{ArchiveFormat, RecordingConfig, StoreConfig};
use super::personal_data::PersonalData;
use super::recording::archiver::RecordingArchiver;
use super::recording::objects::RecordingObjects;
use super::recording::peaks_cache::PeaksCache;
use super::recording::recorder::Recordings;
use super::recovery::recover_unfinished_calls;
use super::retention::RetentionJob;
use super::sqlite_store::SqliteCallStore;
use super::store_metrics::StoreMetrics;
use super::store_writer::{StoreWriter, StoreWriterParts};

/// Minutes between runs of the Opus archiving job.
const ARCHIVE_CHECK_MINUTES: u64 = 5;

/// What keeps the archive from starting.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("cannot open the call store {path}: {source}")]
    Store { path: String, source: StoreError },
    #[error("call store secrets: {0}")]
    Secret(#[from] AccountError),
    #[error("{0}")]
    Config(#[from] StoreConfigError),
    #[error("cannot start the call store writer thread: {0}")]
    Thread(std::io::Error),
}

/// The running call store.
pub struct CallArchive {
    pub store: Arc<SqliteCallStore>,
    pub metrics: Arc<StoreMetrics>,
    /// Records calls; None when `[recording] enabled = false`.
    pub recorder: Option<Arc<Recordings>>,
    /// The finished recordings' peaks the review player drew lately.
    pub peaks: PeaksCache,
    /// Where finished recordings are kept (local folder or object store).
    pub objects: Arc<RecordingObjects>,
    writer: StoreWriter,
    clock: Arc<dyn Clock>,
    config: StoreConfig,
    recording: RecordingConfig,
}

impl std::fmt::Debug for CallArchive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallArchive")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl CallArchive {
    /// Opens the store, closes calls a stopped engine left as `recovered` (repairing their
    /// recordings) and starts the writer thread.
    pub fn open(
        config: &StoreConfig,
        recording: &RecordingConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ArchiveError> {
        let store = Arc::new(SqliteCallStore::open(&config.database).map_err(|source| {
            ArchiveError::Store {
                path: config.database.display().to_string(),
                source,
            }
        })?);
        let objects = Arc::new(RecordingObjects::from_config(recording)?);
        let metrics = Arc::new(StoreMetrics::default());
        match recover_unfinished_calls(store.as_ref(), &metrics) {
            Ok(ids) if !ids.is_empty() => {
                tracing::warn!(calls = ?ids, "calls interrupted by the last stop marked recovered");
            }
            Ok(_) => {}
            Err(error) => {
                tracing::error!(%error, "cannot recover the calls the last stop interrupted");
                StoreMetrics::add(&metrics.store_errors, 1);
            }
        }
        let rules = PersonalData::new(config, store.secret("caller_key")?);
        let (writer, _thread) = StoreWriter::spawn(StoreWriterParts {
            store: Arc::clone(&store) as Arc<dyn CallStore>,
            rules,
            search: store.search_text().clone(),
            clock: Arc::clone(&clock),
            metrics: Arc::clone(&metrics),
            queue: config.writer_queue,
        })
        .map_err(ArchiveError::Thread)?;
        let recorder = recording.enabled.then(|| {
            Arc::new(Recordings::new(
                recording.clone(),
                writer.clone(),
                Arc::clone(&metrics),
                Arc::clone(&clock),
            ))
        });
        Ok(Self {
            store,
            metrics,
            recorder,
            peaks: PeaksCache::default(),
            objects,
            writer,
            clock,
            config: config.clone(),
            recording: recording.clone(),
        })
    }

    /// Stores every call published on `notices` (spawns a tokio task).
    pub fn follow(&self, notices: &CallNotices) {
        let writer = self.writer.clone();
        tokio::spawn(writer.follow(notices.subscribe()));
    }

    /// The deletion job over this store.
    pub fn retention_job(&self) -> RetentionJob {
        RetentionJob {
            store: Arc::clone(&self.store),
            clock: Arc::clone(&self.clock),
            retention_days: self.config.retention_days,
            objects: Arc::clone(&self.objects),
        }
    }

    /// The job keeping finished recordings as Ogg Opus (`[recording] archive_format`).
    pub fn recording_archiver(&self) -> RecordingArchiver {
        RecordingArchiver {
            store: Arc::clone(&self.store) as Arc<dyn CallStore>,
            clock: Arc::clone(&self.clock),
            config: self.recording.clone(),
            objects: Arc::clone(&self.objects),
            metrics: Arc::clone(&self.metrics),
        }
    }

    /// Runs the deletion job every `[store] retention_check_minutes` and, with
    /// `[recording] archive_format = "opus"` or an object store, the archiving job every few
    /// minutes (tokio tasks).
    pub fn spawn_retention(&self) {
        let job = self.retention_job();
        let every = Duration::from_secs(u64::from(self.config.retention_check_minutes) * 60);
        self.spawn_every(every, "retention", move || job.run_once().map(drop));
        if self.recording.archive_format == ArchiveFormat::Opus || self.objects.is_remote() {
            let job = self.recording_archiver();
            let every = Duration::from_secs(ARCHIVE_CHECK_MINUTES * 60);
            self.spawn_every(every, "recording archive", move || job.run_once().map(drop));
        }
    }

    /// Runs `job` off the runtime now and then every `every`; failures are logged and counted.
    fn spawn_every<F>(&self, every: Duration, name: &'static str, job: F)
    where
        F: Fn() -> Result<(), StoreError> + Send + Sync + 'static,
    {
        let metrics = Arc::clone(&self.metrics);
        let job = Arc::new(job);
        tokio::spawn(async move {
            let mut timer = tokio::time::interval(every);
            loop {
                timer.tick().await;
                let job = Arc::clone(&job);
                match tokio::task::spawn_blocking(move || job()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => {
                        tracing::error!(%error, job = name, "store job failed; retried at the next run");
                        StoreMetrics::add(&metrics.store_errors, 1);
                    }
                    Err(error) => tracing::error!(%error, job = name, "store job panicked"),
                }
            }
        });
    }

    /// The clock the archive stamps with.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::clock::SystemClock;

    #[test]
    fn a_store_that_cannot_be_opened_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let blocked = dir.path().join("a-file");
        std::fs::write(&blocked, b"").unwrap();
        let config = StoreConfig {
            database: blocked.join("calls.sqlite"),
            ..StoreConfig::default()
        };
        let error = CallArchive::open(&config, &RecordingConfig::default(), Arc::new(SystemClock))
            .unwrap_err()
            .to_string();
        assert!(error.contains("a-file"), "{error}");
        // Not a database at all.
        std::fs::write(dir.path().join("junk.sqlite"), vec![7u8; 4096]).unwrap();
        let config = StoreConfig {
            database: dir.path().join("junk.sqlite"),
            ..StoreConfig::default()
        };
        assert!(
            CallArchive::open(&config, &RecordingConfig::default(), Arc::new(SystemClock)).is_err()
        );
    }
}
