//! The voice widget in a real browser: headless Debian `chromium` driven by the node scripts in
//! `tests/browser/` (npm `playwright-core`, installed by `make test`).
//!
//! - `widget_ui_in_chromium`: the widget on its own, no engine (request interception serves the
//!   page; a stub page answers the call): loading without console errors or external requests,
//!   a shadow root that hostile page CSS cannot break, the insecure-origin, microphone-denied,
//!   no-microphone, refusal (403/415/503 + Retry-After/400/unreachable), dropped-call and ICE-
//!   failure messages, captions, typed messages, ping, mute and hang-up.
//! - `widget_call_through_hotline_serve`: `hotline serve` with the real models; the browser's
//!   fake microphone asks a question (a speech fixture), the bot's caption and audio come back
//!   (the audio is transcribed by the engine's own ASR), a typed message is answered, and the
//!   hang-up frees the call (`hotline_calls_active` on `/metrics`).
//!
//! Both skip, saying why, only when Chromium, node or `tests/browser/node_modules` is missing.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::browser_tools::{browser_dir, missing_browser_tools};
use support::{contained_error_rate, free_port, free_udp_port, http_get};

macro_rules! skip_without_browser {
    () => {
        if let Some(reason) = missing_browser_tools() {
            eprintln!("SKIPPED: {reason}");
            return;
        }
    };
}

/// Runs `node SCRIPT ARGS` in tests/browser; its stdout's last line as JSON.
fn node_json(script: &str, args: &[&str], timeout: Duration) -> Value {
    let mut child = Command::new("node")
        .arg(script)
        .args(args)
        .current_dir(browser_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs");
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("node {script} did not finish within {timeout:?}");
            }
        }
    }
    let output = child.wait_with_output().expect("node output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or("");
    serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("node {script} printed no JSON ({e}): {stdout}"))
}

