//! Overload mode of `conversation_latency` (`HOTLINE_BENCH_OVERLOAD=1`): the engine's line
//! limit `[server] max_calls` is set to the capacity C (`HOTLINE_BENCH_OVERLOAD_CALLS`, default
//! the configured 8). First C talking callers alone (the baseline), then C talking callers
//! again while C more keep calling, each trying a new `/media` call every
//! [`RETRY_EVERY`] for as long as the talking calls last. Prints, for both phases, the
//! voice-to-voice p50 / p95 of the answers the admitted callers got, and how the extra
//! callers were refused: HTTP 503 with `Retry-After` (a clear signal), any other refusal, or
//! let in (a line had come free: the call is hung up at once). Targets: with twice the
//! capacity offered, p95 ≤ 1.5 s, every refused caller a clear signal.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use tokio_tungstenite::tungstenite::Error as WsError;

use super::{Clips, percentile, run_calls};

/// How often each extra caller tries again (more often than the `Retry-After` asks: a harsh
/// trunk).
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// How the extra callers fared.
#[derive(Default)]
struct Refusals {
    clear: AtomicU32,
    unclear: AtomicU32,
    let_in: AtomicU32,
}

/// C callers each make one call of `turns` turns; their answers' voice-to-voice times and the
/// calls that failed.
async fn talking(port: u16, clips: &Arc<Clips>, capacity: usize, turns: usize) -> (Vec<u64>, u32) {
    let all = run_calls(port, capacity, turns, clips).await;
    let mut v2v = all.voice_to_voice_ms;
    v2v.sort_unstable();
    (v2v, all.failed_calls)
}

/// One extra caller: tries to call until `stop`, every [`RETRY_EVERY`].
async fn knocking(port: u16, stop: Arc<AtomicBool>, refusals: Arc<Refusals>) {
    while !stop.load(Ordering::Relaxed) {
        match tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/media")).await {
            Err(WsError::Http(response))
                if response.status().as_u16() == 503
                    && response.headers().contains_key("retry-after") =>
            {
                refusals.clear.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => {
                eprintln!("overload: an extra caller was refused without a clear signal: {error}");
                refusals.unclear.fetch_add(1, Ordering::Relaxed);
            }
            Ok((socket, _)) => {
                refusals.let_in.fetch_add(1, Ordering::Relaxed);
                drop(socket);
            }
        }
        tokio::time::sleep(RETRY_EVERY).await;
    }
}

fn line(phase: &str, offered: usize, v2v: &[u64], failed: u32, took: Duration) -> String {
    let ms = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    format!(
        "| {phase} | {offered} | {} | {} | {} | {failed} | {:.0} |",
        v2v.len(),
        ms(percentile(v2v, 50.0)),
        ms(percentile(v2v, 95.0)),
        took.as_secs_f64()
    )
}

pub async fn overload(port: u16, clips: Arc<Clips>, capacity: usize, turns: usize) {
    println!(
        "overload: capacity ([server] max_calls) {capacity}, {turns} turns per talking call, extra callers retry every {} ms",
        RETRY_EVERY.as_millis()
    );
    println!(
        "| phase | callers offered | answers | v2v p50 ms | v2v p95 ms | failed calls | seconds |"
    );
    println!("|---|---|---|---|---|---|---|");
    let started = Instant::now();
    let (alone, failed) = talking(port, &clips, capacity, turns).await;
    println!(
        "{}",
        line("alone", capacity, &alone, failed, started.elapsed())
    );

    let stop = Arc::new(AtomicBool::new(false));
    let refusals = Arc::new(Refusals::default());
    let started = Instant::now();
    let talkers = {
        let clips = Arc::clone(&clips);
        tokio::spawn(async move { talking(port, &clips, capacity, turns).await })
    };
    // The extra callers start once the talking ones hold every line.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let knockers: Vec<_> = (0..capacity)
        .map(|_| tokio::spawn(knocking(port, Arc::clone(&stop), Arc::clone(&refusals))))
        .collect();
    let (crowded, failed) = talkers.await.unwrap_or_default();
    stop.store(true, Ordering::Relaxed);
    for knocker in knockers {
        let _ = knocker.await;
    }
    println!(
        "{}",
        line(
            "twice offered",
            2 * capacity,
            &crowded,
            failed,
            started.elapsed()
        )
    );
    let (clear, unclear, let_in) = (
        refusals.clear.load(Ordering::Relaxed),
        refusals.unclear.load(Ordering::Relaxed),
        refusals.let_in.load(Ordering::Relaxed),
    );
    println!();
    println!(
        "extra callers' tries: {clear} refused with 503 + Retry-After, {unclear} refused otherwise, {let_in} let in (a line had come free)"
    );
    let p95 = percentile(&crowded, 95.0);
    let alone_p95 = percentile(&alone, 95.0);
    println!(
        "v2v p95 with twice the capacity offered: {} ms (alone {} ms; target <= 1500); every refusal clear: {}",
        p95.map_or("-".into(), |v| v.to_string()),
        alone_p95.map_or("-".into(), |v| v.to_string()),
        if unclear == 0 { "yes" } else { "no" }
    );
}
