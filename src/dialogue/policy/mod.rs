//! The policy layer wrapped around any engine: per caller turn it decides the reply's language
//! and whether the caller goes to a human instead (asked for one, angry, or going round in
//! circles), and what the agent is told at handover.

pub(super) mod caller_closing;
pub(super) mod emotion;
pub(super) mod engine;
pub(super) mod handover;
pub(super) mod human_intent;
pub(super) mod human_request;
pub(super) mod unresolved;

#[cfg(test)]
mod engine_tests;
