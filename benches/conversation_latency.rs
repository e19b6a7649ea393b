//! End-to-end conversation latency and concurrency: the engine's server runs in-process on a
//! free port, and scripted callers talk to it over the real `/media` WebSocket (Twilio Media
//! Streams: μ-law 8 kHz, 20 ms messages) in real time.
//!
//! Each caller waits out the greeting, then asks the fixture questions (tests/fixtures/speech,
//! telephone-band versions) with pauses between turns. Every third turn it interrupts the
//! answer with the next question; every other third it says a backchannel ("嗯" / "mm-hmm",
//! spoken by the engine's own voice) while the bot talks. Throughout, the bot's audio comes
//! back into what the caller sends at -20 dB with 40 ms delay (a speakerphone echo).
//!
//! Measured on the caller's side of the socket:
//! - voice-to-voice: the question's true speech end (last sample above 1/20 of the clip's peak,
//!   found once per clip) as it was sent → the first audible bot frame received;
//! - barge-in reaction: the interruption's speech onset as sent → the bot's audio stops (the
//!   first silent frame of a silence that lasts, or a `clear`, whichever is first);
//! - false barge-ins: the bot stopped (a `clear`) when the caller only said a backchannel or
//!   said nothing (echo); missed barge-ins: the bot talked on for 2 s over a real question.
//!
//! Cost: the process's CPU time (user + system, engine and callers together; the callers'
//! share is small: μ-law and WebSocket framing) over each level, divided by the answers given:
//! CPU seconds per answered turn.
//!
//! Soak (`HOTLINE_BENCH_SOAK_MINUTES=60`): see `support/soak.rs`; overload
//! (`HOTLINE_BENCH_OVERLOAD=1`, twice the capacity offered): see `support/overload.rs`; the
//! sweep is skipped for either.
//!
//! External target (a peer such as Pipecat, or `hotline serve` run as its own process; see
//! `benches/peers/pipecat/`): `HOTLINE_BENCH_TARGET=ws://HOST:PORT/media` calls that server
//! instead of starting the engine in-process (only the voices are loaded here, to speak the
//! backchannels). With `HOTLINE_BENCH_TARGET_PID=PID` the CPU per answered turn is that
//! process's: utime + stime from `/proc/PID/stat` (the kernel sums them over all its threads,
//! live and exited) plus cutime + cstime (its children that it has waited for), taken before
//! and after each level; without it the CPU columns print `-`. The server's `/metrics` columns
//! print `-` for an external target (a peer has none); soak and overload need the in-process
//! engine and are refused. The bench's callers are then not part of the figure at all.
//!
//! Run: `cargo bench --bench conversation_latency`. Environment:
//! - `HOTLINE_BENCH_VERBOSE=1`: print every measurement's timestamps since the call started;
//! - `HOTLINE_BENCH_QUICK=1`: one caller, 3 turns, no sweep;
//! - `HOTLINE_BENCH_TURNS` (default 6) turns per call, raised at low levels so that each level
//!   has at least `HOTLINE_BENCH_MIN_INTERRUPTIONS` (default 10) interruptions and as many
//!   backchannels (a p95 over two interruptions is only their maximum);
//! - `HOTLINE_BENCH_WARM` (default 1): warm the engine as `hotline serve` does before the
//!   first call (0: the first call meets a just-loaded engine); the first answer of the first
//!   level is printed beside the later ones (warm start: within 1.2× of them);
//! - `HOTLINE_BENCH_LEVELS` (default `1,2,4,8,12,16`) concurrent callers tried in order; the
//!   sweep stops at the first level whose voice-to-voice p95 exceeds
//!   `HOTLINE_BENCH_P95_LIMIT_MS` (default 1500);
//! - `HOTLINE_BENCH_CALLER_LANGS` (default `zh,en`): the callers' languages, caller i speaking
//!   the (i mod n)-th, e.g. `en` for English callers only (a peer set up for English); `zh` and
//!   `en` have question clips;
//! - `HOTLINE_BENCH_TARGET`, `HOTLINE_BENCH_TARGET_PID`: an external server, see above;
//! - `HOTLINE_BENCH_ECHO=0`: no echo of the bot's audio in what the callers send (default on:
//!   -20 dB, 40 ms), e.g. to tell a peer's lack of echo handling from its pipeline's speed.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::{SinkExt, StreamExt};
use hotline::config::Config;
use hotline::engine::Engine;
use hotline::lang::Lang;
use hotline::tts::VoiceSet;
use tokio_tungstenite::tungstenite::Message;

#[path = "support/overload.rs"]
mod overload;
#[path = "support/soak.rs"]
mod soak;

/// Samples per 20 ms at 8 kHz.
const CHUNK: usize = 160;
/// Received bot audio at or above this level is speech (the engine sends digital silence).
const AUDIBLE_DBFS: f32 = -45.0;
/// Echo: bot audio returned at -20 dB ...
const ECHO_GAIN: f32 = 0.1;
/// ... 40 ms later (320 samples at 8 kHz).
const ECHO_DELAY_SAMPLES: usize = 320;
/// Bot silence after which its answer is over.
const IDLE_AFTER: Duration = Duration::from_millis(800);
/// Silence that means playback stopped (longer than the gaps between words and sentences).
const STOPPED_AFTER: Duration = Duration::from_millis(1000);
/// A barge-in not reacted to within this is missed.
const MISSED_AFTER: Duration = Duration::from_millis(2000);

