//! Decode priority on the real model: a partial is refused rather than queued when it would
//! take the slot a final may need, a final stops a running partial to take its slot, and a
//! cancelled decode gives no transcript and frees its slot.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline::asr::{AsrError, AsrLanguage, DecodeCancel, Transcriber, TranscriberOptions};
use support::{fixture, require_model_file};

fn one_slot_transcriber() -> Transcriber {
    let model = require_model_file("ggml-base-q8_0.bin");
    let options = TranscriberOptions {
        max_concurrent_decodes: 1,
        ..TranscriberOptions::default()
    };
    Transcriber::load(&model, options).expect("load the Whisper model")
}

fn audio(name: &str, repeat: usize) -> Arc<[i16]> {
    let clip = hotline_audio::wav::read_wav_16k_mono(fixture(name)).expect("fixture WAV");
    let mut samples = Vec::new();
    for _ in 0..repeat {
        samples.extend_from_slice(&clip.samples);
    }
    Arc::from(samples)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_final_stops_a_running_partial_and_a_busy_slot_refuses_partials() {
    let transcriber = one_slot_transcriber();
    // About 15 s of speech: a decode of several seconds on one thread.
    let long = audio("zh_1.wav", 5);
    let partial = {
        let transcriber = transcriber.clone();
        let long = Arc::clone(&long);
        tokio::spawn(async move {
            let started = Instant::now();
            let result = transcriber
                .transcribe_partial(long, AsrLanguage::Zh, DecodeCancel::new())
                .await;
            (result, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The only slot is taken by the partial: another partial is refused at once.
    let refused = transcriber
        .transcribe_partial(audio("zh_2.wav", 1), AsrLanguage::Zh, DecodeCancel::new())
        .await;
    assert!(matches!(refused, Err(AsrError::Busy)), "{refused:?}");

    // A final takes the slot from the partial and is decoded.
    let started = Instant::now();
    let final_transcript = transcriber
        .transcribe_cancellable(audio("zh_2.wav", 1), AsrLanguage::Zh, DecodeCancel::new())
        .await
        .expect("the final decodes");
    let final_ms = started.elapsed().as_millis();
    assert!(!final_transcript.text.is_empty(), "{final_transcript:?}");
    let (partial_result, partial_time) = partial.await.expect("partial task");
    assert!(
        matches!(partial_result, Err(AsrError::Cancelled)),
        "{partial_result:?}"
    );
    println!(
        "partial stopped after {} ms (its encoder pass); final (1.7 s of audio) done {final_ms} ms after it was asked",
        partial_time.as_millis()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partials_leave_a_slot_free_for_finals() {
    let model = require_model_file("ggml-base-q8_0.bin");
    let options = TranscriberOptions {
        max_concurrent_decodes: 2,
        ..TranscriberOptions::default()
    };
    let transcriber = Transcriber::load(&model, options).expect("load the Whisper model");
    let running = {
        let transcriber = transcriber.clone();
        tokio::spawn(async move {
            transcriber
                .transcribe_partial(audio("zh_1.wav", 3), AsrLanguage::Zh, DecodeCancel::new())
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = transcriber
        .transcribe_partial(audio("zh_2.wav", 1), AsrLanguage::Zh, DecodeCancel::new())
        .await;
    assert!(matches!(second, Err(AsrError::Busy)), "{second:?}");
    // The free slot is the final's: it does not stop the partial.
    let final_transcript = transcriber
        .transcribe_cancellable(audio("zh_2.wav", 1), AsrLanguage::Zh, DecodeCancel::new())
        .await
        .expect("the final decodes");
    assert!(!final_transcript.text.is_empty());
    let partial = running.await.expect("partial task");
    assert!(partial.is_ok(), "{partial:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_decode_gives_no_transcript_and_frees_its_slot() {
    let transcriber = one_slot_transcriber();
    let long = audio("zh_1.wav", 5);
    let cancel = DecodeCancel::new();
    let decode = {
        let transcriber = transcriber.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let result = transcriber
                .transcribe_cancellable(long, AsrLanguage::Zh, cancel)
                .await;
            (result, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    cancel.cancel();
    let (result, elapsed) = decode.await.expect("decode task");
    assert!(matches!(result, Err(AsrError::Cancelled)), "{result:?}");
    // The slot is free again: a partial (which never waits) is accepted.
    let next = transcriber
        .transcribe_partial(audio("zh_2.wav", 1), AsrLanguage::Zh, DecodeCancel::new())
        .await;
    assert!(next.is_ok(), "{next:?}");
    println!(
        "cancelled at 300 ms, stopped at {} ms (after the encoder pass)",
        elapsed.as_millis()
    );
}
