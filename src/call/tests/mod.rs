//! Whole conversations on a simulated clock: a scripted caller (with optional line echo), a fake
//! transcriber, dialogue engine and TTS, all driven through the session's public inputs.

mod barge_in;
mod barge_in_sweep;
mod call_flow;
mod conversation;
mod faults;
mod phone_line;
mod survey;
