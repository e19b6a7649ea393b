//! The call store at the size a busy hotline reaches: fills a store with synthetic calls (four
//! turns each, Mandarin / Cantonese / English phrases), then times what the review UI and the
//! API ask of it, and what recording costs a call.
//!
//! Prints: fill rate (turns/s, as the writer thread stores them: one transaction per turn);
//! search p50/p95 for phrases of three or more characters (FTS5 trigram) and for one- and
//! two-character queries (the `call_grams` index; beside it, the same queries the way they ran
//! before it, through `LIKE` over the whole text), 50 newest matches; the call list p50/p95 (first page and a
//! deep page); the KPI page's read of the calls (30 days, everything, first-contact repeats
//! included); recording CPU per call as a share of one core (8 calls of 20 s fed through the
//! driver's tap in real time, WAV flushed every 500 ms).
//!
//! Run: `cargo bench --bench call_store` (`HOTLINE_BENCH_CALLS=N` for another size; default
//! 100000). Targets (issue 12): search p95 ≤ 100 ms, call list ≤ 200 ms, recording ≤ 1% of a
//! core per call.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline::call::{CallRecorder, Millis};
use hotline::store::{
    CallEnding, CallOutcome, CallQuery, CallStore, Clock, NewCall, NewTurn, PersonalData,
    RecordingConfig, Recordings, SearchText, SqliteCallStore, StoreConfig, StoreMetrics,
    StoreWriter, StoreWriterParts, SystemClock, TurnEntry, TurnTimings,
};
use hotline_audio::{FRAME_SAMPLES, Frame};

const PHRASES: &[&str] = &[
    "你们每天几点开门，几点关门？",
    "你们的门店地址在哪里？",
    "下单以后多久可以发货？",
    "买多少钱可以包邮？",
    "收到的商品不满意可以退货吗？",
    "退款一般多久能到账？",
    "你们支持微信支付和支付宝吗？",
    "产品坏了有没有保修服务？",
    "我想查一下我的订单到哪里了。",
    "可以帮我开一张发票吗？",
    "我想轉人工，唔該。",
    "點樣先可以退貨？幾耐先退到錢？",
    "你哋間舖喺邊度？",
    "How long does delivery take to Kowloon?",
    "Can I pay with an Octopus card?",
    "I want to speak to a real person please.",
    "What is your return policy for damaged items?",
];

const ANSWERS: &[&str] = &[
    "我们每天上午十点到晚上九点营业。",
    "门店在旺角弥敦道一百号。",
    "一般四十八小时内发货。",
    "满三百元包邮。",
    "七天内可以无理由退货。",
    "退款三到五个工作日到账。",
    "Delivery takes two to three working days.",
    "Yes, we accept Octopus, Visa and Mastercard.",
];

