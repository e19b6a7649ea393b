//! `hotline call` end to end with the real models: synthetic Mandarin and English questions get
//! the right FAQ answer, spoken; the JSON report carries every stage's timing.

mod support;

use support::{fixture, run, word_error_rate};

/// Fixture sentence → the FAQ id it must retrieve (see tests/fixtures/speech/sentences.tsv).
const EXPECTED: &[(&str, &str, &str)] = &[
    ("zh_1", "zh", "opening_hours"),
    ("zh_2", "zh", "shop_address"),
    ("zh_3", "zh", "shipping_time"),
    ("zh_4", "zh", "shipping_fee"),
    ("zh_5", "zh", "return_policy"),
    ("zh_6", "zh", "refund_time"),
    ("zh_7", "zh", "payment_methods"),
    ("zh_8", "zh", "warranty"),
    ("zh_9", "zh", "order_status"),
    ("zh_10", "zh", "invoice"),
    ("en_1", "en", "opening_hours"),
    ("en_2", "en", "shipping_time"),
    ("en_3", "en", "return_policy"),
    ("en_4", "en", "payment_methods"),
    ("en_5", "en", "order_status"),
    ("en_6", "en", "warranty"),
];

fn call(
    input: &std::path::Path,
    lang: &str,
    out_dir: &std::path::Path,
) -> (serde_json::Value, std::path::PathBuf) {
    let answer = out_dir.join(format!(
        "{}.answer.wav",
        input.file_stem().unwrap().to_string_lossy()
    ));
    let out = run(&[
        "call",
        "--json",
        "--lang",
        lang,
        "--in",
        input.to_str().unwrap(),
        "--out",
        answer.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "call {} failed: {}",
        input.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        serde_json::from_slice(&out.stdout).expect("JSON report"),
        answer,
    )
}

fn check_all(suffix: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut wrong = Vec::new();
    for (name, lang, faq) in EXPECTED {
        let (report, answer) = call(&fixture(&format!("{name}{suffix}.wav")), lang, dir.path());
        println!(
            "{name}{suffix}: {:?} → {} {:?} timings {}",
            report["transcript"], report["faq_id"], report["answer"], report["timings_ms"]
        );
        // The right answer, or a confirm question offering the right topic first.
        let confirmed = report["confirm"][0] == *faq;
        if report["faq_id"] != *faq && !confirmed {
            wrong.push(format!(
                "{name}{suffix}: expected {faq}, got {} for {:?}",
                report["faq_id"], report["transcript"]
            ));
        }
        let audio = hotline_audio::wav::read_wav_16k_mono(&answer)
            .expect("answer WAV readable")
            .samples;
        assert!(
            audio.len() > 16_000 / 2,
            "{name}: answer shorter than 0.5 s"
        );
        assert!(
            hotline_audio::level::dbfs(&audio) > -40.0,
            "{name}: answer is silent"
        );
    }
    assert!(wrong.is_empty(), "wrong answers:\n{}", wrong.join("\n"));
}

#[test]
fn clean_questions_get_the_right_faq_answer() {
    check_all("");
}

#[test]
fn telephone_band_questions_get_the_right_faq_answer() {
    check_all("_tel");
}

#[test]
fn report_has_every_stage_timing() {
    let dir = tempfile::tempdir().unwrap();
    let (report, _) = call(&fixture("zh_1.wav"), "zh", dir.path());
    let t = &report["timings_ms"];
    for key in [
        "vad",
        "asr",
        "dialogue",
        "tts_first_audio",
        "tts_total",
        "total",
    ] {
        assert!(t[key].is_u64(), "timings_ms.{key} missing in {report}");
    }
    let (total, asr, tts) = (
        t["total"].as_u64().unwrap(),
        t["asr"].as_u64().unwrap(),
        t["tts_total"].as_u64().unwrap(),
    );
    assert!(total >= asr + tts, "total {total} < asr {asr} + tts {tts}");
    assert!(t["tts_first_audio"].as_u64().unwrap() <= tts);
    assert_eq!(report["language"], "zh");
    assert!(
        report["transcript"].as_str().unwrap().contains("开门"),
        "{report}"
    );
}

#[test]
fn english_answer_is_intelligible_speech() {
    // The English answer is spoken by Piper; Whisper must read it back close to the text.
    let dir = tempfile::tempdir().unwrap();
    let (report, answer) = call(&fixture("en_2.wav"), "en", dir.path());
    let out = run(&[
        "transcribe",
        "--json",
        "--lang",
        "en",
        answer.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let heard: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let wer = word_error_rate(
        report["answer"].as_str().unwrap(),
        heard["text"].as_str().unwrap(),
    );
    println!(
        "answer {:?} heard {:?} WER {wer:.3}",
        report["answer"], heard["text"]
    );
    // Whisper base mishears some words of synthetic speech (about 0.3 WER); noise scores about 1.
    assert!(wer <= 0.4, "answer not intelligible: WER {wer:.3}");
}

#[test]
fn eight_khz_stereo_question_is_converted_and_answered() {
    let dir = tempfile::tempdir().unwrap();
    let (report, _) = call(&fixture("zh_7_8k_stereo.wav"), "zh", dir.path());
    assert_eq!(report["faq_id"], "payment_methods", "{report}");
}
