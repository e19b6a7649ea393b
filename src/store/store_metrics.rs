//! `StoreMetrics`: what `/metrics` says about the store and the recordings: updates dropped
//! because the writer fell behind (the call never waits for it), store errors, recordings that
//! failed, recording frames dropped, calls recovered after a stop.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters shared by the store writer, the recorder and the start-up recovery.
#[derive(Debug, Default)]
pub struct StoreMetrics {
    /// Notices or updates the writer never saw (its queue was full, or it lagged).
    pub updates_dropped: AtomicU64,
    /// Store operations that failed (logged each time).
    pub store_errors: AtomicU64,
    /// Calls stored.
    pub calls_stored: AtomicU64,
    /// Recordings that could not be started or written to the end.
    pub recordings_failed: AtomicU64,
    /// 20 ms frames a recording writer could not take in time.
    pub recording_frames_dropped: AtomicU64,
    /// Calls found unfinished at start and marked `recovered`.
    pub calls_recovered: AtomicU64,
}

impl StoreMetrics {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The counters in the Prometheus text format.
    pub fn render(&self, text: &mut String) {
        for (name, help, counter) in [
            (
                "hotline_store_updates_dropped_total",
                "Call notices the store writer dropped because it fell behind.",
                &self.updates_dropped,
            ),
            (
                "hotline_store_errors_total",
                "Call store operations that failed.",
                &self.store_errors,
            ),
            (
                "hotline_store_calls_total",
                "Calls written to the call store.",
                &self.calls_stored,
            ),
            (
                "hotline_recordings_failed_total",
                "Call recordings that could not be started or finished (the calls went on).",
                &self.recordings_failed,
            ),
            (
                "hotline_recording_frames_dropped_total",
                "20 ms frames a recording writer could not take in time.",
                &self.recording_frames_dropped,
            ),
            (
                "hotline_store_calls_recovered_total",
                "Calls left unfinished by a stopped engine, recovered at start.",
                &self.calls_recovered,
            ),
        ] {
            let value = counter.load(Ordering::Relaxed);
            let _ = write!(
                text,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
            );
        }
    }
}
