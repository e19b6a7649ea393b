//! The conversation: a sans-IO state machine per call (turn-taking, barge-in, call flow) and the
//! driver task that feeds it from a media leg.
//!
//! [`Session`] takes [`SessionInput`]s stamped with call time ([`Millis`]) and yields
//! [`SessionOutput`]s: frames to play (one per 20 ms tick), transcription / dialogue / TTS
//! requests and their cancellations, transfer and hang-up, and [`CallEvent`]s, among them one
//! [`TurnRecord`] per caller turn with every stage's timestamp.

mod backchannel;
mod bot_reply;
mod call_event;
mod call_flow;
mod caller_turns;
mod clock;
mod config;
mod echo_guard;
mod end_of_turn;
mod ids;
mod input;
mod output;
mod pre_roll;
mod session;
mod speech_hysteresis;
mod turn_record;
mod utterance;

#[cfg(test)]
mod tests;

pub use call_event::{CallEvent, DropReason, FalseBargeInReason, HangUpReason};
pub use clock::Millis;
pub use config::{
    BargeInConfig, CallFlowConfig, DtmfAction, DtmfBinding, EchoConfig, PerLang, SessionConfig,
    TurnTakingConfig, VadConfig,
};
pub use end_of_turn::{EndOfTurnCue, end_of_turn_cue, hangover_ms};
pub use ids::{RequestId, SentenceId, TurnId};
pub use input::SessionInput;
pub use output::SessionOutput;
pub use session::Session;
pub use turn_record::{TurnOutcome, TurnRecord};
