//! The engine's tokio runtime, built one way for `hotline serve`, `hotline call` and the
//! benchmarks: its worker and blocking threads (sessions, VAD inference, Whisper, Piper) run
//! at `[server] compute_nice`, below the SIP bridge's pacing thread (see `thread_priority`).

use std::io;

use crate::config::ServerConfig;
use crate::thread_priority::lower_this_thread;

/// A multi-threaded runtime whose threads run at `server.compute_nice`.
pub fn build_engine_runtime(server: &ServerConfig) -> io::Result<tokio::runtime::Runtime> {
    let nice = server.compute_nice;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("hotline-engine")
        .on_thread_start(move || lower_this_thread(nice))
        .build()
}
