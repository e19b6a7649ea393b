//! Helpers shared by the integration tests: the built binary, fixture paths, error rates.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod baresip_peer;
pub mod browser_tools;
pub mod browser_visitor;
pub mod call_audio;
pub mod doors_rig;
pub mod hotline_server;
pub mod long_call;
pub mod media_caller;
pub mod review_session;
pub mod s3_server;
/// SIP requests as a balancer, a trunk or a scanner sends them (shared with sip-bridge's tests).
#[path = "../../sip-bridge/tests/support/sip_probe.rs"]
pub mod sip_probe;
pub mod softphone_rig;
pub mod store_rig;

/// The `hotline` binary under test: cargo's build, or `HOTLINE_TEST_BIN` (a copy of it kept
/// aside where several checkouts share one target folder and may rebuild it mid-run).
pub fn hotline() -> Command {
    let binary = std::env::var_os("HOTLINE_TEST_BIN")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_hotline").into());
    let mut cmd = Command::new(binary);
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

pub fn run(args: &[&str]) -> Output {
    hotline()
        .args(args)
        .output()
        .expect("the hotline binary runs")
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/speech")
        .join(name)
}

/// The models directory the tests use (fetched by `make test` before the tests run).
pub fn models_dir() -> PathBuf {
    std::env::var_os("HOTLINE_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("models"))
}

/// A model file that must be present; panics with the command that fetches it.
pub fn require_model_file(name: &str) -> PathBuf {
    let path = models_dir().join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `make models models-test-data` (or `hotline models fetch --test-data`) first",
        path.display()
    );
    path
}

/// Lines of the fixture manifest: (file, lang, text).
pub fn fixture_manifest() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(fixture("manifest.tsv")).expect("fixture manifest");
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let mut parts = line.split('\t');
            Some((
                parts.next()?.to_string(),
                parts.next()?.to_string(),
                parts.next()?.to_string(),
            ))
        })
        .collect()
}

fn comparable(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Character error rate of `hypothesis` against `reference`, ignoring punctuation and spaces.
pub fn character_error_rate(reference: &str, hypothesis: &str) -> f64 {
    let r = comparable(reference);
    let h = comparable(hypothesis);
    if r.is_empty() {
        return if h.is_empty() { 0.0 } else { 1.0 };
    }
    let mut previous: Vec<usize> = (0..=h.len()).collect();
    for (i, rc) in r.iter().enumerate() {
        let mut current = vec![i + 1; h.len() + 1];
        for (j, hc) in h.iter().enumerate() {
            let substitution = previous[j] + usize::from(rc != hc);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[h.len()] as f64 / r.len() as f64
}

/// Word error rate for English (whitespace words, punctuation dropped, lower case).
pub fn word_error_rate(reference: &str, hypothesis: &str) -> f64 {
    let words = |t: &str| -> Vec<String> {
        t.split_whitespace()
            .map(|w| {
                w.chars()
                    .filter(|c| c.is_alphanumeric())
                    .flat_map(char::to_lowercase)
                    .collect::<String>()
            })
            .filter(|w| !w.is_empty())
            .collect()
    };
    let (r, h) = (words(reference), words(hypothesis));
    if r.is_empty() {
        return if h.is_empty() { 0.0 } else { 1.0 };
    }
    let mut previous: Vec<usize> = (0..=h.len()).collect();
    for (i, rw) in r.iter().enumerate() {
        let mut current = vec![i + 1; h.len() + 1];
        for (j, hw) in h.iter().enumerate() {
            current[j + 1] = (previous[j] + usize::from(rw != hw))
                .min(previous[j + 1] + 1)
                .min(current[j] + 1);
        }
        previous = current;
    }
    previous[h.len()] as f64 / r.len() as f64
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind a loopback port")
        .local_addr()
        .expect("local address")
        .port()
}

/// `GET path` over plain HTTP/1.0; `None` while the server is not up.
pub fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    Some(reply)
}

#[test]
fn error_rates_count_edits() {
    assert_eq!(character_error_rate("甚至出现", "甚至出现"), 0.0);
    assert_eq!(character_error_rate("甚至出现", "甚至出线"), 0.25);
    assert_eq!(character_error_rate("你好。", "你好"), 0.0);
    assert_eq!(
        word_error_rate("How long does it take?", "how long does it take"),
        0.0
    );
    assert_eq!(word_error_rate("a b c d", "a x c"), 0.5);
}

/// A free UDP port on loopback (for SIP peers).
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .expect("bind a loopback UDP port")
        .local_addr()
        .expect("local address")
        .port()
}

/// Edits to turn `reference` into the closest stretch of `hypothesis`, per reference
/// character (ignoring punctuation, spaces and case): how well `hypothesis` *contains*
/// `reference` when it also holds other speech (a greeting, a briefing).
pub fn contained_error_rate(reference: &str, hypothesis: &str) -> f64 {
    let r = comparable(reference);
    let h = comparable(hypothesis);
    if r.is_empty() {
        return 0.0;
    }
    // Semi-global alignment: the stretch of `hypothesis` may start and end anywhere.
    let mut previous = vec![0usize; h.len() + 1];
    for (i, rc) in r.iter().enumerate() {
        let mut current = vec![i + 1; h.len() + 1];
        for (j, hc) in h.iter().enumerate() {
            current[j + 1] = (previous[j] + usize::from(rc != hc))
                .min(previous[j + 1] + 1)
                .min(current[j] + 1);
        }
        previous = current;
    }
    previous.into_iter().min().unwrap_or(r.len()) as f64 / r.len() as f64
}

#[test]
fn contained_error_rate_finds_the_reference_inside_other_speech() {
    assert_eq!(
        contained_error_rate("delivery", "hello delivery goodbye"),
        0.0
    );
    assert_eq!(
        contained_error_rate("delivery", "hello delivary goodbye"),
        0.125
    );
    assert!(contained_error_rate("delivery", "we accept cards") > 0.5);
}
