//! Whisper decode states are large (≈170 MB each for base) and slow to create: keep the ones
//! made and hand them out one per concurrent decode.

use std::sync::Mutex;

use whisper_rs::{WhisperContext, WhisperError, WhisperState};

/// A pool of states for one shared context. Its size is bounded by whoever limits concurrent
/// decodes (the transcriber's semaphore); the pool itself only recycles.
pub struct StatePool {
    idle: Mutex<Vec<WhisperState>>,
}

impl StatePool {
    pub fn new() -> Self {
        Self {
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Takes an idle state or creates a new one.
    pub fn take(&self, context: &WhisperContext) -> Result<WhisperState, WhisperError> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match idle {
            Some(state) => Ok(state),
            None => context.create_state(),
        }
    }

    /// Returns a state after a decode.
    pub fn give_back(&self, state: WhisperState) {
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(state);
    }
}
