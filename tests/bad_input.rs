//! Bad input gets a clear error that names the problem and the fix, and a non-zero exit.

mod support;

use support::{fixture, hotline, run};

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn call_with(input: &std::path::Path) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let answer = dir.path().join("a.wav");
    run(&[
        "call",
        "--in",
        input.to_str().unwrap(),
        "--out",
        answer.to_str().unwrap(),
    ])
}

#[test]
fn text_file_is_not_a_wav() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("question.wav");
    std::fs::write(&path, "this is not audio").unwrap();
    let out = call_with(&path);
    assert!(!out.status.success());
    let err = stderr_of(&out);
    assert!(err.contains("not a WAV"), "{err}");
    assert!(err.contains("sox"), "should say how to convert: {err}");
}

#[test]
fn missing_input_file_is_named() {
    let out = call_with(std::path::Path::new("/nonexistent/question.wav"));
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("/nonexistent/question.wav"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn truncated_wav_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.wav");
    let bytes = std::fs::read(fixture("zh_1.wav")).unwrap();
    std::fs::write(&path, &bytes[..30]).unwrap();
    let out = call_with(&path);
    assert!(!out.status.success());
    let err = stderr_of(&out).to_lowercase();
    assert!(
        err.contains("corrupt") || err.contains("truncated"),
        "{err}"
    );
}

fn write_wav(path: &std::path::Path, samples: &[i16]) {
    hotline_audio::wav::write_wav_16k_mono(path, samples).unwrap();
}

#[test]
fn empty_audio_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.wav");
    write_wav(&path, &[]);
    let out = call_with(&path);
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).to_lowercase().contains("empty"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn silence_has_no_speech() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("silence.wav");
    write_wav(&path, &vec![0i16; 16_000 * 2]);
    let out = call_with(&path);
    assert!(!out.status.success());
    assert!(stderr_of(&out).contains("no speech"), "{}", stderr_of(&out));
}

#[test]
fn missing_model_file_names_the_file_and_the_fix() {
    let out = hotline()
        .env("HOTLINE_ASR__MODEL", "/nonexistent/ggml-missing.bin")
        .args(["transcribe", fixture("zh_1.wav").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr_of(&out);
    assert!(
        err.contains("/nonexistent/ggml-missing.bin") && err.contains("models fetch"),
        "{err}"
    );
}

#[test]
fn bad_config_names_the_key() {
    let out = hotline()
        .env("HOTLINE_ASR__LANGUAGE", "fr")
        .args(["transcribe", fixture("zh_1.wav").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr_of(&out);
    assert!(
        err.contains("HOTLINE_ASR__LANGUAGE") || err.contains("language"),
        "{err}"
    );
}

#[test]
fn a_recording_store_that_cannot_work_stops_serve_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (url, says) in [
        ("ftp://host/recordings", "only s3://"),
        ("not a url", "give a URL such as"),
    ] {
        let out = hotline()
            .env("HOTLINE_STORE__DATABASE", dir.path().join("calls.sqlite"))
            .env("HOTLINE_RECORDING__DIR", dir.path().join("recordings"))
            .env("HOTLINE_SERVER__LISTEN", "127.0.0.1:0")
            .env("HOTLINE_RECORDING__OBJECT_STORE", url)
            .arg("serve")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{url}");
        let err = stderr_of(&out);
        assert!(err.contains("recording.object_store"), "{url}: {err}");
        assert!(err.contains(says), "{url}: {err}");
    }
}

#[test]
fn unknown_language_flag_is_refused() {
    let out = run(&[
        "transcribe",
        "--lang",
        "fr",
        fixture("zh_1.wav").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(stderr_of(&out).contains("zh"), "{}", stderr_of(&out));
}

#[test]
fn one_bad_file_does_not_lose_the_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.wav");
    std::fs::write(&bad, "nope").unwrap();
    let out = run(&[
        "transcribe",
        "--json",
        "--lang",
        "zh",
        fixture("zh_2.wav").to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert!(!out.status.success(), "a failed file must fail the command");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("zh_2.wav"),
        "the good file's transcript is still printed: {stdout}"
    );
}
