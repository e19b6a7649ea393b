//! HTTP surface of the engine: health now; metrics, the media WebSocket, the widget and the
//! review UI attach here as they arrive.

mod health;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;

pub use health::Health;

/// Builds the router served by `hotline serve`.
pub fn router(health: Arc<Health>) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .with_state(health)
}

/// Serves `router` on `listen` until ctrl-c / SIGTERM, then returns.
pub async fn serve(listen: SocketAddr, router: Router) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let local = listener.local_addr()?;
    tracing::info!(%local, "hotline listening: http://{local}/healthz");
    println!("hotline listening on http://{local} (health: http://{local}/healthz)");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
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
