//! Connectors to external bots that answer in our place: Rasa over its REST channel and any
//! bot speaking the ConversationRelay-style WebSocket protocol, with their settings and the
//! per-call conversation ids those bots keep state under.

pub(super) mod config;
pub(super) mod rasa_engine;
pub(super) mod relay_engine;
pub(super) mod relay_messages;
pub(super) mod sessions;
