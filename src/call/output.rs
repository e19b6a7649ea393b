//! `SessionOutput`: what the session asks its driver to do.

use std::sync::Arc;

use hotline_audio::Frame;

use super::call_event::CallEvent;
use super::ids::{RequestId, SentenceId, TurnId};
use crate::asr::DecodeKind;
use crate::dialogue::{DialogueRequest, TransferReason};
use crate::lang::Lang;

/// One instruction for the driver, taken with [`Session::poll_output`](super::Session::poll_output).
// Frames travel by value: boxing them would allocate on every 20 ms frame.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum SessionOutput {
    /// Send this frame to the caller now (one per [`Tick`](super::SessionInput::Tick); digital
    /// silence when the bot is not speaking, so the line and the recording stay paced).
    PlayFrame(Frame),
    /// Drop any audio already queued downstream of the session (jitter buffers, the leg's
    /// send queue): the caller interrupted.
    FlushPlayback,
    /// Transcribe `audio` (16 kHz mono, from just before the caller's speech started).
    /// `kind`: a partial (a look at a growing utterance), or a final: speculative (at a pause),
    /// at the end of turn, or deciding a barge-in.
    Transcribe {
        request_id: RequestId,
        audio: Arc<[i16]>,
        lang_hint: Lang,
        kind: DecodeKind,
    },
    /// Ask the acoustic end-of-turn model whether the caller's turn sounds complete at the end
    /// of `audio` (16 kHz mono, at most the last 8 s of the utterance, ending at a pause);
    /// answer with `EndOfTurnJudged`.
    JudgeEndOfTurn {
        request_id: RequestId,
        audio: Arc<[i16]>,
    },
    /// The result of this request is no longer wanted (stop decoding if it has not started).
    CancelTranscribe { request_id: RequestId },
    /// Ask the dialogue engine for an answer; reply with `DialogueReply` events and `DialogueDone`.
    AskDialogue {
        turn_id: TurnId,
        request: DialogueRequest,
    },
    /// Stop producing the answer of this turn; its later events are ignored.
    CancelDialogue { turn_id: TurnId },
    /// Synthesise this sentence; reply with `SpeechReady` under the same sentence id.
    Speak {
        sentence_id: SentenceId,
        turn_id: TurnId,
        text: String,
        lang: Lang,
    },
    /// Stop synthesising every sentence of this turn; their audio is ignored.
    CancelSpeech { turn_id: TurnId },
    /// Hand the caller to a human; answer with `TransferResult`.
    Transfer {
        reason: TransferReason,
        summary: String,
    },
    /// End the call (the bot hangs up).
    HangUp,
    /// Something worth logging, storing or counting.
    Event(CallEvent),
}
