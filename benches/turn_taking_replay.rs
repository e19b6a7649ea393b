//! Turn-taking on recorded turns: cut-offs, waits and Whisper work, per turn-taking setting.
//!
//! The real [`Session`] runs on simulated call time (it is sans-IO) with the real Silero VAD,
//! Whisper and acoustic end-of-turn model: each clip is played after the greeting, frame by
//! frame, then 3 s of silence; every decode and model run is done for real when the session
//! asks, and its result is handed back after the time it really took (so a slow decode delays
//! the end of turn as it would on a call; CPU is counted per thread, so other work on the
//! machine slows the replay but does not inflate the CPU figures). Clips: `tests/fixtures/turns` (turns with pauses
//! inside: every pause should be waited out) and `tests/fixtures/speech` (single questions).
//!
//! Per setting it prints: turns cut (the session asked the dialogue engine before the caller
//! had finished), the wait from the end of the caller's speech to the question being asked
//! (p50 / p95), Whisper decodes per turn and CPU milliseconds per turn spent in decodes and
//! model runs. Settings: `before` (Whisper partials every 300 ms, words alone: the behaviour
//! before partials became captions-only), `words` (no partials, words alone), `words+sound`
//! (no partials, the Smart Turn model's verdict joins the words: today's default for phone
//! calls). Partials (the `before` setting) are decoded like finals here (greedy, the final's
//! audio context), so `before` shows their count and about their cost, not their exact cost.
//!
//! Run: `cargo bench --bench turn_taking_replay` (needs `make models`). `HOTLINE_BENCH_CLIPS=N`
//! plays only the first N clips of each folder; `HOTLINE_BENCH_SETTINGS=words,words+sound`
//! runs only those settings; `HOTLINE_CALL__TURN__ACOUSTIC__*` changes the acoustic settings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use hotline::asr::{AsrLanguage, thread_cpu_time};
use hotline::call::{
    CallEvent, Millis, PartialPolicy, Session, SessionConfig, SessionInput, SessionOutput,
};
use hotline::config::Config;
use hotline::engine::Engine;
use hotline::lang::Lang;
use hotline_audio::vad::SileroVad;
use hotline_audio::{FRAME_MS, Frame, split_into_frames};

const TAIL_SILENCE_MS: u64 = 3_000;

/// One recorded turn.
struct Clip {
    name: String,
    lang: Lang,
    samples: Vec<i16>,
    /// Where the last speech ends in the clip (ms), found once from the level.
    speech_end_ms: u64,
    /// The clip has pauses inside the turn.
    paused: bool,
}

/// What one clip's replay showed.
#[derive(Default)]
struct Outcome {
    cut: bool,
    /// End of the caller's speech → the (last) question asked.
    wait_ms: Option<u64>,
    decodes: u32,
    cpu_ms: f64,
}