fn percentile(mut values: Vec<f64>, p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn fill(store: &SqliteCallStore, calls: usize) -> (Duration, usize) {
    let search = store.search_text().clone();
    let started = Instant::now();
    let mut turns = 0;
    let base = 1_700_000_000_000i64;
    for n in 0..calls {
        let started_at = base + n as i64 * 60_000;
        let id = store
            .open_call(&NewCall {
                leg_id: format!("bench-{n}"),
                channel: ["sip", "media_stream", "browser"][n % 3].to_string(),
                // One call in five is a caller calling again 1000 minutes later.
                caller: Some(format!(
                    "hash:{:016x}",
                    (if n % 5 == 4 && n >= 1000 { n - 1000 } else { n }) * 7919
                )),
                caller_unredacted: None,
                started_at,
            })
            .expect("open call");
        for t in 0..4 {
            // A per-call order number makes every call's text a little different.
            let said = format!(
                "{} 订单{}",
                PHRASES[(n * 7 + t * 3) % PHRASES.len()],
                n * 10 + t
            );
            let heard = ANSWERS[(n + t) % ANSWERS.len()];
            store
                .add_turn(
                    id,
                    &NewTurn {
                        entry: TurnEntry {
                            index: t as u32 + 1,
                            lang: "zh".into(),
                            caller_text: said.clone(),
                            bot_text: heard.into(),
                            bot_text_heard: heard.into(),
                            faq_id: Some(format!("faq-{}", (n + t) % 20)),
                            faq_confidence: Some(0.9),
                            outcome: "answered".into(),
                            timings: TurnTimings::default(),
                        },
                        unredacted: None,
                        search_text: search.fold(&format!("{said}\n{heard}")),
                    },
                )
                .expect("add turn");
            turns += 1;
        }
        store
            .close_call(
                id,
                &CallEnding {
                    ended_at: started_at + 45_000,
                    outcome: CallOutcome::AnsweredByBot,
                    ended_by: Some("caller_hung_up".into()),
                    transfer_reason: None,
                    languages: vec!["zh".into()],
                    barge_ins: 0,
                    csat: None,
                    sentiment: None,
                },
            )
            .expect("close call");
    }
    (started.elapsed(), turns)
}

fn time_queries(
    store: &SqliteCallStore,
    queries: &[CallQuery],
    rounds: usize,
) -> (f64, f64, usize) {
    let mut times = Vec::new();
    let mut found = 0;
    for _ in 0..rounds {
        for query in queries {
            let started = Instant::now();
            let calls = store.list_calls(query).expect("list");
            times.push(ms(started.elapsed()));
            found += calls.len();
        }
    }
    (
        percentile(times.clone(), 0.5),
        percentile(times, 0.95),
        found / (rounds * queries.len()),
    )
}

/// The short queries as the store ran them before the `call_grams` index: `LIKE` over every
/// call's text, newest 50 (the same SQL, on a connection of its own).
fn time_like(
    database: &Path,
    store: &SqliteCallStore,
    queries: &[CallQuery],
    rounds: usize,
) -> (f64, f64, usize) {
    let connection = rusqlite::Connection::open(database).expect("open");
    let mut statement = connection
        .prepare(
            "SELECT id FROM calls WHERE id < ?1 AND id IN \
             (SELECT rowid FROM call_text WHERE body LIKE ?2 ESCAPE '\\') \
             ORDER BY started_at DESC, id DESC LIMIT 50",
        )
        .expect("prepare");
    let mut times = Vec::new();
    let mut found = 0;
    for _ in 0..rounds {
        for query in queries {
            let text = store
                .search_text()
                .fold(query.text.as_deref().unwrap_or(""));
            let like = format!("%{}%", text.trim());
            let started = Instant::now();
            let ids: Vec<i64> = statement
                .query_map(rusqlite::params![i64::MAX, like], |row| row.get(0))
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("rows");
            times.push(ms(started.elapsed()));
            found += ids.len();
        }
    }
    (
        percentile(times.clone(), 0.5),
        percentile(times, 0.95),
        found / (rounds * queries.len()),
    )
}

fn text_query(text: &str) -> CallQuery {
    CallQuery {
        text: Some(text.to_string()),
        before_id: None,
        limit: 50,
        filter: Default::default(),
    }
}

/// CPU seconds this process has used (all threads).
fn process_cpu() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

fn recording_cost(dir: &Path, store: Arc<SqliteCallStore>) -> (f64, u64) {
    const CALLS: usize = 8;
    const CALL_SECONDS: u64 = 20;
    let metrics = Arc::new(StoreMetrics::default());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (writer, _thread) = StoreWriter::spawn(StoreWriterParts {
        store: store as Arc<dyn CallStore>,
        rules: PersonalData::new(&StoreConfig::default(), b"bench".to_vec()),
        search: SearchText::shared(),
        clock: Arc::clone(&clock),
        metrics: Arc::clone(&metrics),
        queue: 4096,
    })
    .expect("writer");
    let recordings = Recordings::new(
        RecordingConfig {
            dir: dir.join("recordings"),
            queue_frames: 4000,
            ..RecordingConfig::default()
        },
        writer,
        Arc::clone(&metrics),
        clock,
    );
    let voice = Frame::from_array(std::array::from_fn(|i| {
        ((i as f32 * 0.3).sin() * 8000.0) as i16
    }));
    let cpu_before = process_cpu();
    let mut taps: Vec<_> = (0..CALLS)
        .map(|n| {
            recordings
                .start(&Arc::from(format!("rec-{n}")))
                .expect("tap")
        })
        .collect();
    let frames = CALL_SECONDS * 50;
    // Paced like a driver: one frame each way per call every 20 ms (an absolute schedule), so
    // the writers wake as often as in a real call.
    let started = Instant::now();
    for frame in 0..frames {
        for tap in &mut taps {
            tap.caller_frame(&voice);
            tap.bot_frame(Millis((frame + 1) * 20), &voice);
        }
        let next = started + Duration::from_millis((frame + 1) * 20);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    for tap in taps {
        tap.finish();
    }
    // Done when every file holds the whole call.
    let expected = frames * FRAME_SAMPLES as u64 * 4;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = walk(&dir.join("recordings"))
            .iter()
            .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() >= expected + 44))
            .count();
        if done == CALLS || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let cpu = process_cpu() - cpu_before;
    let share = cpu / (CALLS as f64 * CALL_SECONDS as f64) * 100.0;
    (
        share,
        metrics
            .recording_frames_dropped
            .load(std::sync::atomic::Ordering::Relaxed),
    )
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                files.extend(walk(&path));
            } else {
                files.push(path);
            }
        }
    }
    files
}

