//! Warm start: every model runs once before the engine says it is ready, so the first caller
//! after a restart is answered as fast as the rest. Cold, the first answer took 3.2-3.4 s
//! (first Piper/espeak synthesis, first Silero run, first decode in a language, jieba and the
//! embedding worker's first turn); warm, about 0.6 s.
//!
//! What runs: a Whisper decode in every configured language, a VAD stream over a second of
//! audio, one dialogue turn per language (FAQ index, embedding worker, policy), and the
//! greeting of every language, the holding phrase said while a slow part is waited for, the
//! apology said when a part fails (both pinned, with the transfer sentences: see
//! `call::fault`) and the opening sentence of every FAQ answer synthesized into the shared
//! speech cache (so none is synthesized during a call; `[tts] warm_answers_secs` bounds the
//! answers' share of the start).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::asr::AsrLanguage;
use crate::dialogue::DialogueRequest;
use crate::engine::Engine;
use crate::lang::Lang;

/// One question per language, asked of the dialogue engine at warm-up.
const SAMPLE_QUESTIONS: [(Lang, &str); 3] = [
    (Lang::Zh, "你好，请问怎么联系你们"),
    (Lang::Yue, "你好，想問下點樣聯絡你哋"),
    (Lang::En, "Hello, how can I reach you"),
];

/// How long each part took, for the start-up log and `/readyz`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct WarmUpReport {
    pub asr_ms: u64,
    pub vad_ms: u64,
    pub dialogue_ms: u64,
    pub voices_ms: u64,
    /// FAQ answer openings synthesized into the speech cache, and how long that took.
    pub answers_cached: usize,
    pub answers_ms: u64,
    pub total_ms: u64,
    /// Parts that failed (the engine still serves; the first call may be slower).
    pub problems: Vec<String>,
}

/// Runs every model once. Blocking: call it from a blocking thread, not an async worker.
pub fn warm_up(engine: &Engine) -> WarmUpReport {
    let started = Instant::now();
    let mut report = WarmUpReport::default();
    let since = |t: Instant| t.elapsed().as_millis() as u64;

    let t = Instant::now();
    let tone = crate::asr::warm_up_tone();
    for language in [AsrLanguage::Zh, AsrLanguage::En] {
        if let Err(e) = engine.transcriber.transcribe_now(&tone, language) {
            report.problems.push(format!("asr {language:?}: {e}"));
        }
    }
    report.asr_ms = since(t);

    let t = Instant::now();
    match hotline_audio::vad::SileroVad::with_model(Arc::clone(&engine.vad)) {
        Ok(mut vad) => {
            if let Err(e) = vad.push_samples(&tone) {
                report.problems.push(format!("vad: {e}"));
            }
        }
        Err(e) => report.problems.push(format!("vad: {e}")),
    }
    report.vad_ms = since(t);

    let t = Instant::now();
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => {
            for (lang, question) in SAMPLE_QUESTIONS {
                let events = runtime.block_on(async {
                    tokio::time::timeout(
                        Duration::from_secs(10),
                        engine
                            .dialogue
                            .respond(DialogueRequest::new(question, lang))
                            .collect(),
                    )
                    .await
                });
                if events.is_err() {
                    report
                        .problems
                        .push(format!("dialogue {lang}: no answer in 10 s"));
                }
            }
        }
        Err(e) => report.problems.push(format!("dialogue: {e}")),
    }
    report.dialogue_ms = since(t);

    let t = Instant::now();
    for lang in Lang::ALL {
        let greeting = engine.config.call.flow.greeting.get(lang);
        for sentence in crate::lang::SentenceSplitter::split_whole(greeting) {
            if engine.speech_cache.get(lang, &sentence).is_some() {
                continue;
            }
            match engine.voices.voice(lang).synthesize(&sentence) {
                Ok(speech) => engine
                    .speech_cache
                    .put(lang, &sentence, speech.samples.into()),
                Err(e) => report.problems.push(format!("voice {lang}: {e}")),
            }
        }
    }
    // What a call says when a part is slow or fails must not need the voice then (`call::fault`):
    // pinned, never evicted.
    for lang in Lang::ALL {
        let flow = &engine.config.call.flow;
        let faults = &engine.config.call.faults;
        for text in [
            faults.apology.get(lang),
            faults.holding.get(lang),
            flow.transfer_notice.get(lang),
            flow.transfer_failed.get(lang),
        ] {
            if text.trim().is_empty() || engine.speech_cache.is_pinned(lang, text) {
                continue;
            }
            match engine.voices.voice(lang).synthesize(text) {
                Ok(speech) => engine.speech_cache.pin(lang, text, speech.samples.into()),
                Err(e) => report.problems.push(format!("voice {lang}: {e}")),
            }
        }
    }
    report.voices_ms = since(t);

    let t = Instant::now();
    let budget = Duration::from_secs(engine.config.tts.warm_answers_secs);
    let openings = engine.dialogue.answer_openings();
    for (lang, sentence) in &openings {
        if t.elapsed() >= budget {
            let left = openings.len() - report.answers_cached;
            tracing::warn!(
                left,
                "[tts] warm_answers_secs reached: {left} FAQ answer openings are synthesized at their first use"
            );
            break;
        }
        if engine.speech_cache.get(*lang, sentence).is_none() {
            match engine.voices.voice(*lang).synthesize(sentence) {
                Ok(speech) => engine
                    .speech_cache
                    .put(*lang, sentence, speech.samples.into()),
                Err(e) => report.problems.push(format!("voice {lang}: {e}")),
            }
        }
        report.answers_cached += 1;
    }
    report.answers_ms = since(t);
    report.total_ms = since(started);
    report
}
