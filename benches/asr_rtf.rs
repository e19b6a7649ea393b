//! Whisper real-time factor on 2-5 s utterances with one decode thread (the configured model,
//! base-q8_0 by default). Prints a table of medians; criterion adds its own statistics.
//!
//! Run: `cargo bench --bench asr_rtf` (models fetched first: `make models`).

use std::path::Path;
use std::time::Instant;

use criterion::Criterion;
use hotline::asr::AsrLanguage;
use hotline::config::Config;
use hotline::engine;

const CLIPS: &[(&str, &str)] = &[
    ("tests/fixtures/speech/zh_1.wav", "zh"),
    ("tests/fixtures/speech/zh_5.wav", "zh"),
    ("tests/fixtures/speech/zh_7_tel.wav", "zh"),
    ("tests/fixtures/speech/en_3.wav", "en"),
    ("models/asr_example.wav", "zh"),
];

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::env::set_current_dir(root).expect("workspace root");
    let config = Config::load(None).expect("config");
    let store = engine::model_store(&config).expect("model manifest");
    let transcriber =
        engine::load_transcriber(&config, &store).expect("Whisper model: run `make models` first");
    let mut criterion = Criterion::default().sample_size(10).configure_from_args();
    let mut rows = Vec::new();
    for (clip, lang) in CLIPS {
        let Ok(audio) = hotline_audio::wav::read_wav_16k_mono(Path::new(clip)).map(|a| a.samples)
        else {
            eprintln!("skipping {clip}: not found (run `make models-test-data`)");
            continue;
        };
        let lang: AsrLanguage = lang.parse().expect("language");
        let seconds = audio.len() as f64 / 16_000.0;
        // Warm-up (allocates the decode state), then timed runs.
        let _ = transcriber.transcribe_now(&audio, lang);
        let runs: Vec<f64> = (0..7)
            .map(|_| {
                let t = Instant::now();
                let _ = transcriber.transcribe_now(&audio, lang).expect("decode");
                t.elapsed().as_secs_f64()
            })
            .collect();
        let m = median(runs);
        rows.push((clip.to_string(), seconds, m, m / seconds));
        criterion.bench_function(
            &format!(
                "asr/{}",
                Path::new(clip).file_name().unwrap().to_string_lossy()
            ),
            |b| b.iter(|| transcriber.transcribe_now(&audio, lang).expect("decode")),
        );
    }
    println!(
        "\nWhisper {} — 1 thread per decode, audio_ctx fitted",
        config.asr.model
    );
    println!(
        "{:<40} {:>8} {:>10} {:>6}",
        "clip", "audio_s", "median_s", "RTF"
    );
    for (clip, seconds, m, rtf) in &rows {
        println!("{clip:<40} {seconds:>8.2} {m:>10.3} {rtf:>6.3}");
    }
    let rtfs: Vec<f64> = rows.iter().map(|r| r.3).collect();
    if !rtfs.is_empty() {
        println!("median RTF over clips: {:.3} (target ≤ 0.10)", median(rtfs));
    }
    criterion.final_summary();
}
