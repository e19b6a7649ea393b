//! Soak mode of `conversation_latency` (`HOTLINE_BENCH_SOAK_MINUTES=M`): `HOTLINE_BENCH_SOAK_CALLERS`
//! (default 8) scripted callers call again and again for M minutes, and every minute prints the
//! process's resident memory, open file descriptors and threads, and the voice-to-voice
//! p50 / p95 of the answers of the calls that finished in that minute, beside what the machine
//! did meanwhile (CPU taken by the hypervisor: steal; CPU used by other processes), so a slow
//! minute can be told apart from a noisy neighbour. At the end: memory growth after the first
//! 10 minutes (target < 5%), and the p95 of each 10-minute window against the median window
//! (target within 10%; a minute's p95 is the 2nd or 3rd slowest of some 40 answers, too few to
//! judge drift by, so the furthest minute is printed as well but not judged).

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

/// CPU counters at one moment: the whole machine's (`/proc/stat`, all cores) and this
/// process's (`/proc/self/stat`), in clock ticks.
#[derive(Clone, Copy, Default)]
struct CpuTicks {
    total: u64,
    idle: u64,
    steal: u64,
    own: u64,
}

impl CpuTicks {
    fn now() -> Self {
        let machine: Vec<u64> = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|stat| {
                let line = stat.lines().next()?.strip_prefix("cpu ")?.to_string();
                Some(
                    line.split_whitespace()
                        .filter_map(|v| v.parse().ok())
                        .collect(),
                )
            })
            .unwrap_or_default();
        let field = |i: usize| machine.get(i).copied().unwrap_or(0);
        // user nice system idle iowait irq softirq steal (guest time is inside user).
        let total = (0..8).map(field).sum();
        let own = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|stat| {
                // Fields after the parenthesised name; utime and stime are the 12th and 13th.
                let rest = stat.rsplit_once(')')?.1.to_string();
                let fields: Vec<u64> = rest
                    .split_whitespace()
                    .skip(11)
                    .take(2)
                    .filter_map(|v| v.parse().ok())
                    .collect();
                Some(fields.iter().sum())
            })
            .unwrap_or(0);
        Self {
            total,
            idle: field(3) + field(4),
            steal: field(7),
            own,
        }
    }

    /// (steal %, other processes' CPU %) of the whole machine since `before`.
    fn since(&self, before: &CpuTicks) -> (f64, f64) {
        let total = self.total.saturating_sub(before.total).max(1) as f64;
        let steal = self.steal.saturating_sub(before.steal) as f64;
        let busy = total - self.idle.saturating_sub(before.idle) as f64 - steal;
        let own = self.own.saturating_sub(before.own) as f64;
        (steal / total * 100.0, (busy - own).max(0.0) / total * 100.0)
    }
}

/// Minutes per window of the stability judgement.
const WINDOW_MINUTES: u64 = 10;

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
    println!(
        "| minute | RSS MiB | fds | threads | answers | v2v p50 ms | v2v p95 ms | steal % | other processes' CPU % |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let started = Instant::now();
    let mut samples = Vec::new();
    let mut windows: Vec<Vec<u64>> = Vec::new();
    let mut ticks = CpuTicks::now();
    for minute in 1..=minutes {
        tokio::time::sleep_until((started + Duration::from_secs(minute * 60)).into()).await;
        let mut answers = finished
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        answers.sort_unstable();
        let window = ((minute - 1) / WINDOW_MINUTES) as usize;
        if windows.len() <= window {
            windows.push(Vec::new());
        }
        windows[window].extend(&answers);
        let now_ticks = CpuTicks::now();
        let (steal, others) = now_ticks.since(&ticks);
        ticks = now_ticks;
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
            "| {} | {:.1} | {} | {} | {} | {} | {} | {steal:.1} | {others:.1} |",
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
        println!("soak: per-minute v2v p95 median {median} ms, furthest minute {worst:.0}% away");
    }
    // Only whole windows are judged.
    let whole = (minutes / WINDOW_MINUTES) as usize;
    let window_p95s: Vec<u64> = windows
        .iter()
        .take(whole)
        .filter_map(|answers| percentile(answers, 95.0))
        .collect();
    for (i, (answers, p95)) in windows.iter().zip(&window_p95s).enumerate() {
        println!(
            "soak: minutes {}-{}: {} answers, v2v p50 {} ms, p95 {p95} ms",
            i as u64 * WINDOW_MINUTES + 1,
            (i as u64 + 1) * WINDOW_MINUTES,
            answers.len(),
            percentile(answers, 50.0).unwrap_or(0),
        );
    }
    let mut sorted = window_p95s.clone();
    sorted.sort_unstable();
    if let Some(median) = percentile(&sorted, 50.0) {
        let worst = sorted
            .iter()
            .map(|&p| (p as f64 / median.max(1) as f64 - 1.0).abs() * 100.0)
            .fold(0.0, f64::max);
        println!(
            "soak: {WINDOW_MINUTES}-minute windows' v2v p95 median {median} ms, furthest window {worst:.0}% away (target within 10%)"
        );
    }
}
