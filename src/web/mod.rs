//! HTTP surface of the engine: `/healthz`, `/readyz`, `/metrics`, the `/media` WebSocket (Twilio
//! Media Streams), the browser widget (`/widget.js`, the demo page at `/`) and its signalling
//! (`/webrtc/...`), the call store's JSON API (`/api/calls`) and the review UI (`/review`,
//! `review/`).

mod api_auth;
mod api_calls;
mod api_unanswered;
mod browser_calls;
mod byte_range;
mod call_metrics;
mod health;
mod histogram;
mod media_access;
mod media_route;
mod metrics;
mod review;
mod tls;
mod webrtc_route;
mod widget_events;
mod widget_route;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::FromRef;
use axum::routing::{delete, get, put};

pub use browser_calls::BrowserCalls;
pub use call_metrics::CallMetrics;
pub use health::Health;
pub use histogram::{Histogram, LATENCY_BUCKETS};
pub use media_access::{MediaConfig, MediaConfigError, MediaTokens};
pub use review::date_time_of;
pub use tls::{CertificateCheck, TlsCertificates, TlsFilesError, TlsListener, load_tls_config};

use crate::call::{CallNotices, CallServices};
use crate::channel::webrtc::{BrowserTransfer, WebRtcEndpoint};
use crate::channel::{HumanLine, SipTransferPolicy};
use crate::engine::Engine;
use crate::lifecycle::Admission;
use crate::store::{CallArchive, SystemClock};

/// What the handlers share.
#[derive(Clone)]
pub struct WebState {
    pub health: Arc<Health>,
    pub metrics: Arc<CallMetrics>,
    pub calls: Arc<CallServices>,
    /// Calls from the browser widget.
    pub browser: Arc<BrowserCalls>,
    /// The call store (`/api`); None when `[store] enabled = false` or it did not open.
    pub archive: Option<Arc<CallArchive>>,
    /// The review UI's logged-in sessions.
    pub review: Arc<review::ReviewSessions>,
    /// Lines for calls, shared by every channel (`[server] max_calls`), and whether the node
    /// is draining.
    pub admission: Arc<Admission>,
}

impl FromRef<WebState> for Arc<Admission> {
    fn from_ref(state: &WebState) -> Self {
        Arc::clone(&state.admission)
    }
}

impl FromRef<WebState> for Arc<Health> {
    fn from_ref(state: &WebState) -> Self {
        Arc::clone(&state.health)
    }
}

impl FromRef<WebState> for Arc<CallMetrics> {
    fn from_ref(state: &WebState) -> Self {
        Arc::clone(&state.metrics)
    }
}

impl FromRef<WebState> for Arc<BrowserCalls> {
    fn from_ref(state: &WebState) -> Self {
        Arc::clone(&state.browser)
    }
}

impl FromRef<WebState> for Arc<CallServices> {
    fn from_ref(state: &WebState) -> Self {
        Arc::clone(&state.calls)
    }
}

/// Largest request body read on `POST /webrtc/calls` (the offer limit itself is
/// `[webrtc] max_offer_bytes`, checked with a clear message below this).
const OFFER_BODY_LIMIT: usize = 1024 * 1024;

/// Builds the router served by `hotline serve`.
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
        .route("/media", get(media_route::media))
        .route("/", get(widget_route::demo_page))
        .route("/widget.js", get(widget_route::widget_js))
        .route(
            "/webrtc/calls",
            axum::routing::post(webrtc_route::create_call)
                .options(webrtc_route::preflight)
                .layer(DefaultBodyLimit::max(OFFER_BODY_LIMIT)),
        )
        .route(
            "/webrtc/calls/{id}",
            delete(webrtc_route::delete_call).options(webrtc_route::preflight),
        )
        .route("/webrtc/config", get(webrtc_route::ice_config))
        .route("/api/calls", get(api_calls::list_calls))
        .route("/api/calls/{id}", get(api_calls::call_detail))
        .route("/api/calls/{id}/recording", get(api_calls::call_recording))
        .route("/api/calls/{id}/export", get(api_calls::call_export))
        .route("/api/calls/{id}/hold", put(api_calls::call_hold))
        .route("/api/unanswered", get(api_unanswered::unanswered))
        .merge(review::routes())
        .with_state(state)
}

