//! `SessionInput`: everything that happens to a call, as the driver tells the session.

use std::sync::Arc;

use hotline_audio::Frame;

use super::ids::{RequestId, SentenceId, TurnId};
use crate::dialogue::ReplyEvent;
use crate::lang::Lang;

/// One thing that happened, handed to [`Session::handle`](super::Session::handle) with its time.
// Frames travel by value: boxing them would allocate on every 20 ms frame.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum SessionInput {
    /// 20 ms of the caller's audio, with the VAD's speech probability for it.
    CallerAudio { frame: Frame, speech_prob: f32 },
    /// The 20 ms play-out clock: the session answers with exactly one
    /// [`SessionOutput::PlayFrame`](super::SessionOutput::PlayFrame), which the driver sends now.
    Tick,
    /// The result of a [`Transcribe`](super::SessionOutput::Transcribe) request. Empty text means
    /// nothing was recognised. Results of cancelled requests may still arrive; they are ignored.
    TranscriptReady {
        request_id: RequestId,
        text: String,
        lang: Lang,
        /// How sure the recogniser was of the words (mean token probability, 0..1).
        confidence: f32,
    },
    /// The result of a [`JudgeEndOfTurn`](super::SessionOutput::JudgeEndOfTurn) request: the
    /// probability (0..1) that the caller's turn is complete. Not sent when the model failed.
    EndOfTurnJudged {
        request_id: RequestId,
        complete_probability: f32,
    },
    /// A partial [`Transcribe`](super::SessionOutput::Transcribe) request was not decoded (no
    /// free decode slot, or a final needed it): ask again later.
    TranscriptSkipped { request_id: RequestId },
    /// A [`Transcribe`](super::SessionOutput::Transcribe) request failed (Whisper erred): for a
    /// final, the caller hears the apology; a partial is simply not there.
    TranscriptFailed { request_id: RequestId },
    /// One event of the answer to an [`AskDialogue`](super::SessionOutput::AskDialogue).
    DialogueReply { turn_id: TurnId, event: ReplyEvent },
    /// The answer's stream ended (no more events for this turn).
    DialogueDone { turn_id: TurnId },
    /// The synthesised audio of a [`Speak`](super::SessionOutput::Speak) request, 16 kHz mono.
    SpeechReady {
        sentence_id: SentenceId,
        samples: Arc<[i16]>,
    },
    /// The [`Speak`](super::SessionOutput::Speak) request of this sentence failed (the voice
    /// erred or took too long): the sentence is skipped, and a reply that had not started
    /// becomes the apology.
    SpeechFailed { sentence_id: SentenceId },
    /// A DTMF digit the caller pressed (`0`-`9`, `*`, `#`, `A`-`D`).
    Dtmf(char),
    /// A message the caller typed instead of saying it (the browser widget).
    CallerText(String),
    /// The caller hung up.
    HangUp,
    /// How the [`Transfer`](super::SessionOutput::Transfer) went.
    TransferResult { ok: bool },
}
