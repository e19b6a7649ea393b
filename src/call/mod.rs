//! The conversation: a sans-IO state machine per call (turn-taking, barge-in, call flow) and the
//! driver task that feeds it from a media leg.
//!
//! [`Session`] takes [`SessionInput`]s stamped with call time ([`Millis`]) and yields
//! [`SessionOutput`]s: frames to play (one per 20 ms tick), transcription / dialogue / TTS
//! requests and their cancellations, transfer and hang-up, and [`CallEvent`]s, among them one
//! [`TurnRecord`] per caller turn with every stage's timestamp.
//!
//! # What a driver does
//!
//! - Create the session at call start (`Session::new(config, Millis::ZERO)`), then after every
//!   `handle` drain `poll_output` until it returns `None`.
//! - For every inbound 20 ms caller frame: `CallerAudio { frame, speech_prob }` with the VAD's
//!   probability for that frame.
//! - On a strict 20 ms clock: `Tick`, and send the one `PlayFrame` it yields right away (the
//!   session's play-out position is what the caller heard: echo reference, history cuts and
//!   "first audio out" all rest on it). `FlushPlayback`: drop anything buffered downstream.
//! - Run `Transcribe` (partials and finals may overlap), `AskDialogue`, `Speak` off the clock
//!   and feed back `TranscriptReady`, `DialogueReply`/`DialogueDone`, `SpeechReady` with the
//!   same ids; honour `Cancel*` when possible (late results are ignored by id anyway). A
//!   decode or a synthesis that failed is answered with `TranscriptFailed` / `SpeechFailed`:
//!   the session apologises instead of leaving the caller in silence (`fault.rs`).
//! - Carry out `Transfer` (answer with `TransferResult`) and `HangUp`; report `Dtmf` and the
//!   caller's `HangUp`. Store or count the `Event`s.

mod backchannel;
mod bot_reply;
mod bridged_conversation;
mod call_channel;
mod call_event;
mod call_flow;
mod call_services;
mod caller_turns;
mod clock;
mod config;
mod driver;
mod echo_guard;
mod fault;
mod holding;
mod ids;
mod input;
mod output;
mod recording_tap;
mod session;
mod speech_recognizer;
mod survey;
mod turn;
mod turn_record;

#[cfg(test)]
mod tests;

pub use call_channel::CallChannel;
pub use call_event::{BridgedSpeaker, CallEvent, DropReason, FalseBargeInReason, HangUpReason};
pub use call_services::CallServices;
pub use clock::Millis;
pub use config::{
    AcousticTurnConfig, BargeInConfig, CallFlowConfig, DtmfAction, DtmfBinding, EchoConfig,
    FaultConfig, PartialPolicy, PerLang, SessionConfig, TurnTakingConfig, VadConfig,
};
pub use driver::notices::{CallEnd, CallNotice, CallNoticeKind, CallNotices};
pub use driver::{CallOptions, CallSummary, drive_call, spawn_call};
pub use fault::FaultKind;
pub use holding::WaitingFor;
pub use ids::{RequestId, SentenceId, TurnId};
pub use input::SessionInput;
pub use output::SessionOutput;
pub use recording_tap::{CallRecorder, RecordingTap};
pub use session::Session;
pub use speech_recognizer::{RecognizerFuture, SpeechRecognizer};
pub use turn::end_of_turn::{EndOfTurnCue, end_of_turn_cue, hangover_ms};
pub use turn_record::{TurnOutcome, TurnRecord};
