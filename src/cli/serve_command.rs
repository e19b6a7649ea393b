//! `hotline serve`: load everything once, then serve HTTP (`/healthz`, `/metrics`), the
//! `/media` WebSocket, browser calls and, when `[sip] enabled`, SIP calls (whose user agent
//! also takes browser calls to the human line), every call driven with the shared engine,
//! until stopped.

use std::sync::Arc;

use anyhow::Context;

use crate::call::{CallChannel, CallOptions, spawn_call};
use crate::channel::{HumanLine, run_sip_channel};
use crate::config::Config;
use crate::engine::Engine;
use crate::engine_runtime::build_engine_runtime;
use crate::web::{self, WebState};

pub fn run(config: Config) -> anyhow::Result<()> {
    let listen = config
        .server
        .listen
        .parse()
        .with_context(|| format!("server.listen = {:?}", config.server.listen))?;
    let sip = config.sip.clone();
    let runtime = build_engine_runtime(&config.server)?;
    let engine = Arc::new(Engine::load(config)?);
    runtime.block_on(async move {
        let human_line = HumanLine::default();
        let state = WebState::live(Arc::clone(&engine), human_line.clone());
        let calls = Arc::clone(&state.calls);
        {
            // Warm start: every model runs once; /readyz says 200 when done.
            let engine = Arc::clone(&engine);
            let health = Arc::clone(&state.health);
            tokio::task::spawn_blocking(move || {
                let report = crate::engine_warm_up::warm_up(&engine);
                if report.problems.is_empty() {
                    tracing::info!(?report, "warm: every model has run once; ready for calls");
                } else {
                    tracing::warn!(?report, "warm-up had problems; serving anyway");
                }
                health.mark_warm(report);
            });
        }
        let sip_channel = tokio::spawn(run_sip_channel(
            engine,
            sip,
            human_line,
            move |leg| {
                let options = CallOptions {
                    channel: CallChannel::Sip,
                    ..CallOptions::default()
                };
                spawn_call(Arc::clone(&calls), leg, options);
            },
            web::shutdown_signal(),
        ));
        let served = web::serve(listen, web::router(state)).await;
        if served.is_err() {
            sip_channel.abort();
        }
        match sip_channel.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "SIP channel failed"),
            Err(error) if error.is_cancelled() => {}
            Err(error) => tracing::error!(%error, "SIP channel task failed"),
        }
        served
    })?;
    Ok(())
}
