//! `/healthz`: is the engine up (liveness), and what did it load. `/readyz`: has every model
//! run once (warm start, see [`crate::engine_warm_up`]) so a call now is answered at full
//! speed; 503 until then, for a load balancer to hold calls back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use crate::engine_warm_up::WarmUpReport;

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
    #[serde(skip)]
    ready: AtomicBool,
    #[serde(skip)]
    warm_up: Mutex<Option<WarmUpReport>>,
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
            ready: AtomicBool::new(false),
            warm_up: Mutex::new(None),
        }
    }

    /// Every model has run once: `/readyz` answers 200 from now on.
    pub fn mark_warm(&self, report: WarmUpReport) {
        if let Ok(mut slot) = self.warm_up.lock() {
            *slot = Some(report);
        }
        self.ready.store(true, Ordering::Release);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }
}

pub async fn readyz(State(health): State<Arc<Health>>) -> (StatusCode, Json<serde_json::Value>) {
    if !health.is_ready() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(
                serde_json::json!({ "status": "warming_up", "uptime_s": health.started.elapsed().as_secs() }),
            ),
        );
    }
    let report = health.warm_up.lock().ok().and_then(|r| r.clone());
    (
        StatusCode::OK,
        Json(serde_json::json!({ "status": "ready", "warm_up": report })),
    )
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
