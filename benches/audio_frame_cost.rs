//! Cost of the per-frame audio work every live call pays, per 20 ms frame: the streaming
//! resamplers at the channel edges (8 kHz G.711, 48 kHz Opus/WebRTC), G.711 encode/decode, and
//! Silero VAD. Prints a table of medians (and the share of one core a call spends on each);
//! criterion adds its own statistics.
//!
//! Run: `cargo bench --bench audio_frame_cost` (Silero needs `silero_vad.onnx` and
//! `libonnxruntime.so.1.31.1` in `HOTLINE_MODELS_DIR` or `models/`: `hotline models fetch`).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use criterion::Criterion;
use hotline_audio::g711::G711Law;
use hotline_audio::resample::StreamingResampler;
use hotline_audio::vad::{SileroVad, init_onnx_runtime};
use hotline_audio::{FRAME_SAMPLES, Frame};

/// Frames timed per sample of the median (Silero needs a multiple of 8 frames: 5 model runs).
const BATCH_FRAMES: usize = 400;
const SAMPLES: usize = 31;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Median seconds per frame of `per_frame`, timed over batches of `BATCH_FRAMES`.
fn per_frame_median(mut per_frame: impl FnMut(usize)) -> f64 {
    for n in 0..BATCH_FRAMES {
        per_frame(n); // warm-up
    }
    let runs = (0..SAMPLES)
        .map(|_| {
            let started = Instant::now();
            for n in 0..BATCH_FRAMES {
                per_frame(n);
            }
            started.elapsed().as_secs_f64() / BATCH_FRAMES as f64
        })
        .collect();
    median(runs)
}

/// Deterministic speech-band test signal at `rate`, 20 ms per chunk, `count` chunks.
fn test_signal(rate: u32, count: usize) -> Vec<Vec<i16>> {
    let len = rate as usize / 50;
    (0..count)
        .map(|c| {
            (0..len)
                .map(|n| {
                    let t = (c * len + n) as f64 / f64::from(rate);
                    let v = 0.3 * (2.0 * std::f64::consts::PI * 220.0 * t).sin()
                        + 0.1 * (2.0 * std::f64::consts::PI * 1700.0 * t).sin();
                    (v * 32767.0) as i16
                })
                .collect()
        })
        .collect()
}

fn models_file(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("HOTLINE_MODELS_DIR")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    dirs.push(manifest.join("models"));
    dirs.push(manifest.join("../models"));
    dirs.into_iter()
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    let mut rows: Vec<(String, f64)> = Vec::new();

    for (name, input_rate, output_rate) in [
        ("resample 8k->16k", 8000, 16000),
        ("resample 16k->8k", 16000, 8000),
        ("resample 48k->16k", 48000, 16000),
        ("resample 16k->48k", 16000, 48000),
    ] {
        let mut resampler = StreamingResampler::new(input_rate, output_rate).expect("resampler");
        let input = test_signal(input_rate, 50);
        let mut output = vec![0i16; resampler.output_chunk_len()];
        rows.push((
            name.to_string(),
            per_frame_median(|n| {
                resampler
                    .process(black_box(&input[n % input.len()]), &mut output)
                    .expect("process");
                black_box(&output);
            }),
        ));
        let mut n = 0;
        criterion.bench_function(&format!("audio/{name}"), |b| {
            b.iter(|| {
                n += 1;
                resampler
                    .process(black_box(&input[n % input.len()]), &mut output)
                    .expect("process");
                black_box(output[0])
            })
        });
    }

    let narrow = test_signal(8000, 1).remove(0);
    let mut codes = [0u8; FRAME_SAMPLES / 2];
    let mut decoded = [0i16; FRAME_SAMPLES / 2];
    for law in [G711Law::MuLaw, G711Law::ALaw] {
        let encode = format!("g711 {} encode", law.sdp_name());
        let decode = format!("g711 {} decode", law.sdp_name());
        rows.push((
            encode.clone(),
            per_frame_median(|_| law.encode_slice(black_box(&narrow), &mut codes)),
        ));
        rows.push((
            decode.clone(),
            per_frame_median(|_| law.decode_slice(black_box(&codes), &mut decoded)),
        ));
        criterion.bench_function(&format!("audio/{encode}"), |b| {
            b.iter(|| law.encode_slice(black_box(&narrow), &mut codes))
        });
        criterion.bench_function(&format!("audio/{decode}"), |b| {
            b.iter(|| law.decode_slice(black_box(&codes), &mut decoded))
        });
    }

    match (
        models_file("libonnxruntime.so.1.31.1"),
        models_file("silero_vad.onnx"),
    ) {
        (Some(library), Some(model)) => {
            init_onnx_runtime(&library).expect("ONNX Runtime");
            let mut vad = SileroVad::new(&model).expect("Silero VAD");
            let frames: Vec<Frame> = test_signal(16000, 400)
                .iter()
                .map(|chunk| Frame::from_slice(chunk).expect("320 samples"))
                .collect();
            rows.push((
                "silero vad per frame (avg of 8)".to_string(),
                per_frame_median(|n| {
                    black_box(vad.push_frame(&frames[n % frames.len()]).expect("vad"));
                }),
            ));
            let mut n = 0;
            // One iteration = 8 frames = 5 model runs of 512 samples.
            criterion.bench_function("audio/silero vad 8 frames (160 ms)", |b| {
                b.iter(|| {
                    for _ in 0..8 {
                        n += 1;
                        black_box(vad.push_frame(&frames[n % frames.len()]).expect("vad"));
                    }
                })
            });
        }
        _ => eprintln!(
            "skipping Silero VAD: silero_vad.onnx / libonnxruntime.so.1.31.1 not in HOTLINE_MODELS_DIR or models/ \
             (run `hotline models fetch`)"
        ),
    }

    println!("\nper 20 ms frame, median of {SAMPLES} batches of {BATCH_FRAMES} frames");
    println!(
        "{:<34} {:>10} {:>14}",
        "operation", "µs/frame", "% of one core"
    );
    for (name, seconds) in &rows {
        println!(
            "{name:<34} {:>10.2} {:>14.3}",
            seconds * 1e6,
            seconds / 0.020 * 100.0
        );
    }
    criterion.final_summary();
}
