//! `SessionPool`: a few ONNX Runtime sessions of one model, shared by every call.
//!
//! A session holds no per-stream state (that travels with each stream), and a run is short, so
//! about one session per core serves any number of calls instead of one session built per call.
//! A run takes whichever session is free, or waits for the next one in turn.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use ort::session::Session;

/// Sessions of one model, handed out one run at a time.
pub(crate) struct SessionPool {
    sessions: Vec<Mutex<Session>>,
    next: AtomicUsize,
}

impl SessionPool {
    /// A pool of `sessions` (at least one).
    pub(crate) fn new(sessions: Vec<Session>) -> Self {
        Self {
            sessions: sessions.into_iter().map(Mutex::new).collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// How many sessions there are.
    pub(crate) fn len(&self) -> usize {
        self.sessions.len()
    }

    /// A free session, or (all busy) the next one in turn once it is free.
    pub(crate) fn session(&self) -> MutexGuard<'_, Session> {
        let count = self.sessions.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..count)
            .find_map(|i| self.sessions[(start + i) % count].try_lock().ok())
            .unwrap_or_else(|| {
                self.sessions[start % count]
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
            })
    }
}
