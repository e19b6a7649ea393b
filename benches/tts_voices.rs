//! Time to first audio and real-time factor of each configured voice on a typical answer
//! sentence. Run: `cargo bench --bench tts_voices` (models fetched first: `make models`).

use std::path::Path;
use std::time::Instant;

use criterion::Criterion;
use hotline::config::Config;
use hotline::engine;
use hotline::lang::Lang;

const SENTENCES: &[(Lang, &str)] = &[
    (
        Lang::En,
        "Orders placed before four p.m. are shipped the same day, and usually arrive in two to three days.",
    ),
    (Lang::Zh, "下午四点前下单当天发货，一般两到三天送达。"),
    (Lang::Yue, "下晝四點前落單即日發貨，一般兩至三日送到。"),
];

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    std::env::set_current_dir(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("workspace root");
    let config = Config::load(None).expect("config");
    let store = engine::model_store(&config).expect("model manifest");
    let voices = engine::load_voices(&config, &store).expect("voices: run `make models` first");
    let mut criterion = Criterion::default().sample_size(10).configure_from_args();
    let mut rows = Vec::new();
    for (lang, text) in SENTENCES {
        let voice = voices.voice(*lang).clone();
        let _ = voice.synthesize(text);
        let mut first = Vec::new();
        let mut audio_s = 0.0;
        for _ in 0..7 {
            let t = Instant::now();
            let speech = voice.synthesize(text).expect("synthesis");
            first.push(t.elapsed().as_secs_f64());
            audio_s = speech.duration_ms() as f64 / 1000.0;
        }
        let m = median(first);
        rows.push((
            lang.to_string(),
            voice.name().to_string(),
            audio_s,
            m,
            m / audio_s,
        ));
        criterion.bench_function(&format!("tts/{lang}/{}", voice.name()), |b| {
            b.iter(|| voice.synthesize(text).expect("synthesis"))
        });
    }
    println!(
        "\nTTS: one sentence, synthesised whole (time to first audio = synthesis time of the first sentence)"
    );
    println!(
        "{:<5} {:<32} {:>8} {:>16} {:>6}",
        "lang", "voice", "audio_s", "first_audio_s", "RTF"
    );
    for (lang, name, audio_s, m, rtf) in &rows {
        println!("{lang:<5} {name:<32} {audio_s:>8.2} {m:>16.3} {rtf:>6.3}");
    }
    criterion.final_summary();
}