fn main() {
    let quick = std::env::var("HOTLINE_BENCH_QUICK").is_ok_and(|v| v != "0" && !v.is_empty());
    let turns = env_number("HOTLINE_BENCH_TURNS", if quick { 3 } else { 6 });
    let min_interruptions = env_number(
        "HOTLINE_BENCH_MIN_INTERRUPTIONS",
        if quick { 0 } else { 10 },
    );
    let limit_ms = env_number("HOTLINE_BENCH_P95_LIMIT_MS", 1500) as u64;
    let levels: Vec<usize> = if quick {
        vec![1]
    } else {
        std::env::var("HOTLINE_BENCH_LEVELS")
            .unwrap_or_else(|_| "1,2,4,8,12,16".to_string())
            .split(',')
            .filter_map(|n| n.trim().parse().ok())
            .collect()
    };
    let target = match Target::from_env() {
        Ok(target) => target,
        Err(error) => return eprintln!("conversation_latency: {error}"),
    };
    let command = command_line(quick);
    // RUST_LOG=hotline::event=debug prints every call event (off by default).
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .try_init();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    // The scripted callers run on a runtime of their own, so their CPU (μ-law, WebSocket
    // framing, the echo they play back) can be told from the server's (`CALLER_THREAD`).
    let callers_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(CALLER_THREAD)
        .enable_all()
        .build()
        .expect("callers' tokio runtime");
    let callers_handle = callers_runtime.handle().clone();
    let external = target.url.is_some();
    let target_pid = target.pid;
    // `set` fails only if already set, which nothing else does.
    let _ = TARGET.set(target);
    runtime.block_on(async move {
        let mut config = match Config::load(None) {
            Ok(config) => config,
            Err(error) => return eprintln!("conversation_latency: {error}"),
        };
        let overload_capacity = std::env::var_os("HOTLINE_BENCH_OVERLOAD")
            .map(|_| env_number("HOTLINE_BENCH_OVERLOAD_CALLS", config.server.max_calls));
        let soak_minutes = std::env::var("HOTLINE_BENCH_SOAK_MINUTES")
            .ok()
            .and_then(|m| m.trim().parse::<u64>().ok());
        let (port, clips) = if external {
            if soak_minutes.is_some() || overload_capacity.is_some() {
                return eprintln!(
                    "conversation_latency: soak and overload need the in-process engine; unset HOTLINE_BENCH_TARGET"
                );
            }
            // Only the voices (for the backchannels): the server under test is elsewhere.
            let voices = match hotline::engine::model_store(&config)
                .and_then(|store| hotline::engine::load_voices(&config, &store))
            {
                Ok(voices) => voices,
                Err(error) => {
                    return eprintln!(
                        "conversation_latency: cannot load the voices ({error}); run `make models models-test-data`"
                    );
                }
            };
            match Clips::load(&voices) {
                Ok(clips) => (0, Arc::new(clips)),
                Err(error) => return eprintln!("conversation_latency: {error}"),
            }
        } else {
            // The sweep measures how many calls the machine can take, so no admission limit
            // (`[server] max_calls`) may refuse its callers first.
            let most_callers = levels.iter().copied().max().unwrap_or(1);
            config.server.max_calls = match overload_capacity {
                Some(capacity) => capacity,
                None => config.server.max_calls.max(most_callers),
            };
            let engine = match Engine::load(config) {
                Ok(engine) => Arc::new(engine),
                Err(error) => {
                    return eprintln!(
                        "conversation_latency: cannot load the engine ({error}); run `make models models-test-data`"
                    );
                }
            };
            let clips = match Clips::load(&engine.voices) {
                Ok(clips) => Arc::new(clips),
                Err(error) => return eprintln!("conversation_latency: {error}"),
            };
            if std::env::var("HOTLINE_BENCH_WARM").map_or(true, |v| v != "0") {
                let warming = Arc::clone(&engine);
                let report = tokio::task::spawn_blocking(move || {
                    hotline::engine_warm_up::warm_up(&warming)
                })
                .await
                .expect("warm-up task");
                println!("conversation_latency: warmed up in {} ms ({report:?})", report.total_ms);
            } else {
                println!("conversation_latency: not warmed up (HOTLINE_BENCH_WARM=0)");
            }
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind a free port");
            let port = listener.local_addr().expect("local address").port();
            let router = hotline::web::engine_router(Arc::clone(&engine));
            tokio::spawn(async move { axum::serve(listener, router).await });
            (port, clips)
        };

        if let Some(minutes) = soak_minutes {
            let callers = env_number("HOTLINE_BENCH_SOAK_CALLERS", 8);
            return soak::soak(port, clips, minutes, callers, turns).await;
        }
        if let Some(capacity) = overload_capacity {
            return overload::overload(port, clips, capacity, turns).await;
        }
        println!("conversation_latency: server {}, callers speaking {}, at least {turns} turns per call and {min_interruptions} interruptions per level, levels {levels:?}", target_text(port), caller_langs_text());
        let mut rows = Vec::new();
        let mut best = None;
        for &callers in &levels {
            let started = Instant::now();
            let cpu_before = server_cpu_seconds(external, target_pid);
            let callers_cpu_before = threads_cpu_seconds(CALLER_THREAD);
            let parts_before = CpuParts::read(port, external).await;
            // One turn in SCRIPT.len() is an interruption.
            let turns = turns.max((min_interruptions * SCRIPT.len()).div_ceil(callers.max(1)));
            let first_level = rows.is_empty();
            let level_clips = Arc::clone(&clips);
            let level = callers_handle
                .spawn(async move { run_calls(port, callers, turns, &level_clips).await })
                .await
                .expect("the callers' task");
            let cpu_seconds = server_cpu_seconds(external, target_pid)
                .zip(cpu_before)
                .map(|(after, before)| after - before);
            // With an external target the callers are not in the measured process.
            let callers_cpu = if external {
                0.0
            } else {
                threads_cpu_seconds(CALLER_THREAD) - callers_cpu_before
            };
            let parts = CpuParts::read(port, external)
                .await
                .zip(parts_before)
                .map(|(after, before)| after.since(&before));
            let row = Row::of(
                callers,
                &level,
                started.elapsed(),
                Cpu {
                    process: cpu_seconds,
                    callers: callers_cpu,
                    parts,
                },
            );
            println!("{}", row.line());
            if first_level && callers == 1 && level.voice_to_voice_ms.len() > 1 {
                let first = level.voice_to_voice_ms[0];
                let mut later = level.voice_to_voice_ms[1..].to_vec();
                later.sort_unstable();
                let median = later[later.len() / 2];
                println!(
                    "first answer after start {first} ms, later answers median {median} ms: ratio {:.2} (target ≤ 1.2)",
                    first as f64 / median.max(1) as f64
                );
            }
            let within = row.v2v_p95.is_some_and(|p95| p95 <= limit_ms);
            rows.push(row);
            if within {
                best = Some(callers);
            } else {
                break;
            }
        }
        println!();
        println!("## conversation latency (caller side, real time, over /media)");
        println!();
        println!("command: {command}");
        println!();
        println!("{}", Row::header());
        for row in &rows {
            println!("{}", row.line());
        }
        println!();
        match best {
            Some(n) => println!(
                "largest concurrency with voice-to-voice p95 <= {limit_ms} ms: {n} callers"
            ),
            None => println!("no level kept voice-to-voice p95 <= {limit_ms} ms"),
        }
        if let Some(metrics) = if external {
            None
        } else {
            fetch_metrics(port).await
        } {
            println!();
            println!("server-side /metrics (all levels together):");
            for line in metrics.lines().filter(|l| {
                (l.ends_with("_sum") || l.contains("_sum ") || l.contains("_count "))
                    || l.starts_with("hotline_false_barge_ins_total")
                    || l.starts_with("hotline_barge_ins_total")
                    || l.starts_with("hotline_turns_total")
                    || l.starts_with("hotline_tts_cache_total")
                    || l.starts_with("hotline_asr_")
                    || l.starts_with("hotline_model_")
            }) {
                println!("  {line}");
            }
        }
    });
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn command_line(quick: bool) -> String {
    let mut env = Vec::new();
    if quick {
        env.push("HOTLINE_BENCH_QUICK=1".to_string());
    }
    for name in [
        "HOTLINE_BENCH_TURNS",
        "HOTLINE_BENCH_MIN_INTERRUPTIONS",
        "HOTLINE_BENCH_LEVELS",
        "HOTLINE_BENCH_P95_LIMIT_MS",
        "HOTLINE_BENCH_CALLER_LANGS",
        "HOTLINE_BENCH_TARGET",
        "HOTLINE_BENCH_ECHO",
    ] {
        if let Ok(value) = std::env::var(name) {
            env.push(format!("{name}={value}"));
        }
    }
    env.push("cargo bench --bench conversation_latency".to_string());
    env.join(" ")
}

// ---------------------------------------------------------------------------------------------
// The server under test and the callers' languages

/// Who is called, and in which languages (`HOTLINE_BENCH_TARGET`, `HOTLINE_BENCH_TARGET_PID`,
/// `HOTLINE_BENCH_CALLER_LANGS`).
struct Target {
    /// `ws://HOST:PORT/media` of an external server; None: the in-process engine.
    url: Option<String>,
    /// The external server's process, whose CPU is measured.
    pid: Option<u32>,
    /// Caller i speaks `langs[i % langs.len()]`.
    langs: Vec<Lang>,
}

static TARGET: OnceLock<Target> = OnceLock::new();

impl Target {
    fn from_env() -> Result<Self, String> {
        let url = std::env::var("HOTLINE_BENCH_TARGET")
            .ok()
            .map(|url| url.trim().to_string())
            .filter(|url| !url.is_empty());
        if let Some(url) = &url
            && !(url.starts_with("ws://") || url.starts_with("wss://"))
        {
            return Err(format!(
                "HOTLINE_BENCH_TARGET={url:?} is not a WebSocket URL like ws://127.0.0.1:8766/media"
            ));
        }
        let pid = match std::env::var("HOTLINE_BENCH_TARGET_PID") {
            Ok(pid) if !pid.trim().is_empty() => {
                let pid: u32 = pid
                    .trim()
                    .parse()
                    .map_err(|_| format!("HOTLINE_BENCH_TARGET_PID={pid:?} is not a process id"))?;
                if url.is_none() {
                    return Err(
                        "HOTLINE_BENCH_TARGET_PID needs HOTLINE_BENCH_TARGET (the in-process engine is measured through this process)"
                            .to_string(),
                    );
                }
                if pid_cpu_seconds(pid).is_none() {
                    return Err(format!(
                        "HOTLINE_BENCH_TARGET_PID={pid}: cannot read /proc/{pid}/stat (no such process?)"
                    ));
                }
                Some(pid)
            }
            _ => None,
        };
        let langs = match std::env::var("HOTLINE_BENCH_CALLER_LANGS") {
            Ok(list) if !list.trim().is_empty() => list
                .split(',')
                .map(|code| match code.trim().parse::<Lang>() {
                    Ok(lang @ (Lang::Zh | Lang::En)) => Ok(lang),
                    Ok(other) => Err(format!(
                        "HOTLINE_BENCH_CALLER_LANGS: no question clips for {other}; use zh and/or en"
                    )),
                    Err(error) => Err(format!("HOTLINE_BENCH_CALLER_LANGS: {error}")),
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => vec![Lang::Zh, Lang::En],
        };
        Ok(Self { url, pid, langs })
    }
}

/// The language caller `caller` speaks.
fn caller_lang(caller: usize) -> Lang {
    let langs = TARGET
        .get()
        .map_or(&[Lang::Zh, Lang::En][..], |t| &t.langs[..]);
    langs
        .get(caller % langs.len().max(1))
        .copied()
        .unwrap_or(Lang::En)
}

fn caller_langs_text() -> String {
    TARGET.get().map_or("zh,en".to_string(), |t| {
        t.langs
            .iter()
            .map(|l| l.code())
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// The `/media` URL the callers dial: the external target, or the in-process server's port.
fn media_url(port: u16) -> String {
    match TARGET.get().and_then(|t| t.url.clone()) {
        Some(url) => url,
        None => format!("ws://127.0.0.1:{port}/media"),
    }
}

fn target_text(port: u16) -> String {
    match TARGET.get() {
        Some(Target {
            url: Some(url),
            pid,
            ..
        }) => match pid {
            Some(pid) => format!("{url} (external, CPU of pid {pid})"),
            None => format!("{url} (external, CPU not measured: no HOTLINE_BENCH_TARGET_PID)"),
        },
        _ => format!("in-process on 127.0.0.1:{port}"),
    }
}

/// CPU seconds used so far by the server under test: this process (in-process engine), the
/// external target's process (`pid`), or None (external target without a pid, or it exited).
fn server_cpu_seconds(external: bool, pid: Option<u32>) -> Option<f64> {
    match (external, pid) {
        (false, _) => Some(process_cpu_seconds()),
        (true, Some(pid)) => pid_cpu_seconds(pid),
        (true, None) => None,
    }
}

/// utime + stime + cutime + cstime of process `pid` (`/proc/PID/stat`; the kernel sums its
/// threads, exited ones included, and its waited-for children), in seconds.
fn pid_cpu_seconds(pid: u32) -> Option<f64> {
    // SAFETY: sysconf has no preconditions.
    let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised name: state is the 3rd field; utime, stime, cutime,
    // cstime the 14th-17th.
    let (_, after_name) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = fields
        .get(11..15)?
        .iter()
        .map(|field| field.parse::<u64>().ok())
        .sum::<Option<u64>>()?;
    Some(ticks as f64 / ticks_per_second)
}

// ---------------------------------------------------------------------------------------------
// Clips

/// A recording the caller plays, at 8 kHz, with where its speech really is.
struct Clip {
    name: String,
    samples: Vec<i16>,
    speech_start: usize,
    speech_end: usize,
}

impl Clip {
    fn from_16k(name: &str, samples_16k: &[i16]) -> Result<Self, String> {
        let samples = hotline_audio::resample::resample_buffer(samples_16k, 16_000, 8_000)
            .map_err(|e| format!("{name}: {e}"))?;
        let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        let threshold = (peak / 20).max(300);
        let loud = |s: &i16| s.unsigned_abs() > threshold;
        let speech_start = samples
            .iter()
            .position(loud)
            .ok_or_else(|| format!("{name}: no speech in the clip"))?;
        let speech_end = samples.iter().rposition(loud).unwrap_or(speech_start) + 1;
        Ok(Self {
            name: name.to_string(),
            samples,
            speech_start,
            speech_end,
        })
    }
}

/// Questions per language and a backchannel per language.
struct Clips {
    zh: Vec<Clip>,
    en: Vec<Clip>,
    backchannel_zh: Clip,
    backchannel_en: Clip,
}

impl Clips {
    fn load(voices: &VoiceSet) -> Result<Self, String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/speech");
        let read = |prefix: &str, count: usize| -> Result<Vec<Clip>, String> {
            (1..=count)
                .map(|i| {
                    let name = format!("{prefix}_{i}_tel.wav");
                    let audio = hotline_audio::wav::read_wav_16k_mono(dir.join(&name))
                        .map_err(|e| format!("{name}: {e}"))?;
                    Clip::from_16k(&name, &audio.samples)
                })
                .collect()
        };
        let speak = |lang: Lang, text: &str| -> Result<Clip, String> {
            let speech = voices
                .voice(lang)
                .synthesize(text)
                .map_err(|e| format!("backchannel {text:?}: {e}"))?;
            Clip::from_16k(text, &speech.samples)
        };
        Ok(Self {
            zh: read("zh", 10)?,
            en: read("en", 6)?,
            backchannel_zh: speak(Lang::Zh, "嗯。")?,
            backchannel_en: speak(Lang::En, "Mm-hmm.")?,
        })
    }

    fn questions(&self, lang: Lang) -> &[Clip] {
        if lang == Lang::En { &self.en } else { &self.zh }
    }

    fn backchannel(&self, lang: Lang) -> &Clip {
        if lang == Lang::En {
            &self.backchannel_en
        } else {
            &self.backchannel_zh
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The caller's line: a paced sender with echo, a receiver that timestamps bot audio

/// A clip being played, with the moments its speech started and ended on the wire.
struct Playing {
    samples: Arc<Clip>,
    position: usize,
    onset: Option<Instant>,
    end: Option<Instant>,
}

#[derive(Default)]
struct LineState {
    playing: Option<Playing>,
    /// Onset and end of the last finished clip.
    finished: Option<(Instant, Instant)>,
    /// Every bot frame received: arrival and whether it was audible.
    bot_frames: Vec<(Instant, bool)>,
    clears: Vec<Instant>,
    /// The echo path: bot samples waiting to come back.
    echo: VecDeque<i16>,
    closed: bool,
}

type Line = Arc<Mutex<LineState>>;

fn lock(line: &Line) -> std::sync::MutexGuard<'_, LineState> {
    match line.lock() {
        Ok(state) => state,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn media_message(codes: &[u8]) -> String {
    format!(
        r#"{{"event":"media","streamSid":"MZbench","media":{{"track":"inbound","payload":"{}"}}}}"#,
        BASE64.encode(codes)
    )
}

/// [`ECHO_GAIN`], or 0 with `HOTLINE_BENCH_ECHO=0`.
fn echo_gain() -> f32 {
    static GAIN: OnceLock<f32> = OnceLock::new();
    *GAIN.get_or_init(|| {
        if std::env::var("HOTLINE_BENCH_ECHO").is_ok_and(|v| v.trim() == "0") {
            0.0
        } else {
            ECHO_GAIN
        }
    })
}

/// One frame of what the caller sends now: the clip being played plus the echo.
fn next_frame(line: &Line, now: Instant) -> [u8; CHUNK] {
    let mut samples = [0i16; CHUNK];
    let mut state = lock(line);
    let mut finished = None;
    if let Some(playing) = state.playing.as_mut() {
        let from = playing.position;
        let to = (from + CHUNK).min(playing.samples.samples.len());
        samples[..to - from].copy_from_slice(&playing.samples.samples[from..to]);
        let at = |index: usize| now + Duration::from_micros((index - from) as u64 * 125);
        let clip = &playing.samples;
        if (from..to).contains(&clip.speech_start) {
            playing.onset = Some(at(clip.speech_start));
        }
        if (from..to + 1).contains(&clip.speech_end) {
            playing.end = Some(at(clip.speech_end.min(to)));
        }
        playing.position = to;
        if to == clip.samples.len() {
            finished = Some((playing.onset.unwrap_or(now), playing.end.unwrap_or(now)));
        }
    }
    if finished.is_some() {
        state.playing = None;
        state.finished = finished;
    }
    // Keep the echo path at its delay even if frames arrive unevenly.
    while state.echo.len() > ECHO_DELAY_SAMPLES + 3 * CHUNK {
        state.echo.pop_front();
    }
    for sample in samples.iter_mut() {
        let echo = state.echo.pop_front().unwrap_or(0);
        *sample = sample.saturating_add((f32::from(echo) * echo_gain()) as i16);
    }
    drop(state);
    let mut codes = [0u8; CHUNK];
    hotline_audio::g711::mulaw_encode_slice(&samples, &mut codes);
    codes
}

/// Handles one message from the server.
fn receive(line: &Line, text: &str) {
    let Ok(message) = serde_json::from_str::<serde_json::Value>(text) else {
        return;
    };
    let now = Instant::now();
    match message["event"].as_str() {
        Some("media") => {
            let Some(codes) = message["media"]["payload"]
                .as_str()
                .and_then(|p| BASE64.decode(p).ok())
            else {
                return;
            };
            let mut samples = vec![0i16; codes.len()];
            hotline_audio::g711::mulaw_decode_slice(&codes, &mut samples);
            let audible = hotline_audio::level::dbfs(&samples) >= AUDIBLE_DBFS;
            let mut state = lock(line);
            state.bot_frames.push((now, audible));
            if state.echo.is_empty() {
                state
                    .echo
                    .extend(std::iter::repeat_n(0, ECHO_DELAY_SAMPLES));
            }
            state.echo.extend(samples);
        }
        Some("clear") => lock(line).clears.push(now),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// One scripted call

/// What one or more calls measured.
#[derive(Default)]
struct Tally {
    voice_to_voice_ms: Vec<u64>,
    barge_in_reaction_ms: Vec<u64>,
    interruptions: u32,
    missed_barge_ins: u32,
    backchannels: u32,
    false_on_backchannel: u32,
    false_on_echo: u32,
    no_answer: u32,
    failed_calls: u32,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.voice_to_voice_ms.extend(other.voice_to_voice_ms);
        self.barge_in_reaction_ms.extend(other.barge_in_reaction_ms);
        self.interruptions += other.interruptions;
        self.missed_barge_ins += other.missed_barge_ins;
        self.backchannels += other.backchannels;
        self.false_on_backchannel += other.false_on_backchannel;
        self.false_on_echo += other.false_on_echo;
        self.no_answer += other.no_answer;
        self.failed_calls += other.failed_calls;
    }
}

#[derive(Clone, Copy)]
enum TurnKind {
    /// Ask, listen to the whole answer (only the echo goes back).
    Plain,
    /// Ask, say a backchannel 1.5 s into the answer.
    Backchannel,
    /// Ask, interrupt 1.2 s into the answer with the next question.
    Interrupt,
}

const SCRIPT: [TurnKind; 3] = [TurnKind::Plain, TurnKind::Interrupt, TurnKind::Backchannel];

/// `callers` callers at once, each one call of `turns` turns: their tallies together, calls
/// that failed counted.
async fn run_calls(port: u16, callers: usize, turns: usize, clips: &Arc<Clips>) -> Tally {
    let calls = (0..callers)
        .map(|caller| tokio::spawn(run_call(port, caller, turns, Arc::clone(clips))))
        .collect::<Vec<_>>();
    let mut all = Tally::default();
    for call in calls {
        match call.await {
            Ok(Ok(tally)) => all.add(tally),
            Ok(Err(error)) => {
                eprintln!("call failed: {error}");
                all.failed_calls += 1;
            }
            Err(error) => {
                eprintln!("call task failed: {error}");
                all.failed_calls += 1;
            }
        }
    }
    all
}

async fn run_call(
    port: u16,
    caller: usize,
    turns: usize,
    clips: Arc<Clips>,
) -> Result<Tally, String> {
    let lang = caller_lang(caller);
    let (socket, _) = tokio_tungstenite::connect_async(media_url(port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (mut sink, mut stream) = socket.split();
    let start = format!(
        r#"{{"event":"start","sequenceNumber":"1","start":{{"accountSid":"ACbench","streamSid":"MZbench{caller}","callSid":"CAbench{caller}","tracks":["inbound"],"mediaFormat":{{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"customParameters":{{"lang":"{lang}"}}}},"streamSid":"MZbench{caller}"}}"#
    );
    for text in [
        r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#.to_string(),
        start,
    ] {
        sink.send(Message::text(text))
            .await
            .map_err(|e| format!("send: {e}"))?;
    }
    let line: Line = Arc::default();
    let call_start = Instant::now();
    let sender = {
        let line = Arc::clone(&line);
        tokio::spawn(async move {
            let mut clock = tokio::time::interval(Duration::from_millis(20));
            loop {
                clock.tick().await;
                if lock(&line).closed {
                    let _ = sink
                        .send(Message::text(r#"{"event":"stop","stop":{}}"#))
                        .await;
                    let _ = sink.close().await;
                    return;
                }
                let codes = next_frame(&line, Instant::now());
                if sink
                    .send(Message::text(media_message(&codes)))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        })
    };
    let receiver = {
        let line = Arc::clone(&line);
        tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                if let Message::Text(text) = message {
                    receive(&line, text.as_str());
                }
            }
        })
    };

    let mut tally = Tally::default();
    let script = Script {
        line: Arc::clone(&line),
    };
    // The greeting: wait for it to start and finish.
    if script
        .first_audible_after(call_start, Duration::from_secs(30))
        .await
        .is_none()
    {
        return Err(format!("caller {caller}: no greeting within 30 s"));
    }
    script.wait_idle(Duration::from_secs(30)).await;
    let questions = clips.questions(lang);
    for turn in 0..turns {
        let kind = SCRIPT[turn % SCRIPT.len()];
        let pause = 300 + (turn as u64 * 373 + caller as u64 * 151) % 700;
        tokio::time::sleep(Duration::from_millis(pause)).await;
        let question = &questions[(caller * 3 + turn) % questions.len()];
        let (_, speech_end) = script.play(question).await;
        let clears_before = script.clears();
        let Some(answer) = script
            .first_audible_after(speech_end, Duration::from_secs(15))
            .await
        else {
            eprintln!(
                "caller {caller} turn {turn}: no answer to {}",
                question.name
            );
            tally.no_answer += 1;
            continue;
        };
        tally.voice_to_voice_ms.push(ms(answer - speech_end));
        if verbose() {
            eprintln!(
                "caller {caller} turn {turn}: speech end at {} ms, first answer audio at {} ms",
                ms(speech_end - call_start),
                ms(answer - call_start)
            );
        }
        match kind {
            TurnKind::Plain => {
                script.wait_idle(Duration::from_secs(30)).await;
                if script.clears() > clears_before {
                    tally.false_on_echo += 1;
                }
            }
            TurnKind::Backchannel => {
                sleep_until(answer + Duration::from_millis(1500)).await;
                if !script.bot_talking() {
                    script.wait_idle(Duration::from_secs(30)).await;
                    continue;
                }
                tally.backchannels += 1;
                let clears_before = script.clears();
                script.play(clips.backchannel(lang)).await;
                script.wait_idle(Duration::from_secs(30)).await;
                if script.clears() > clears_before {
                    tally.false_on_backchannel += 1;
                }
            }
            TurnKind::Interrupt => {
                sleep_until(answer + Duration::from_millis(1200)).await;
                if !script.bot_talking() {
                    script.wait_idle(Duration::from_secs(30)).await;
                    continue;
                }
                tally.interruptions += 1;
                let interruption = &questions[(caller * 3 + turn + 1) % questions.len()];
                script.start(interruption);
                let onset = script.onset().await;
                let stopped = script.stopped_after(onset).await;
                let (_, speech_end) = script.wait_played().await;
                match stopped {
                    Some(stopped) => {
                        if verbose() {
                            eprintln!(
                                "caller {caller} turn {turn}: interruption onset at {} ms, bot stopped at {} ms (since the call started)",
                                ms(onset - call_start),
                                ms(stopped - call_start)
                            );
                            eprintln!("  bot audio from onset: {}", script.audibility_since(onset));
                        }
                        tally
                            .barge_in_reaction_ms
                            .push(ms(stopped.saturating_duration_since(onset)));
                        let after = speech_end.max(stopped);
                        match script
                            .first_audible_after(after, Duration::from_secs(15))
                            .await
                        {
                            Some(answer) => tally
                                .voice_to_voice_ms
                                .push(ms(answer - speech_end.min(answer))),
                            None => tally.no_answer += 1,
                        }
                    }
                    None => tally.missed_barge_ins += 1,
                }
                script.wait_idle(Duration::from_secs(30)).await;
            }
        }
    }
    lock(&line).closed = true;
    let _ = sender.await;
    receiver.abort();
    Ok(tally)
}

/// `HOTLINE_BENCH_VERBOSE=1`: print each measurement's timestamps, to line up with the
/// server's call events (`RUST_LOG=hotline::event=debug`).
fn verbose() -> bool {
    std::env::var("HOTLINE_BENCH_VERBOSE").is_ok_and(|v| v != "0" && !v.is_empty())
}

fn ms(duration: Duration) -> u64 {
    duration.as_millis() as u64
}

async fn sleep_until(at: Instant) {
    tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
}

/// Waiting on the line; everything is decided from the recorded timestamps, so the 10 ms
/// polling adds no error to the figures.
struct Script {
    line: Line,
}

const POLL: Duration = Duration::from_millis(10);

impl Script {
    fn clears(&self) -> usize {
        lock(&self.line).clears.len()
    }

    /// Starts playing `clip` (replacing nothing: the caller plays one clip at a time).
    fn start(&self, clip: &Clip) {
        let mut state = lock(&self.line);
        state.finished = None;
        state.playing = Some(Playing {
            samples: Arc::new(Clip {
                name: clip.name.clone(),
                samples: clip.samples.clone(),
                speech_start: clip.speech_start,
                speech_end: clip.speech_end,
            }),
            position: 0,
            onset: None,
            end: None,
        });
    }

    /// Plays `clip` to the end; returns its speech onset and end as sent.
    async fn play(&self, clip: &Clip) -> (Instant, Instant) {
        self.start(clip);
        self.wait_played().await
    }

    async fn wait_played(&self) -> (Instant, Instant) {
        loop {
            if let Some(times) = lock(&self.line).finished {
                return times;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn onset(&self) -> Instant {
        loop {
            {
                let state = lock(&self.line);
                if let Some(onset) = state.playing.as_ref().and_then(|p| p.onset) {
                    return onset;
                }
                if let Some((onset, _)) = state.finished {
                    return onset;
                }
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The first audible bot frame that arrived at or after `after`.
    async fn first_audible_after(&self, after: Instant, timeout: Duration) -> Option<Instant> {
        let deadline = after + timeout;
        loop {
            {
                let state = lock(&self.line);
                let found = state
                    .bot_frames
                    .iter()
                    .rev()
                    .take_while(|(t, _)| *t >= after)
                    .filter(|(_, audible)| *audible)
                    .map(|(t, _)| *t)
                    .last();
                if found.is_some() {
                    return found;
                }
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The bot's frames since `from` as runs: `A12 S40` = 12 audible then 40 silent frames.
    fn audibility_since(&self, from: Instant) -> String {
        let state = lock(&self.line);
        let mut runs: Vec<(bool, usize)> = Vec::new();
        for &(_, audible) in state.bot_frames.iter().filter(|(t, _)| *t >= from) {
            match runs.last_mut() {
                Some((kind, count)) if *kind == audible => *count += 1,
                _ => runs.push((audible, 1)),
            }
        }
        runs.iter()
            .map(|(audible, count)| format!("{}{count}", if *audible { 'A' } else { 'S' }))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Whether the bot's audio was audible in the last 200 ms.
    fn bot_talking(&self) -> bool {
        let since = Instant::now() - Duration::from_millis(200);
        lock(&self.line)
            .bot_frames
            .iter()
            .rev()
            .take_while(|(t, _)| *t >= since)
            .any(|(_, audible)| *audible)
    }

    /// Waits until the bot has been silent for [`IDLE_AFTER`] (or `timeout`).
    async fn wait_idle(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            let last_audible = lock(&self.line)
                .bot_frames
                .iter()
                .rev()
                .find(|(_, audible)| *audible)
                .map(|(t, _)| *t);
            if last_audible.is_none_or(|t| t.elapsed() >= IDLE_AFTER) {
                return;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// When the bot's audio stopped after the caller's onset: the first silent frame of a
    /// silence that lasted [`STOPPED_AFTER`] or ended in a `clear`, or the `clear` itself if
    /// earlier. None if it talked on for [`MISSED_AFTER`].
    async fn stopped_after(&self, onset: Instant) -> Option<Instant> {
        loop {
            {
                let state = lock(&self.line);
                let clear = state.clears.iter().copied().find(|&t| t >= onset);
                let mut silence_start: Option<Instant> = None;
                let mut confirmed = None;
                for &(t, audible) in state.bot_frames.iter().filter(|(t, _)| *t >= onset) {
                    if audible {
                        silence_start = None;
                        continue;
                    }
                    let start = *silence_start.get_or_insert(t);
                    if t - start >= STOPPED_AFTER || clear.is_some_and(|c| c <= t) {
                        confirmed = Some(start);
                        break;
                    }
                }
                // A silence still running when the `clear` came ended in it, even if no frame
                // after the `clear` has arrived yet.
                if confirmed.is_none()
                    && let (Some(start), Some(c)) = (silence_start, clear)
                    && start <= c
                {
                    confirmed = Some(start);
                }
                let stopped = match (confirmed, clear) {
                    (Some(s), Some(c)) => Some(s.min(c)),
                    (s, c) => s.or(c),
                };
                if let Some(stopped) = stopped {
                    return (stopped - onset <= MISSED_AFTER).then_some(stopped);
                }
                let last = state.bot_frames.last().map(|(t, _)| *t);
                if last.is_some_and(|t| t - onset > MISSED_AFTER + STOPPED_AFTER) {
                    return None;
                }
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Report

struct Row {
    callers: usize,
    turns: usize,
    v2v_p50: Option<u64>,
    v2v_p95: Option<u64>,
    reaction_p50: Option<u64>,
    reaction_p95: Option<u64>,
    tally: Tally,
    elapsed: Duration,
    cpu: Cpu,
}

/// CPU seconds a level used: the measured process (this one with the in-process engine, the
/// target's with `HOTLINE_BENCH_TARGET_PID`; None: not measured), the bench's callers' part of
/// it (0 for an external target), and the server's own counters of its main parts (None for
/// an external target).
struct Cpu {
    process: Option<f64>,
    callers: f64,
    parts: Option<CpuParts>,
}

/// Name of the callers' runtime threads.
const CALLER_THREAD: &str = "bench-caller";

/// CPU time (user + system) used so far by this process's threads named `name`, in seconds
/// (`/proc/self/task/*/stat`; 0 where it cannot be read).
fn threads_cpu_seconds(name: &str) -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let mut ticks = 0u64;
    for task in tasks.flatten() {
        let path = task.path();
        let named =
            std::fs::read_to_string(path.join("comm")).is_ok_and(|comm| comm.trim() == name);
        let Ok(stat) = std::fs::read_to_string(path.join("stat")) else {
            continue;
        };
        // Fields after the parenthesised name: state is the 3rd, utime the 14th, stime the 15th.
        let Some((_, after_name)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        if named && fields.len() > 12 {
            ticks +=
                fields[11].parse::<u64>().unwrap_or(0) + fields[12].parse::<u64>().unwrap_or(0);
        }
    }
    ticks as f64 / ticks_per_second
}

/// CPU time (user + system) this process and its finished children (espeak-ng voices) have
/// used so far, in seconds.
fn process_cpu_seconds() -> f64 {
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    [libc::RUSAGE_SELF, libc::RUSAGE_CHILDREN]
        .into_iter()
        .map(|who| {
            // SAFETY: getrusage only writes the struct it is given.
            let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
            if unsafe { libc::getrusage(who, &mut usage) } != 0 {
                return 0.0;
            }
            seconds(usage.ru_utime) + seconds(usage.ru_stime)
        })
        .sum()
}

/// The server's own CPU counters (`/metrics`): Whisper decodes, synthesis, end-of-turn model.
#[derive(Debug, Clone, Copy, Default)]
struct CpuParts {
    whisper: f64,
    tts: f64,
    end_of_turn: f64,
}

impl CpuParts {
    /// The counters now; None for an external target (its `/metrics`, if any, is not ours).
    async fn read(port: u16, external: bool) -> Option<Self> {
        if external {
            return None;
        }
        let text = fetch_metrics(port).await.unwrap_or_default();
        let sum = |prefix: &str| -> f64 {
            text.lines()
                .filter(|line| line.starts_with(prefix))
                .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
                .sum()
        };
        Some(Self {
            whisper: sum("hotline_asr_decode_cpu_seconds_total"),
            // A Piper sentence's work is spread over its threads, espeak-ng's is another
            // process: the time synthesis took stands for its cost.
            tts: sum("hotline_model_busy_seconds_total{model=\"tts\"}"),
            end_of_turn: sum("hotline_model_cpu_seconds_total{model=\"end_of_turn\"}"),
        })
    }

    fn since(&self, before: &CpuParts) -> Self {
        Self {
            whisper: self.whisper - before.whisper,
            tts: self.tts - before.tts,
            end_of_turn: self.end_of_turn - before.end_of_turn,
        }
    }
}

fn percentile(values: &[u64], p: f64) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

fn show(value: Option<u64>) -> String {
    value.map_or("-".to_string(), |v| v.to_string())
}

impl Row {
    fn of(callers: usize, tally: &Tally, elapsed: Duration, cpu: Cpu) -> Self {
        let tally = Tally {
            voice_to_voice_ms: tally.voice_to_voice_ms.clone(),
            barge_in_reaction_ms: tally.barge_in_reaction_ms.clone(),
            ..*tally
        };
        Self {
            callers,
            turns: tally.voice_to_voice_ms.len(),
            v2v_p50: percentile(&tally.voice_to_voice_ms, 50.0),
            v2v_p95: percentile(&tally.voice_to_voice_ms, 95.0),
            reaction_p50: percentile(&tally.barge_in_reaction_ms, 50.0),
            reaction_p95: percentile(&tally.barge_in_reaction_ms, 95.0),
            tally,
            elapsed,
            cpu,
        }
    }

    /// `cpu` seconds per answered turn, printed (`-` without answers or without a figure).
    fn per_answer(&self, cpu: Option<f64>) -> String {
        match cpu {
            Some(cpu) if self.turns > 0 => format!("{:.2}", cpu / self.turns as f64),
            _ => "-".to_string(),
        }
    }

    fn header() -> String {
        "| callers | answers | v2v p50 ms | v2v p95 ms | barge-in p50 ms | barge-in p95 ms | missed / interruptions | false on backchannel / backchannels | false on echo | no answer | failed calls | wall s | CPU s | CPU s per answer | server's (without the bench's callers) | of which Whisper / TTS (busy) / end-of-turn model |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|".to_string()
    }

    fn line(&self) -> String {
        let t = &self.tally;
        format!(
            "| {} | {} | {} | {} | {} | {} | {} / {} | {} / {} | {} | {} | {} | {:.0} | {} | {} | {} | {} / {} / {} |",
            self.callers,
            self.turns,
            show(self.v2v_p50),
            show(self.v2v_p95),
            show(self.reaction_p50),
            show(self.reaction_p95),
            t.missed_barge_ins,
            t.interruptions,
            t.false_on_backchannel,
            t.backchannels,
            t.false_on_echo,
            t.no_answer,
            t.failed_calls,
            self.elapsed.as_secs_f64(),
            self.cpu
                .process
                .map_or("-".to_string(), |cpu| format!("{cpu:.1}")),
            self.per_answer(self.cpu.process),
            self.per_answer(self.cpu.process.map(|cpu| cpu - self.cpu.callers)),
            self.per_answer(self.cpu.parts.map(|p| p.whisper)),
            self.per_answer(self.cpu.parts.map(|p| p.tts)),
            self.per_answer(self.cpu.parts.map(|p| p.end_of_turn)),
        )
    }
}

async fn fetch_metrics(port: u16) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .await
        .ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.ok()?;
    Some(reply.split_once("\r\n\r\n")?.1.to_string())
}
