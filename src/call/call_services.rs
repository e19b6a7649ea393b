//! `CallServices`: what every call driver shares (the engine, where call notices are
//! published, the limit on syntheses running at once, the recorder, the speech recogniser),
//! built once by the server.

use std::sync::Arc;

use tokio::sync::Semaphore;

use super::driver::notices::CallNotices;
use super::recording_tap::CallRecorder;
use super::speech_recognizer::SpeechRecognizer;
use crate::engine::Engine;

/// What every call driver shares: the engine, the notice channel, the synthesis limit.
pub struct CallServices {
    pub engine: Arc<Engine>,
    pub notices: CallNotices,
    /// Syntheses running at once across all calls (Piper competes with Whisper for the cores).
    pub(super) tts_slots: Arc<Semaphore>,
    /// Records each call's audio both ways; `None`: calls are not recorded.
    pub recorder: Option<Arc<dyn CallRecorder>>,
    /// Transcribes the callers' turns: the engine's Whisper, unless replaced
    /// ([`with_recognizer`](Self::with_recognizer): the fault tests).
    pub recognizer: Arc<dyn SpeechRecognizer>,
}

impl CallServices {
    /// Services over `engine`; syntheses are limited to one per CPU core.
    pub fn new(engine: Arc<Engine>, notices: CallNotices) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let recognizer: Arc<dyn SpeechRecognizer> = Arc::new(engine.transcriber.clone());
        Self {
            engine,
            notices,
            tts_slots: Arc::new(Semaphore::new(cores)),
            recorder: None,
            recognizer,
        }
    }

    /// The same services, recording every call through `recorder`.
    pub fn with_recorder(mut self, recorder: Arc<dyn CallRecorder>) -> Self {
        self.recorder = Some(recorder);
        self
    }

    /// The same services, transcribing through `recognizer` instead of the engine's Whisper.
    pub fn with_recognizer(mut self, recognizer: Arc<dyn SpeechRecognizer>) -> Self {
        self.recognizer = recognizer;
        self
    }
}