impl WebState {
    /// Everything `hotline serve` runs over a loaded engine: call services (the media
    /// WebSocket's and any other channel's calls go to `calls`), metrics following the calls,
    /// and browser calls that transfer through `human_line` (connected by the SIP channel).
    /// Must be called inside a tokio runtime (it spawns the metrics task).
    pub fn live(engine: Arc<Engine>, human_line: HumanLine) -> Self {
        let notices = CallNotices::new();
        let metrics = Arc::new(CallMetrics::new());
        {
            let metrics = Arc::clone(&metrics);
            let follow = notices.subscribe();
            tokio::spawn(async move { metrics.follow(follow).await });
        }
        let transfer = BrowserTransfer {
            line: human_line,
            policy: Arc::new(SipTransferPolicy {
                sip: engine.config.sip.clone(),
                fallback_target: engine.config.transfer.target.clone(),
                engine: Some(Arc::clone(&engine)),
            }),
        };
        let endpoint = WebRtcEndpoint::new(engine.config.webrtc.clone())
            .unwrap_or_else(|error| {
                tracing::error!(%error, "browser calls are off");
                WebRtcEndpoint::disabled()
            })
            .with_transfer(transfer);
        let archive = open_archive(&engine, &notices);
        let mut services = CallServices::new(Arc::clone(&engine), notices);
        if let Some(recorder) = archive.as_ref().and_then(|a| a.recorder.clone()) {
            services = services.with_recorder(recorder);
        }
        let calls = Arc::new(services);
        Self {
            health: Arc::new(Health::of(&engine)),
            metrics,
            browser: Arc::new(BrowserCalls::new(endpoint, Arc::clone(&calls))),
            calls,
            archive,
            review: Arc::default(),
            admission: Admission::new(engine.config.server.max_calls),
        }
    }
}

/// The call store as `[store]` and `[recording]` say, following `notices`, its deletion job
/// running; None (logged) when it is off or cannot be opened: calls go on without it.
fn open_archive(engine: &Engine, notices: &CallNotices) -> Option<Arc<CallArchive>> {
    let config = &engine.config;
    if !config.store.enabled {
        return None;
    }
    match CallArchive::open(&config.store, &config.recording, Arc::new(SystemClock)) {
        Ok(archive) => {
            archive.follow(notices);
            archive.spawn_retention();
            Some(Arc::new(archive))
        }
        Err(error) => {
            tracing::error!(%error, "calls are not stored or recorded: the call store did not open");
            None
        }
    }
}

/// [`router`] over [`WebState::live`]: the whole server of a loaded engine, without SIP (browser
/// calls cannot be transferred).
pub fn engine_router(engine: Arc<Engine>) -> Router {
    router(WebState::live(engine, HumanLine::default()))
}

/// Serves `router` on `listen` until `shutdown` completes, then returns once the requests in
/// flight are answered: plain HTTP, or only HTTPS when `tls` is given ([`TlsCertificates`],
/// watched for renewal while the server runs).
/// Handlers see the peer's address (`ConnectInfo<SocketAddr>`) either way.
pub async fn serve(
    listen: SocketAddr,
    router: Router,
    tls: Option<Arc<TlsCertificates>>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;

    let listener = tokio::net::TcpListener::bind(listen).await?;
    let local = listener.local_addr()?;
    let Some(tls) = tls else {
        tracing::info!(%local, "hotline listening: http://{local}/healthz");
        println!(
            "hotline listening on http://{local} (health: http://{local}/healthz, metrics: http://{local}/metrics, media streams: ws://{local}/media)"
        );
        return axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
    };
    tracing::info!(%local, "hotline listening: https://{local}/healthz");
    println!(
        "hotline listening on https://{local} (health: https://{local}/healthz, metrics: https://{local}/metrics, media streams: wss://{local}/media)"
    );
    // The node terminates TLS itself, so it says what a terminating proxy would: the review
    // pages' cookies are then `Secure`.
    let router = router.layer(axum::middleware::map_request(
        |mut request: axum::extract::Request| async move {
            request.headers_mut().insert(
                "x-forwarded-proto",
                axum::http::HeaderValue::from_static("https"),
            );
            request
        },
    ));
    // `tap_io` (doing nothing) because axum gives `ConnectInfo<SocketAddr>` to any tapped
    // listener whose address is a `SocketAddr`.
    let watching = tls.watch();
    let listener = TlsListener::new(listener, tls)?.tap_io(|_| {});
    let served = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    watching.abort();
    served
}

/// Completes on ctrl-c or SIGTERM (every caller is woken).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
