//! Silero VAD on real audio: speech gives one segment around the speech, silence and white noise
//! give none, the streaming state behaves. Needs the model files: they come from
//! `HOTLINE_MODELS_DIR` (default: the workspace `models/` directory) and the tests fail, naming
//! the file and the command that fetches it, when they are missing.

mod support;

use hotline_audio::vad::{
    SileroVad, VadConfig, VadError, VadEvent, VadSegmenter, init_onnx_runtime, onnx_runtime_library,
};
use hotline_audio::wav::read_wav_16k_mono;
use hotline_audio::{FRAME_MS, Frame, split_into_frames};
use support::model_file;

const ONNX_RUNTIME: &str = "libonnxruntime.so.1.31.1";
const SILERO_MODEL: &str = "silero_vad.onnx";
const SPEECH_CLIP: &str = "asr_example.wav";

fn silero() -> SileroVad {
    init_onnx_runtime(model_file(ONNX_RUNTIME)).unwrap();
    SileroVad::new(model_file(SILERO_MODEL)).unwrap()
}

fn speech_clip() -> Vec<Frame> {
    split_into_frames(&read_wav_16k_mono(model_file(SPEECH_CLIP)).unwrap().samples)
}

/// Probabilities and segmenter events for a run of frames.
fn segment(vad: &mut SileroVad, frames: &[Frame]) -> (Vec<f32>, Vec<VadEvent>) {
    let mut segmenter = VadSegmenter::new(VadConfig::default());
    let mut probabilities = Vec::new();
    let mut events = Vec::new();
    for frame in frames {
        let probability = vad.push_frame(frame).unwrap();
        probabilities.push(probability);
        events.extend(segmenter.push(probability));
    }
    events.extend(segmenter.finish());
    (probabilities, events)
}

