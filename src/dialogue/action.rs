//! Things an engine asks the call to do besides speaking: hand the caller to a human, hang up.
//!
//! A transfer is a structured hand-off (like Dialogflow's `liveAgentHandoff` metadata or
//! Twilio's `handoffData`): the reason and a summary travel with it so the human agent does
//! not have to ask the caller to repeat themselves.

use serde::{Deserialize, Serialize};

/// An action the call carries out after the sentences before it have been spoken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum DialogueAction {
    /// Hand the caller to a human agent.
    Transfer {
        reason: TransferReason,
        /// A short summary of the conversation so far, for the human agent.
        summary: String,
    },
    /// End the call.
    HangUp,
}

/// Why a caller is handed to a human.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum TransferReason {
    /// The caller asked for a person (转人工, agent, human ...).
    CallerAsked,
    /// Several turns in a row went without a satisfying answer.
    Unresolved,
    /// The caller sounds anxious or angry.
    Distress,
    /// The engine itself (an external bot, an LLM tool call) decided to hand off.
    EngineDecided(String),
}
