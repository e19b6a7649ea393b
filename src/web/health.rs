//! `/healthz`: is the engine up (liveness), and what did it load. `/readyz`: should a load
//! balancer send this node a call now: 200 once every model has run once (warm start, see
//! [`crate::engine_warm_up`]) and while a line is free; 503 while warming up, when every line
//! is busy (`full`) or when the node is stopping (`draining`), the JSON body saying which.

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
use crate::lifecycle::{Admission, Availability};

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

pub async fn readyz(
    State(health): State<Arc<Health>>,
    State(admission): State<Arc<Admission>>,
) -> (StatusCode, Json<serde_json::Value>) {
    let (active_calls, max_calls) = (admission.active_calls(), admission.limit());
    let availability = admission.availability();
    if availability == Availability::Draining || !health.is_ready() {
        let status = if availability == Availability::Draining {
            "draining"
        } else {
            "warming_up"
        };
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({
                "status": status,
                "uptime_s": health.started.elapsed().as_secs(),
                "active_calls": active_calls,
                "max_calls": max_calls,
            })),
        );
    }
    let report = health.warm_up.lock().ok().and_then(|r| r.clone());
    let status = if availability == Availability::Full {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (
        status,
        Json(serde_json::json!({
            "status": availability.as_str(),
            "active_calls": active_calls,
            "max_calls": max_calls,
            "warm_up": report,
        })),
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