/// 20 ms frames of deterministic white noise at about `dbfs`.
fn white_noise(frames: usize, dbfs: f32) -> Vec<Frame> {
    let amplitude = 32768.0 * 10f32.powf(dbfs / 20.0) * 3f32.sqrt(); // uniform: rms = a/sqrt(3)
    let mut seed: u32 = 0x1234_5678;
    (0..frames)
        .map(|_| {
            let mut frame = Frame::silence();
            for sample in frame.samples_mut() {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let uniform = (seed >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0;
                *sample = (uniform * amplitude) as i16;
            }
            frame
        })
        .collect()
}

#[test]
fn speech_clip_gives_one_segment_around_the_speech() {
    let frames = speech_clip();
    // Where the speech is, by level: 100 ms windows 10 dB above the noise floor (the
    // 10th-percentile window).
    let window_db: Vec<f32> = frames
        .windows(5)
        .map(|w| {
            let mean_square = w.iter().map(|f| f.rms().powi(2)).sum::<f32>() / 5.0;
            hotline_audio::level::rms_to_dbfs(mean_square.sqrt())
        })
        .collect();
    let mut sorted = window_db.clone();
    sorted.sort_by(f32::total_cmp);
    let threshold = sorted[sorted.len() / 10] + 10.0;
    let loud: Vec<usize> = (0..window_db.len())
        .filter(|&n| window_db[n] > threshold)
        .collect();
    let (first_loud_ms, last_loud_ms) = (
        *loud.first().unwrap() as u64 * u64::from(FRAME_MS),
        (*loud.last().unwrap() as u64 + 5) * u64::from(FRAME_MS),
    );

    let (probabilities, events) = segment(&mut silero(), &frames);
    let peak = probabilities.iter().copied().fold(0.0, f32::max);
    assert!(peak > 0.9, "speech never reached 0.9 (peak {peak})");
    let [
        VadEvent::SpeechStart { start_ms, .. },
        VadEvent::SpeechEnd { end_ms, .. },
    ] = events[..]
    else {
        panic!("expected one start and one end, got {events:?}");
    };
    // Start: pre-roll (200 ms) before the onset; end: the first silent frame after speech.
    assert!(
        start_ms <= first_loud_ms && start_ms + 400 >= first_loud_ms,
        "speech starts at {first_loud_ms} ms by level, segment starts at {start_ms} ms"
    );
    assert!(
        end_ms.abs_diff(last_loud_ms) <= 300,
        "speech ends at {last_loud_ms} ms by level, segment ends at {end_ms} ms"
    );
}

#[test]
fn silence_and_white_noise_are_not_speech() {
    let mut vad = silero();
    let (probabilities, events) = segment(&mut vad, &vec![Frame::silence(); 150]);
    assert!(events.is_empty(), "silence: {events:?}");
    assert!(
        probabilities.iter().all(|&p| p < 0.2),
        "silence probabilities {probabilities:?}"
    );

    for level in [-40.0, -20.0] {
        vad.reset();
        let (probabilities, events) = segment(&mut vad, &white_noise(150, level));
        assert!(events.is_empty(), "white noise at {level} dBFS: {events:?}");
        let peak = probabilities.iter().copied().fold(0.0, f32::max);
        assert!(peak < 0.5, "white noise at {level} dBFS peaked at {peak}");
    }
}

#[test]
fn probability_comes_from_32_ms_chunks_and_is_independent_of_feeding_sizes() {
    let frames = speech_clip();
    let mut by_frame = silero();
    let (probabilities, _) = segment(&mut by_frame, &frames);
    // 320-sample frames, 512-sample chunks: 5 chunks per 8 frames.
    assert_eq!(
        by_frame.chunks_processed(),
        (frames.len() * 320 / 512) as u64
    );
    assert_eq!(
        probabilities[0], 0.0,
        "no chunk complete after the first frame"
    );

    // The same audio fed in odd sizes reaches the same probabilities at the same points.
    let samples: Vec<i16> = frames
        .iter()
        .flat_map(|f| f.samples().iter().copied())
        .collect();
    let mut by_odd_sizes = silero();
    let mut fed = 0;
    for chunk in samples.chunks(77) {
        let probability = by_odd_sizes.push_samples(chunk).unwrap();
        fed += chunk.len();
        if fed % 320 == 0 {
            assert_eq!(
                probability,
                probabilities[fed / 320 - 1],
                "after {fed} samples"
            );
        }
    }

    // reset() forgets the stream: a second pass gives the first pass's values.
    by_frame.reset();
    let (again, _) = segment(&mut by_frame, &frames);
    assert_eq!(again, probabilities);
}

#[test]
fn state_is_carried_between_chunks() {
    // With state carried, the same speech chunk scores differently after speech than after
    // silence; a model whose state were reset every call would score it identically.
    let frames = speech_clip();
    let middle = frames.len() / 2;
    let probe = &frames[middle..middle + 8]; // 5 whole chunks

    let mut after_silence = silero();
    segment(&mut after_silence, &vec![Frame::silence(); 40]);
    let (cold, _) = segment(&mut after_silence, probe);

    let mut after_speech = silero();
    segment(&mut after_speech, &frames[..middle]);
    let (warm, _) = segment(&mut after_speech, probe);
    assert_ne!(cold, warm);
    assert!(
        warm.last().unwrap() > &0.9,
        "mid-speech after speech: {warm:?}"
    );
}

#[test]
fn runtime_init_is_idempotent_and_missing_files_are_named() {
    let library = model_file(ONNX_RUNTIME);
    init_onnx_runtime(&library).unwrap();
    init_onnx_runtime(&library).unwrap();
    assert!(onnx_runtime_library().is_some());

    let missing = std::env::temp_dir().join("hotline-no-such-model.onnx");
    let err = SileroVad::new(&missing).unwrap_err();
    assert!(matches!(err, VadError::ModelNotFound { .. }), "{err:?}");
    assert!(
        err.to_string().contains("hotline-no-such-model.onnx"),
        "{err}"
    );

    // A file that is not an ONNX model.
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus.onnx");
    std::fs::write(&bogus, b"not a model").unwrap();
    let err = SileroVad::new(&bogus).unwrap_err();
    assert!(matches!(err, VadError::ModelLoad { .. }), "{err:?}");
}

#[test]
fn an_energy_gate_skips_the_model_on_quiet_chunks_and_still_finds_the_speech() {
    // 3 s of -70 dBFS line noise, then the speech clip: the gated run finds the same segment
    // (within a chunk) as the ungated one, without running the model on the quiet part.
    let mut frames = white_noise(150, -70.0);
    frames.extend(speech_clip());
    let (_, plain_events) = segment(&mut silero(), &frames);
    let mut gated = silero();
    gated.set_energy_gate_dbfs(Some(-55.0));
    let (probabilities, gated_events) = segment(&mut gated, &frames);
    assert!(
        probabilities[..150].iter().all(|&p| p == 0.0),
        "gated noise is silence"
    );
    // Runs: none for the noise, and at most every chunk of the speech clip.
    let clip_chunks = (frames.len() - 150) as u64 * 320 / 512 + 1;
    assert!(
        gated.chunks_processed() <= clip_chunks,
        "{} model runs for {} chunks of speech clip",
        gated.chunks_processed(),
        clip_chunks
    );
    let starts = |events: &[VadEvent]| -> Vec<u64> {
        events
            .iter()
            .filter_map(|e| match e {
                VadEvent::SpeechStart { start_ms, .. } => Some(*start_ms),
                _ => None,
            })
            .collect()
    };
    let (plain, gated_starts) = (starts(&plain_events), starts(&gated_events));
    assert_eq!(plain.len(), 1, "{plain_events:?}");
    assert_eq!(gated_starts.len(), 1, "{gated_events:?}");
    assert!(
        plain[0].abs_diff(gated_starts[0]) <= 64,
        "speech starts at {} ms ungated, {} ms gated",
        plain[0],
        gated_starts[0]
    );
}