fn main() {
    let calls: usize = std::env::var("HOTLINE_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(SqliteCallStore::open(&dir.path().join("calls.sqlite")).expect("store"));
    let (took, turns) = fill(&store, calls);
    println!(
        "fill: {calls} calls, {turns} turns in {:.1} s ({:.0} turns/s, one transaction per turn)",
        took.as_secs_f64(),
        turns as f64 / took.as_secs_f64()
    );
    let size = std::fs::metadata(store.path()).map_or(0, |m| m.len());
    println!("database: {:.0} MiB", size as f64 / 1048576.0);

    let trigram: Vec<CallQuery> = [
        "门店地址",
        "門店地址",
        "退款一般多久",
        "幾耐先退到錢",
        "微信支付",
        "octopus card",
        "real person",
        "保修服务",
        "订单12345",
        "订单99999",
        "开一张发票",
        "不存在的句子",
    ]
    .iter()
    .map(|q| text_query(q))
    .collect();
    let (p50, p95, hits) = time_queries(&store, &trigram, 10);
    println!(
        "search, 3+ characters (FTS5 trigram): p50 {p50:.1} ms, p95 {p95:.1} ms ({hits} calls per answer on average, limit 50)"
    );
    let like: Vec<CallQuery> = ["退款", "門店", "包", "嗎", "ok", "舖"]
        .iter()
        .map(|q| text_query(q))
        .collect();
    let (p50, p95, hits) = time_queries(&store, &like, 5);
    println!(
        "search, 1-2 characters (call_grams): p50 {p50:.1} ms, p95 {p95:.1} ms ({hits} calls per answer)"
    );
    let (p50, p95, hits) = time_like(store.path(), &store, &like, 5);
    println!(
        "search, 1-2 characters through LIKE (as before call_grams): p50 {p50:.1} ms, p95 {p95:.1} ms ({hits} calls per answer)"
    );
    let first_page = vec![CallQuery {
        text: None,
        before_id: None,
        limit: 50,
        filter: Default::default(),
    }];
    let (p50, p95, _) = time_queries(&store, &first_page, 50);
    println!("call list, newest 50: p50 {p50:.2} ms, p95 {p95:.2} ms");
    let deep = vec![CallQuery {
        text: None,
        before_id: Some(calls as i64 / 2),
        limit: 200,
        filter: Default::default(),
    }];
    let (p50, p95, _) = time_queries(&store, &deep, 50);
    println!("call list, 200 from the middle: p50 {p50:.2} ms, p95 {p95:.2} ms");

    let end = 1_700_000_000_000i64 + calls as i64 * 60_000;
    for days in [30i64, 3650] {
        let mut times = Vec::new();
        let mut resolution = (0, 0, 0);
        for _ in 0..5 {
            let started = Instant::now();
            let kpi = store
                .kpi_calls(end - days * 86_400_000, end, end + 8 * 86_400_000)
                .expect("kpi calls");
            times.push(ms(started.elapsed()));
            let known = kpi.iter().filter(|c| c.repeat_contact.is_some()).count();
            let repeats = kpi
                .iter()
                .filter(|c| c.repeat_contact == Some(true))
                .count();
            resolution = (kpi.len(), known, repeats);
        }
        let (n, known, repeats) = resolution;
        println!(
            "KPI calls, last {days} days ({n} calls, repeats of {known} known: {repeats}): p50 {:.0} ms, p95 {:.0} ms",
            percentile(times.clone(), 0.5),
            percentile(times, 0.95)
        );
    }

    let (share, dropped) = recording_cost(dir.path(), Arc::clone(&store));
    println!(
        "recording: {share:.3}% of one core per call (8 calls × 20 s in real time, stereo 16 kHz WAV flushed every 500 ms, the driver's tap included; {dropped} frames dropped)"
    );
}