#[test]
fn widget_ui_in_chromium() {
    skip_without_browser!();
    let report = node_json("widget_ui.mjs", &[], Duration::from_secs(240));
    let scenarios = report["scenarios"].as_array().expect("scenarios");
    let mut failed = Vec::new();
    for s in scenarios {
        println!(
            "{:<16} {:>6} ms  {}",
            s["name"].as_str().unwrap_or("?"),
            s["ms"],
            if s["ok"] == true { "ok" } else { "FAILED" }
        );
        if s["ok"] != true {
            failed.push(format!(
                "{}: failed checks {} {}\n  details: {}",
                s["name"], s["failed"], s["error"], s["details"]
            ));
        }
    }
    let names: Vec<&str> = scenarios
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    for expected in [
        "load",
        "insecure",
        "mic_denied",
        "no_mic",
        "refusals",
        "stub_call",
        "own_button",
        "bot_hangs_up",
        "dropped",
        "ice_failed",
    ] {
        assert!(names.contains(&expected), "scenario {expected} did not run");
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// `hotline serve` on free ports, killed on drop.
struct Serve {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    fn start(dir: &Path) -> Serve {
        let port = free_port();
        let media = free_udp_port().clamp(20000, 65000);
        let log = dir.join("serve.log");
        let out = std::fs::File::create(&log).expect("serve log");
        let child = support::hotline()
            .arg("serve")
            .env("HOTLINE_SERVER__LISTEN", format!("127.0.0.1:{port}"))
            .env("HOTLINE_WEBRTC__PORTS", format!("{media}-{}", media + 19))
            .env("RUST_LOG", "info,ort=warn,webrtc=warn,rtc=warn")
            .env("NO_COLOR", "1")
            .stdout(out.try_clone().expect("log handle"))
            .stderr(out)
            .spawn()
            .expect("hotline serve starts");
        let mut serve = Serve { child, port, log };
        // Ready = every model ran once, so the call is answered at full speed.
        let deadline = Instant::now() + Duration::from_secs(240);
        loop {
            if http_get(port, "/readyz").is_some_and(|r| r.contains(" 200 ")) {
                break;
            }
            if let Ok(Some(status)) = serve.child.try_wait() {
                panic!("hotline serve exited early: {status}\n{}", serve.log_tail());
            }
            assert!(
                Instant::now() < deadline,
                "hotline serve not ready within 240 s\n{}",
                serve.log_tail()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
        serve
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// A gauge or counter from `/metrics`.
    fn metric(&self, name: &str) -> Option<f64> {
        let body = http_get(self.port, "/metrics")?;
        body.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
    }
}

fn transcribe(wav: &Path, lang: &str) -> String {
    let output = support::hotline()
        .args(["transcribe", "--lang", lang, "--json"])
        .arg(wav)
        .stderr(Stdio::inherit())
        .output()
        .expect("hotline transcribe runs");
    assert!(output.status.success(), "hotline transcribe failed");
    let json: Value = serde_json::from_str(String::from_utf8_lossy(&output.stdout).trim())
        .expect("hotline transcribe --json prints JSON");
    json["text"].as_str().unwrap_or("").to_string()
}

#[test]
fn widget_call_through_hotline_serve() {
    skip_without_browser!();
    support::require_model_file("ggml-base-q8_0.bin");
    let dir = tempfile::Builder::new()
        .prefix("hotline-widget-")
        .tempdir()
        .expect("temp dir");
    let serve = Serve::start(dir.path());
    let calls_before = serve.metric("hotline_calls_total").unwrap_or(0.0);

    let url = format!("http://127.0.0.1:{}/", serve.port);
    let question = support::fixture("en_2.wav"); // "How long does delivery take?"
    let typed = "Do you accept credit cards?";
    let out = dir.path().join("browser");
    let r = node_json(
        "widget_call.mjs",
        &[
            "--url",
            &url,
            "--wav",
            question.to_str().expect("utf-8 path"),
            "--lang",
            "en",
            "--text",
            typed,
            "--out",
            out.to_str().expect("utf-8 path"),
            "--lead",
            "6",
        ],
        Duration::from_secs(180),
    );
    let context = || format!("\nbrowser: {r}\n--- hotline serve:\n{}", serve.log_tail());
    println!("timings: {}", r["timings"]);
    println!("audio: {}", r["audio"]);
    println!("spoken: {}  typed: {}", r["spoken"], r["typed"]);
    assert!(r["ok"] == true, "the call did not go through{}", context());

    // The page: no console errors, nothing loaded from anywhere but the server.
    assert_eq!(r["consoleErrors"], serde_json::json!([]), "{}", context());
    assert_eq!(r["pageErrors"], serde_json::json!([]), "{}", context());
    assert_eq!(r["external"], serde_json::json!([]), "{}", context());
    let requests: Vec<&str> = r["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let origin = url.trim_end_matches('/');
    for expected in [
        "GET /widget.js",
        "GET /webrtc/config",
        "POST /webrtc/calls?lang=en",
    ] {
        assert!(
            requests.iter().any(|r| r.replace(origin, "") == expected),
            "no request {expected}: {requests:?}"
        );
    }

    // Connected: ready with the call id, the state followed the call.
    assert!(
        r["ready"]["call"].as_str().is_some_and(|c| !c.is_empty()),
        "{}",
        context()
    );
    let states: Vec<&str> = r["states"]
        .as_array()
        .expect("states")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for s in ["connecting", "listening", "speaking", "ended"] {
        assert!(states.contains(&s), "state {s} never shown: {states:?}");
    }

    // The spoken question was heard and answered with a caption and audio.
    let heard = r["spoken"]["callerText"].as_str().unwrap_or("");
    assert!(
        contained_error_rate("How long does delivery take", heard) <= 0.3,
        "the caller's caption {heard:?} is not the question"
    );
    let answer = r["spoken"]["botText"].as_str().unwrap_or("");
    assert!(
        answer.contains("ship") || answer.contains("Delivery") || answer.contains("deliver"),
        "the bot's caption {answer:?} does not answer the delivery question{}",
        context()
    );
    let audible = r["audio"]["answerAudibleS"].as_f64().unwrap_or(0.0);
    assert!(
        audible >= 1.0,
        "only {audible} s of audible bot audio reached the page during the answer"
    );
    let said = transcribe(&out.join("answer.wav"), "en").to_lowercase();
    println!("the page heard: {said:?}");
    assert!(
        said.contains("ship") || said.contains("deliver") || said.contains("hours"),
        "the answer's audio says {said:?}, not the delivery answer"
    );

    // The typed message was answered.
    let typed_answer = r["typed"]["botText"].as_str().unwrap_or("");
    assert!(
        ["Visa", "card", "Mastercard", "UnionPay", "Alipay"]
            .iter()
            .any(|w| typed_answer.contains(w)),
        "the typed question got {typed_answer:?}{}",
        context()
    );

    // Hang-up ended the call at once and freed it on the server.
    assert_eq!(r["ended"]["reason"], "caller_hung_up");
    assert!(r["timings"]["hangUpToEndedMs"].as_f64().unwrap_or(1e9) < 1000.0);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let active = serve.metric("hotline_calls_active");
        let total = serve.metric("hotline_calls_total").unwrap_or(0.0);
        if active == Some(0.0) && total >= calls_before + 1.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the call is still counted active 10 s after the hang-up (active {active:?}, total {total}){}",
            context()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
