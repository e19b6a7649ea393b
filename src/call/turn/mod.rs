//! The caller's turn: when their speech starts and ends (the VAD's decision per frame with
//! hysteresis, the audio kept from before it fired, where the voice fell), what is collected
//! meanwhile ([`utterance::Utterance`]), and when the turn is over: the cue of the words at a
//! pause (a question, a filler, digits, a clause left hanging) and the wait each cue gets. The
//! session's `caller_turns.rs` drives these pieces.

pub(super) mod end_of_turn;
mod hanging_clause;
pub(super) mod pre_roll;
pub(super) mod speech_hysteresis;
pub(super) mod speech_rate;
pub(super) mod utterance;
