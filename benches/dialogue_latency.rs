//! Knowledge-base answer latency, transcript in → first sentence out, through the same engine
//! stack a call uses (policy + safety + FAQ engine, from `[dialogue]`), with 1,000+ FAQ entries.
//! Prints p50/p95/max. Run: `cargo bench --bench dialogue_latency` (target: p95 ≤ 20 ms).

#[path = "support/shipped_cases.rs"]
mod shipped_cases;

use std::io::Write;
use std::time::{Duration, Instant};

use hotline::config::DialogueConfig;
use hotline::dialogue::{DialogueRequest, KnowledgeBase, ReplyEvent};
use hotline::lang::Lang;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    // The demo FAQ copied until it has over 1,000 entries, each copy with its own ids.
    let demo = KnowledgeBase::demo().expect("demo FAQ");
    let mut csv = String::from("id,question,answer,lang,alt_questions\n");
    let mut count = 0;
    for copy in 0.. {
        for e in demo.entries() {
            let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
            csv.push_str(&format!(
                "{}_{copy},{},{},{},{}\n",
                e.id,
                q(&format!("{} 型号{copy} model{copy}", e.question)),
                q(&e.answer),
                e.lang,
                q(&e.alt_questions.join("|"))
            ));
            count += 1;
        }
        if count >= 1000 {
            break;
        }
    }
    let mut file = tempfile::Builder::new()
        .suffix(".csv")
        .tempfile()
        .expect("temp file");
    file.write_all(csv.as_bytes()).expect("write FAQ");
    let config = DialogueConfig {
        kb: Some(file.path().to_path_buf()),
        ..DialogueConfig::default()
    };
    let started = Instant::now();
    let engine = hotline::dialogue::load_engine(&config).expect("engine");
    println!(
        "loaded {count} FAQ entries (policy + safety + FAQ engine) in {:?}",
        started.elapsed()
    );

    let queries: Vec<(String, Lang)> = shipped_cases::shipped_questions();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut times = Vec::new();
    runtime.block_on(async {
        for round in 0..5 {
            for (text, lang) in &queries {
                let t = Instant::now();
                let mut replies = engine.respond(DialogueRequest::new(text.clone(), *lang));
                while let Some(event) = replies.next().await {
                    if matches!(event, ReplyEvent::Sentence { .. } | ReplyEvent::Action(_)) {
                        break;
                    }
                }
                if round > 0 {
                    times.push(t.elapsed());
                }
            }
        }
    });
    times.sort();
    println!(
        "transcript → first sentence over {} requests: p50 {:?}  p95 {:?}  max {:?}  (target p95 ≤ 20 ms)",
        times.len(),
        percentile(&times, 0.50),
        percentile(&times, 0.95),
        times[times.len() - 1]
    );
}
