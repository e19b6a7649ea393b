//! `hotline serve`: load everything once, then serve HTTP or HTTPS (`/healthz`, `/metrics`), the
//! `/media` WebSocket, browser calls and, when `[sip] enabled`, SIP calls (whose user agent
//! also takes browser calls to the human line), every call driven with the shared engine and
//! holding one of the node's lines, until stopped: SIGTERM or Ctrl-C drains first (see
//! [`crate::lifecycle::drain_on_signal`]).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::call::{CallChannel, CallOptions, spawn_call};
use crate::channel::{HumanLine, run_sip_channel};
use crate::config::Config;
use crate::engine::Engine;
use crate::engine_runtime::build_engine_runtime;
use crate::lifecycle::drain_on_signal;
use crate::web::{self, WebState};

pub fn run(config: Config) -> anyhow::Result<()> {
    let listen = config
        .server
        .listen
        .parse()
        .with_context(|| format!("server.listen = {:?}", config.server.listen))?;
    // HTTPS files are read before any model loads: a bad certificate stops the node at once.
    let tls = if config.server.tls_cert.as_os_str().is_empty() {
        None
    } else {
        Some(web::TlsCertificates::load(
            &config.server.tls_cert,
            &config.server.tls_key,
        )?)
    };
    let sip = config.sip.clone();
    let drain_timeout = Duration::from_secs(config.server.drain_timeout_s);
    let runtime = build_engine_runtime(&config.server)?;
    let engine = Arc::new(Engine::load(config)?);
    let served = runtime.block_on(async move {
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
        // SIGTERM / Ctrl-C: refuse new calls, let the running ones end, then `stop`.
        let stop = CancellationToken::new();
        let admission = Arc::clone(&state.admission);
        tokio::spawn(drain_on_signal(
            Arc::clone(&admission),
            drain_timeout,
            stop.clone(),
            web::shutdown_signal,
        ));
        let sip_channel = tokio::spawn(run_sip_channel(
            engine,
            sip,
            human_line,
            admission,
            move |leg| {
                let options = CallOptions {
                    channel: CallChannel::Sip,
                    ..CallOptions::default()
                };
                spawn_call(Arc::clone(&calls), leg, options);
            },
            stop.clone().cancelled_owned(),
        ));
        let served = web::serve(
            listen,
            web::router(state),
            tls,
            stop.clone().cancelled_owned(),
        )
        .await;
        if served.is_err() {
            stop.cancel();
            sip_channel.abort();
        }
        match sip_channel.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "SIP channel failed"),
            Err(error) if error.is_cancelled() => {}
            Err(error) => tracing::error!(%error, "SIP channel task failed"),
        }
        served
    });
    // Calls still running after the drain timeout are cut here; a blocking job (a decode)
    // is not waited for long.
    runtime.shutdown_timeout(Duration::from_secs(2));
    served?;
    Ok(())
}
