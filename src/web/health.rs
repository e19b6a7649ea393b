//! `/healthz`: is the engine up, and what did it load.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use serde::Serialize;

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
