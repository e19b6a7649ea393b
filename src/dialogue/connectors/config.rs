//! Settings of the external-bot connectors: `[dialogue.rasa]` and `[dialogue.relay]`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `[dialogue.rasa]`: a Rasa server with the REST channel enabled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RasaConfig {
    /// Server root; `/webhooks/rest/webhook` is appended.
    pub url: String,
    pub timeout_ms: u64,
}

impl Default for RasaConfig {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:5005".to_string(),
            timeout_ms: 5000,
        }
    }
}

/// `[dialogue.relay]`: a bot speaking the ConversationRelay-style WebSocket text protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RelayConfig {
    /// `ws://host:port/path` of the bot (one connection per call).
    pub url: String,
    /// Sent in `setup.customParameters`.
    pub custom_parameters: BTreeMap<String, String>,
    /// Sent as `setup.from` / `setup.to` (the caller and dialled numbers when known).
    pub from: String,
    pub to: String,
    /// Longest wait for the bot's next token before the answer is ended.
    pub reply_timeout_ms: u64,
    /// A call's connection is closed after this long without a prompt.
    pub idle_close_s: u64,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            url: "ws://127.0.0.1:8765/relay".to_string(),
            custom_parameters: BTreeMap::new(),
            from: String::new(),
            to: String::new(),
            reply_timeout_ms: 8000,
            idle_close_s: 600,
        }
    }
}
