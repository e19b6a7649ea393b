//! Cost of matching by meaning: one caller turn embedded (multilingual-e5-small on the
//! embedding worker, one OpenMP thread; the Universal Sentence Encoder on its own worker; both
//! at once, as a turn is), and a whole turn through the dialogue stack with embeddings on
//! (policy + FAQ, the turn embedded once per model), on the shipped case questions. Also the
//! FAQ's load time with the vector cache empty and full. Prints p50/p95/max.
//! Run: `cargo bench --bench embedding_latency` (target: embedding p95 ≤ 25 ms per turn, both
//! models together).

#[path = "support/shipped_cases.rs"]
mod shipped_cases;

use std::time::{Duration, Instant};

use hotline::config::DialogueConfig;
use hotline::dialogue::DialogueRequest;
use hotline::embedding::{Embedder, Embedders};
use hotline::lang::Lang;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name:<40} n={:<4} p50 {:>6.1} ms  p95 {:>6.1} ms  max {:>6.1} ms",
        samples.len(),
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.95).as_secs_f64() * 1e3,
        samples[samples.len() - 1].as_secs_f64() * 1e3
    );
}

fn main() {
    let embedder = match Embedder::start(std::path::Path::new("models"), 1) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("no embedding model ({e}); run `hotline models fetch` first");
            return;
        }
    };
    let second = match Embedder::start_use(std::path::Path::new("models")) {
        Ok(e) => Some(e),
        Err(e) => {
            eprintln!("no second embedding model ({e}); measuring e5 alone");
            None
        }
    };
    let queries: Vec<(String, Lang)> = shipped_cases::shipped_questions();

    // Each text once (no recent-query reuse), as a caller turn is.
    let mut embed = Vec::new();
    for (i, (text, _)) in queries.iter().enumerate() {
        let unique = format!("{text} {i}");
        let t = Instant::now();
        embedder.query_blocking(&unique).expect("embed");
        embed.push(t.elapsed());
    }
    report("embed one caller turn (e5)", embed);
    if let Some(second) = &second {
        let mut alone = Vec::new();
        let mut both = Vec::new();
        for (i, (text, _)) in queries.iter().enumerate() {
            let unique = format!("{text} {i} use");
            let t = Instant::now();
            second.query_blocking(&unique).expect("embed");
            alone.push(t.elapsed());
            let unique = format!("{text} {i} both");
            let t = Instant::now();
            let pending = second.start_query(&unique).expect("embed");
            embedder.query_blocking(&unique).expect("embed");
            pending.wait().expect("embed");
            both.push(t.elapsed());
        }
        report("embed one caller turn (USE)", alone);
        report("embed one caller turn (e5 + USE at once)", both);
    }
    let embedders = Embedders {
        primary: Some(embedder.clone()),
        second,
    };

    let cache_dir = tempfile::tempdir().expect("temp dir");
    let config = DialogueConfig {
        embedding_cache: Some(cache_dir.path().to_path_buf()),
        ..DialogueConfig::default()
    };
    let t = Instant::now();
    let _cold = hotline::dialogue::load_engine_with(&config, embedders.clone()).expect("engine");
    println!(
        "load demo FAQ, vector cache empty      {:>8.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let t = Instant::now();
    let engine = hotline::dialogue::load_engine_with(&config, embedders.clone()).expect("engine");
    println!(
        "load demo FAQ, vector cache full       {:>8.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut turns = Vec::new();
    for (i, (text, lang)) in queries.iter().enumerate() {
        let unique = format!("{text} {i}");
        let t = Instant::now();
        let events = runtime.block_on(
            engine
                .respond(DialogueRequest::new(unique, *lang))
                .collect(),
        );
        assert!(!events.is_empty());
        turns.push(t.elapsed());
    }
    report("turn through policy + FAQ (by meaning)", turns);
}
