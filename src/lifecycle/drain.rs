//! Stopping without cutting calls off: on SIGTERM (or Ctrl-C) the node drains. It refuses new
//! calls on every channel (`/readyz` and SIP OPTIONS say 503, so a load balancer sends callers
//! elsewhere), lets the calls running finish for at most `[server] drain_timeout_s`, and only
//! then stops serving; a second signal stops it at once.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::admission::Admission;

/// Waits for `signal`, drains `admission`, then cancels `stop` (what the HTTP server and the SIP
/// channel wait for). `signal` is asked for again during the drain: a second one ends it.
pub async fn drain_on_signal<S, F>(
    admission: Arc<Admission>,
    timeout: Duration,
    stop: CancellationToken,
    mut signal: S,
) where
    S: FnMut() -> F,
    F: Future<Output = ()>,
{
    tokio::select! {
        () = signal() => {}
        () = stop.cancelled() => return,
    }
    admission.start_draining();
    let running = admission.active_calls();
    tracing::info!(
        running,
        timeout_s = timeout.as_secs(),
        "draining: no new calls; waiting for the calls running to end"
    );
    tokio::select! {
        () = admission.all_calls_ended() => tracing::info!("drained: every call has ended"),
        () = tokio::time::sleep(timeout) => tracing::warn!(
            still_running = admission.active_calls(),
            "drain timeout reached; stopping with calls still running"
        ),
        () = signal() => tracing::warn!(
            still_running = admission.active_calls(),
            "second stop signal; stopping now"
        ),
    }
    stop.cancel();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stop signal that arrives once (the first wait), never again.
    fn one_signal() -> impl FnMut() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
        let mut signals = 0;
        move || {
            signals += 1;
            if signals == 1 {
                Box::pin(async {})
            } else {
                Box::pin(std::future::pending())
            }
        }
    }

    #[tokio::test]
    async fn stops_when_the_last_call_ends() {
        let admission = Admission::new(2);
        let call = admission.try_admit().expect("a line");
        let stop = CancellationToken::new();
        let drain = tokio::spawn(drain_on_signal(
            Arc::clone(&admission),
            Duration::from_secs(60),
            stop.clone(),
            one_signal(),
        ));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(admission.is_draining());
        assert!(!stop.is_cancelled(), "a call is still running");
        drop(call);
        tokio::time::timeout(Duration::from_secs(1), stop.cancelled())
            .await
            .expect("stopped once the call ended");
        drain.await.unwrap();
    }

    #[tokio::test]
    async fn stops_at_the_timeout_with_a_call_still_running() {
        let admission = Admission::new(2);
        let _call = admission.try_admit().expect("a line");
        let stop = CancellationToken::new();
        let drain = tokio::spawn(drain_on_signal(
            Arc::clone(&admission),
            Duration::from_millis(300),
            stop.clone(),
            one_signal(),
        ));
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(!stop.is_cancelled());
        tokio::time::timeout(Duration::from_secs(2), stop.cancelled())
            .await
            .expect("stopped at the timeout");
        assert_eq!(admission.active_calls(), 1);
        drain.await.unwrap();
    }
}
