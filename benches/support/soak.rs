//! Soak mode of `conversation_latency` (`HOTLINE_BENCH_SOAK_MINUTES=M`): `HOTLINE_BENCH_SOAK_CALLERS`
//! (default 8) scripted callers call again and again for M minutes, and every minute prints the
//! process's resident memory, open file descriptors and threads, and the voice-to-voice
//! p50 / p95 of the answers of the calls that finished in that minute. At the end: memory growth after the first
//! 10 minutes (target < 5%) and how far each later minute's p95 strays from the median minute
//! (target within 10%).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Clips, Tally, percentile, run_call};

/// One minute of the soak.
struct Sample {
    minute: u64,
    rss_kib: u64,
    fds: usize,
    threads: u64,
    answers: usize,
    p50: Option<u64>,
    p95: Option<u64>,
}

fn proc_status_field(name: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                let value = line.strip_prefix(name)?.trim_start_matches(':').trim();
                value.split_whitespace().next()?.parse().ok()
            })
        })
        .unwrap_or(0)
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

pub async fn soak(port: u16, clips: Arc<Clips>, minutes: u64, callers: usize, turns: usize) {
    println!(
        "soak: {callers} callers for {minutes} min, {turns} turns per call, calling again at once"
    );
    let deadline = Instant::now() + Duration::from_secs(minutes * 60);
    // Voice-to-voice figures of calls finished since the last sample.
    let finished: Arc<Mutex<Vec<u64>>> = Arc::default();
    let failures = Arc::new(Mutex::new(0u32));
    let callers_done: Vec<_> = (0..callers)
        .map(|caller| {
            let (clips, finished, failures) = (
                Arc::clone(&clips),
                Arc::clone(&finished),
                Arc::clone(&failures),
            );
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    match run_call(port, caller, turns, Arc::clone(&clips)).await {
                        Ok(Tally {
                            voice_to_voice_ms, ..
                        }) => {
                            if let Ok(mut all) = finished.lock() {
                                all.extend(voice_to_voice_ms);
                            }
                        }
                        Err(error) => {
                            eprintln!("soak: call failed: {error}");
                            if let Ok(mut n) = failures.lock() {
                                *n += 1;
                            }
                        }
                    }
                }
            })
        })
        .collect();
    println!("| minute | RSS MiB | fds | threads | answers | v2v p50 ms | v2v p95 ms |");
    println!("|---|---|---|---|---|---|---|");
    let started = Instant::now();
    let mut samples = Vec::new();
    for minute in 1..=minutes {
        tokio::time::sleep_until((started + Duration::from_secs(minute * 60)).into()).await;
        let mut answers = finished
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        answers.sort_unstable();
        let sample = Sample {
            minute,
            rss_kib: proc_status_field("VmRSS"),
            fds: open_fds(),
            threads: proc_status_field("Threads"),
            answers: answers.len(),
            p50: percentile(&answers, 50.0),
            p95: percentile(&answers, 95.0),
        };
        println!(
            "| {} | {:.1} | {} | {} | {} | {} | {} |",
            sample.minute,
            sample.rss_kib as f64 / 1024.0,
            sample.fds,
            sample.threads,
            sample.answers,
            sample.p50.map_or("-".into(), |v| v.to_string()),
            sample.p95.map_or("-".into(), |v| v.to_string()),
        );
        samples.push(sample);
    }
    for caller in callers_done {
        let _ = caller.await;
    }
    let failed = failures.lock().map_or(0, |n| *n);
    println!("soak: {failed} calls failed");
    let baseline = samples.iter().find(|s| s.minute == 10.min(minutes));
    if let (Some(base), Some(last)) = (baseline, samples.last()) {
        let growth = (last.rss_kib as f64 / base.rss_kib.max(1) as f64 - 1.0) * 100.0;
        println!(
            "soak: RSS {:.1} MiB at minute {} → {:.1} MiB at minute {}: {growth:+.1}% (target < 5%)",
            base.rss_kib as f64 / 1024.0,
            base.minute,
            last.rss_kib as f64 / 1024.0,
            last.minute
        );
    }
    let mut p95s: Vec<u64> = samples.iter().filter_map(|s| s.p95).collect();
    p95s.sort_unstable();
    if let Some(median) = percentile(&p95s, 50.0) {
        let worst = p95s
            .iter()
            .map(|&p| (p as f64 / median.max(1) as f64 - 1.0).abs() * 100.0)
            .fold(0.0, f64::max);
        println!(
            "soak: per-minute v2v p95 median {median} ms, furthest minute {worst:.0}% away (target within 10%)"
        );
    }
}
