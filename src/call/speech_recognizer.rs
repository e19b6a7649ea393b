//! `SpeechRecognizer`: what a call driver needs from speech recognition, as a trait, so a
//! call can be driven against a recogniser that errs or hangs (the fault tests in
//! `tests/dead_air.rs`) as well as against Whisper's [`Transcriber`], which every server uses.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::asr::{AsrError, AsrLanguage, DecodeCancel, DecodeKind, Transcriber, Transcript};

/// A transcript on its way.
pub type RecognizerFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Transcript, AsrError>> + Send + 'a>>;

/// Speech to text for a call's turns.
pub trait SpeechRecognizer: Send + Sync {
    /// The transcript someone waits on (`kind`: the speculative final, the final, or the one
    /// deciding a barge-in): waits for a decode slot; `cancel` stops it with
    /// [`AsrError::Cancelled`].
    fn transcribe_final(
        &self,
        kind: DecodeKind,
        audio: Arc<[i16]>,
        language: AsrLanguage,
        cancel: DecodeCancel,
    ) -> RecognizerFuture<'_>;

    /// A look at a growing utterance: [`AsrError::Busy`] when no slot is free for it.
    fn transcribe_partial(
        &self,
        audio: Arc<[i16]>,
        language: AsrLanguage,
        cancel: DecodeCancel,
    ) -> RecognizerFuture<'_>;
}

impl SpeechRecognizer for Transcriber {
    fn transcribe_final(
        &self,
        kind: DecodeKind,
        audio: Arc<[i16]>,
        language: AsrLanguage,
        cancel: DecodeCancel,
    ) -> RecognizerFuture<'_> {
        Box::pin(self.transcribe_as(kind, audio, language, cancel))
    }

    fn transcribe_partial(
        &self,
        audio: Arc<[i16]>,
        language: AsrLanguage,
        cancel: DecodeCancel,
    ) -> RecognizerFuture<'_> {
        Box::pin(Transcriber::transcribe_partial(
            self, audio, language, cancel,
        ))
    }
}
