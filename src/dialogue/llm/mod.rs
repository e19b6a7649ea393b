//! The LLM engine and its client for OpenAI-compatible `/chat/completions` endpoints: the
//! streamed response (SSE chunks, thoughts filtered out, tool calls reassembled), the prompt,
//! the company APIs offered as tools, and the secrets (API keys) they need.

pub(super) mod chunk;
pub(super) mod client;
pub(super) mod config;
pub(super) mod engine;
pub(super) mod error;
pub(super) mod messages;
pub(super) mod secret_value;
pub(super) mod sse;
pub(super) mod think_filter;
pub(super) mod tool_calls;
pub(super) mod tools;

#[cfg(test)]
mod engine_tests;
