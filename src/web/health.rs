//! `/healthz`: is the engine up, and what did it load.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::engine::Engine;
use crate::lang::Lang;

/// What the health endpoint reports.
#[derive(Debug, Serialize)]
pub struct Health {
    pub version: &'static str,
    pub asr_model: String,
    pub voices: Vec<String>,
    pub faq_entries: usize,
    #[serde(skip)]
    pub started: Instant,
}

impl Health {
    /// What `engine` loaded, with the uptime clock starting now.
    pub fn of(engine: &Engine) -> Self {
        Self {
            version: env!("CARGO_PKG_VERSION"),
            asr_model: engine.config.asr.model.clone(),
            voices: Lang::ALL
                .iter()
                .map(|&lang| format!("{lang}={}", engine.voices.voice(lang).name()))
                .collect(),
            faq_entries: engine.dialogue.describe().entries,
            started: Instant::now(),
        }
    }
}

#[derive(Serialize)]
struct HealthReply<'a> {
    status: &'static str,
    uptime_s: u64,
    #[serde(flatten)]
    health: &'a Health,
}

pub async fn healthz(State(health): State<Arc<Health>>) -> Json<serde_json::Value> {
    let reply = HealthReply {
        status: "ok",
        uptime_s: health.started.elapsed().as_secs(),
        health: &health,
    };
    Json(serde_json::to_value(reply).unwrap_or_default())
}