fn main() {
    let limit = std::env::var("HOTLINE_BENCH_CLIPS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok());
    let config = match Config::load(None) {
        Ok(config) => config,
        Err(error) => return eprintln!("turn_taking_replay: {error}"),
    };
    let engine = match Engine::load(config) {
        Ok(engine) => engine,
        Err(error) => {
            return eprintln!(
                "turn_taking_replay: cannot load the engine ({error}); run `make models`"
            );
        }
    };
    if engine.end_of_turn.is_none() {
        eprintln!(
            "turn_taking_replay: the end-of-turn model is not loaded: `words+sound` equals `words`"
        );
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut clips = load_clips(&root.join("turns"), true, limit);
    clips.extend(load_clips(&root.join("speech"), false, limit));
    println!(
        "turn_taking_replay: {} clips ({} with pauses inside the turn)",
        clips.len(),
        clips.iter().filter(|c| c.paused).count()
    );

    let settings: [(&str, PartialPolicy, bool); 3] = [
        ("before", PartialPolicy::Always, false),
        ("words", PartialPolicy::Never, false),
        ("words+sound", PartialPolicy::Never, true),
    ];
    println!();
    println!(
        "| setting | clips | cut (paused turns) | cut (single questions) | wait p50 ms | wait p95 ms | decodes per turn | CPU ms per turn |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let only = std::env::var("HOTLINE_BENCH_SETTINGS").ok();
    for (name, partials, sound) in settings {
        if only
            .as_deref()
            .is_some_and(|only| !only.split(',').any(|s| s.trim() == name))
        {
            continue;
        }
        let mut config = engine.config.call.clone();
        config.turn.partials = partials;
        if !sound {
            config.turn.acoustic.model = "none".to_string();
        }
        let outcomes: Vec<(bool, Outcome)> = clips
            .iter()
            .map(|clip| (clip.paused, replay(&engine, &config, clip)))
            .collect();
        let cut = |paused: bool| {
            let of_kind: Vec<&Outcome> = outcomes
                .iter()
                .filter(|(p, _)| *p == paused)
                .map(|(_, o)| o)
                .collect();
            format!(
                "{} / {}",
                of_kind.iter().filter(|o| o.cut).count(),
                of_kind.len()
            )
        };
        let mut waits: Vec<u64> = outcomes.iter().filter_map(|(_, o)| o.wait_ms).collect();
        waits.sort_unstable();
        let turns = outcomes.len().max(1) as f64;
        let decodes: u32 = outcomes.iter().map(|(_, o)| o.decodes).sum();
        let cpu: f64 = outcomes.iter().map(|(_, o)| o.cpu_ms).sum();
        println!(
            "| {name} | {} | {} | {} | {} | {} | {:.1} | {:.0} |",
            outcomes.len(),
            cut(true),
            cut(false),
            percentile(&waits, 0.5),
            percentile(&waits, 0.95),
            f64::from(decodes) / turns,
            cpu / turns,
        );
    }
}

fn percentile(sorted: &[u64], q: f64) -> String {
    if sorted.is_empty() {
        return "-".to_string();
    }
    let at = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[at].to_string()
}

fn load_clips(dir: &Path, paused: bool, limit: Option<usize>) -> Vec<Clip> {
    let Ok(manifest) = std::fs::read_to_string(dir.join("manifest.tsv")) else {
        eprintln!("turn_taking_replay: no manifest.tsv in {}", dir.display());
        return Vec::new();
    };
    let mut clips = Vec::new();
    for line in manifest.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [file, lang, ..] = fields.as_slice() else {
            continue;
        };
        let lang = match *lang {
            "en" => Lang::En,
            "yue" => Lang::Yue,
            _ => Lang::Zh,
        };
        let samples = match hotline_audio::wav::read_wav_16k_mono(dir.join(file)) {
            Ok(wav) => wav.samples,
            Err(error) => {
                eprintln!("turn_taking_replay: {file}: {error}");
                continue;
            }
        };
        let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        let last_loud = samples
            .iter()
            .rposition(|s| s.unsigned_abs() >= peak / 20)
            .unwrap_or(0);
        clips.push(Clip {
            name: file.to_string(),
            lang,
            speech_end_ms: last_loud as u64 / 16,
            samples,
            paused,
        });
    }
    // Same order on every run; `limit` takes the first clips of each folder.
    clips.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(limit) = limit {
        clips.truncate(limit);
    }
    clips
}

/// Play `clip` to a fresh session after its greeting; report what turn-taking made of it.
fn replay(engine: &Engine, config: &SessionConfig, clip: &Clip) -> Outcome {
    let mut config = config.clone();
    config.default_lang = clip.lang;
    let mut session = Session::new(config, Millis::ZERO);
    let mut vad = match SileroVad::with_model(Arc::clone(&engine.vad)) {
        Ok(vad) => vad,
        Err(error) => {
            eprintln!("turn_taking_replay: VAD: {error}");
            return Outcome::default();
        }
    };
    vad.set_energy_gate_dbfs(Some(engine.config.call.vad.energy_gate_dbfs));
    let language = AsrLanguage::from(clip.lang);
    let mut pending: BTreeMap<(u64, u64), SessionInput> = BTreeMap::new();
    let mut sequence = 0u64;
    let mut outcome = Outcome::default();
    let mut asked: Vec<(Millis, String)> = Vec::new();
    let mut greeting_done: Option<Millis> = None;
    let mut clip_start = None;
    let frames = split_into_frames(&clip.samples);
    let step = u64::from(FRAME_MS);
    let mut now = Millis::ZERO;
    let mut played = 0usize;
    loop {
        // Results due by now.
        while let Some(entry) = pending.first_entry() {
            if entry.key().0 > now.0 {
                break;
            }
            let input = entry.remove();
            session.handle(input, now);
        }
        // The caller: silence until 500 ms after the greeting, then the clip, then silence.
        let frame = match (greeting_done, clip_start) {
            (Some(done), None) if now.0 >= done.0 + 500 => {
                clip_start = Some(now);
                frames.first().cloned()
            }
            (_, Some(_)) if played < frames.len() => frames.get(played).cloned(),
            _ => None,
        };
        if clip_start.is_some() && played < frames.len() {
            played += 1;
        }
        let frame = frame.unwrap_or_else(Frame::silence);
        let speech_prob = vad.push_frame(&frame).unwrap_or(0.0);
        session.handle(SessionInput::CallerAudio { frame, speech_prob }, now);
        session.handle(SessionInput::Tick, now);
        while let Some(output) = session.poll_output() {
            match output {
                SessionOutput::Transcribe {
                    request_id, audio, ..
                } => {
                    let (started, cpu) = (Instant::now(), thread_cpu_time());
                    let transcript = engine.transcriber.transcribe_now(&audio, language);
                    let took = started.elapsed();
                    outcome.decodes += 1;
                    outcome.cpu_ms += (thread_cpu_time() - cpu).as_secs_f64() * 1000.0;
                    let (text, lang, confidence) = match transcript {
                        Ok(t) => (t.text, t.language, t.confidence),
                        Err(_) => (String::new(), clip.lang, 0.0),
                    };
                    sequence += 1;
                    pending.insert(
                        (now.0 + took.as_millis() as u64, sequence),
                        SessionInput::TranscriptReady {
                            request_id,
                            text,
                            lang,
                            confidence,
                        },
                    );
                }
                SessionOutput::JudgeEndOfTurn { request_id, audio } => {
                    let Some(model) = engine.end_of_turn.as_ref() else {
                        continue;
                    };
                    let (started, cpu) = (Instant::now(), thread_cpu_time());
                    let judged = model.completion_probability(&audio);
                    let took = started.elapsed();
                    outcome.cpu_ms += (thread_cpu_time() - cpu).as_secs_f64() * 1000.0;
                    if let Ok(complete_probability) = judged {
                        sequence += 1;
                        pending.insert(
                            (now.0 + took.as_millis() as u64, sequence),
                            SessionInput::EndOfTurnJudged {
                                request_id,
                                complete_probability,
                            },
                        );
                    }
                }
                SessionOutput::Speak { sentence_id, .. } => {
                    // Every bot sentence: 300 ms of (silent) audio, ready at once.
                    sequence += 1;
                    pending.insert(
                        (now.0, sequence),
                        SessionInput::SpeechReady {
                            sentence_id,
                            samples: Arc::from(vec![0i16; 4800]),
                        },
                    );
                }
                SessionOutput::AskDialogue { request, .. } => {
                    asked.push((now, request.transcript.clone()));
                }
                SessionOutput::Event(CallEvent::BotSentenceFinished { at, .. })
                    if greeting_done.is_none() =>
                {
                    greeting_done = Some(at);
                }
                _ => {}
            }
        }
        now = now.plus(step);
        let over = clip_start
            .is_some_and(|start| now.0 >= start.0 + frames.len() as u64 * step + TAIL_SILENCE_MS);
        if over || now.0 > 60_000 {
            break;
        }
    }
    let Some(start) = clip_start else {
        return outcome;
    };
    let speech_end = start.0 + clip.speech_end_ms;
    // Cut: a question was asked before the caller's last speech ended.
    outcome.cut = asked.iter().any(|(at, _)| at.0 < speech_end);
    outcome.wait_ms = asked.last().map(|(at, _)| at.0.saturating_sub(speech_end));
    if std::env::var("HOTLINE_BENCH_VERBOSE").is_ok() {
        eprintln!(
            "{}: asked {:?} (speech end {} ms), {} decodes",
            clip.name,
            asked
                .iter()
                .map(|(at, text)| (at.0 - start.0, text.as_str()))
                .collect::<Vec<_>>(),
            clip.speech_end_ms,
            outcome.decodes
        );
    }
    outcome
}
