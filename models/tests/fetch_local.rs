//! Fetch behaviour end to end against a local HTTP server: source order and fallback, archive
//! and digest verification, idempotence, repair of a damaged file, best-effort models, and the
//! error a user sees when every source fails. No network beyond 127.0.0.1.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use hotline_models::digest::{ContentHasher, Digest};
use hotline_models::{DownloadLimits, FetchError, FetchOutcome, FileState, Manifest, ModelStore};

/// Serves fixed bodies by path; counts requests per path.
struct LocalServer {
    base: String,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl LocalServer {
    fn start(files: Vec<(&str, Vec<u8>)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let files: HashMap<String, Vec<u8>> =
            files.into_iter().map(|(p, b)| (p.to_string(), b)).collect();
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let served = Arc::clone(&hits);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { break };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                let path = request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("")
                    .to_string();
                *served.lock().unwrap().entry(path.clone()).or_default() += 1;
                let response = match files.get(&path) {
                    Some(body) => {
                        let mut r = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        r.extend_from_slice(body);
                        r
                    }
                    None => {
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_vec()
                    }
                };
                let _ = stream.write_all(&response);
            }
        });
        Self { base, hits }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

/// A URL on a closed local port: connection refused at once.
fn unreachable_url(path: &str) -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}{path}")
}

fn sha256(bytes: &[u8]) -> Digest {
    let mut h = ContentHasher::for_digests(&[]);
    h.update(bytes);
    h.finish().sha256_digest()
}

fn wheel(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in members {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file(*name, options).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn store(dir: &std::path::Path, manifest: &str) -> ModelStore {
    ModelStore::with_manifest(dir, Manifest::parse(manifest).unwrap()).with_download_limits(
        DownloadLimits {
            connect: Duration::from_secs(3),
            stall: Duration::from_secs(5),
        },
    )
}

const VAD: &[u8] = b"pretend onnx model bytes, long enough to compress a little .........";

fn vad_manifest(upstream: &str, wheel_url: &str, wheel_bytes: &[u8], required: bool) -> String {
    format!(
        r#"
[[model]]
id = "vad"
purpose = "test VAD"
group = "default"
required = {required}
[[model.file]]
name = "vad.onnx"
size = {size}
[[model.source]]
label = "upstream mirror"
kind = "upstream"
[model.source.yields."vad.onnx"]
url = "{upstream}"
digests = ["{digest}"]
[[model.source]]
label = "registry wheel"
kind = "registry"
archives = [{{ name = "wheel", format = "zip", size = {wsize}, sha256 = "{wdigest}", url = "{wheel_url}" }}]
[model.source.yields."vad.onnx"]
member = "wheel:pkg/data/vad.onnx"
digests = ["{digest}"]
"#,
        size = VAD.len(),
        digest = sha256(VAD),
        wsize = wheel_bytes.len(),
        wdigest = sha256(wheel_bytes),
    )
}

#[test]
fn falls_back_to_registry_then_is_idempotent_and_repairs() {
    let wheel_bytes = wheel(&[("pkg/data/vad.onnx", VAD), ("pkg/__init__.py", b"")]);
    let server = LocalServer::start(vec![("/vad.whl", wheel_bytes.clone())]);
    let dir = tempfile::tempdir().unwrap();
    let manifest = vad_manifest(
        &unreachable_url("/vad.onnx"),
        &server.url("/vad.whl"),
        &wheel_bytes,
        true,
    );
    let store = store(dir.path(), &manifest);

    let mut events = Vec::new();
    let report = store
        .fetch(&[], &mut |e| events.push(format!("{e:?}")))
        .unwrap();
    match report.outcome("vad").unwrap() {
        FetchOutcome::Fetched {
            source,
            failed_before,
            unverified,
        } => {
            assert_eq!(source, "registry wheel");
            assert_eq!(failed_before.len(), 1);
            assert_eq!(failed_before[0].source, "upstream mirror");
            assert!(unverified.is_empty());
        }
        other => panic!("unexpected outcome {other:?}"),
    }
    assert!(events.iter().any(|e| e.contains("SourceFailed")));
    assert_eq!(std::fs::read(dir.path().join("vad.onnx")).unwrap(), VAD);
    // Intermediates are gone; only the file and its stamp remain.
    assert!(!dir.path().join(".partial").exists());
    let status = &store.list()[0];
    assert!(status.is_verified(), "{status:?}");

    // Second fetch downloads nothing.
    let report = store.fetch(&["vad"], &mut |_| {}).unwrap();
    assert_eq!(report.outcome("vad"), Some(&FetchOutcome::AlreadyPresent));
    assert_eq!(server.hits("/vad.whl"), 1);

    // A damaged file is detected and fetched again.
    std::fs::write(dir.path().join("vad.onnx"), b"damaged").unwrap();
    assert!(matches!(
        store.verify(&["vad"]).unwrap()[0].files[0].state,
        FileState::Mismatch { size: 7, .. }
    ));
    let report = store.fetch(&["vad"], &mut |_| {}).unwrap();
    assert!(matches!(
        report.outcome("vad"),
        Some(FetchOutcome::Fetched { .. })
    ));
    assert_eq!(std::fs::read(dir.path().join("vad.onnx")).unwrap(), VAD);
    assert_eq!(server.hits("/vad.whl"), 2);
}

#[test]
fn a_correct_file_placed_by_hand_is_accepted_without_download() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = vad_manifest(
        &unreachable_url("/v"),
        &unreachable_url("/w.whl"),
        b"whl",
        true,
    );
    let store = store(dir.path(), &manifest);
    std::fs::write(dir.path().join("vad.onnx"), VAD).unwrap();
    assert!(matches!(
        store.list()[0].files[0].state,
        FileState::Unchecked { .. }
    ));
    let report = store.fetch(&[], &mut |_| {}).unwrap();
    assert_eq!(report.outcome("vad"), Some(&FetchOutcome::AlreadyPresent));
    assert!(store.list()[0].is_verified());
}

#[test]
fn every_source_failing_names_sources_reasons_and_the_fix() {
    let wheel_bytes = wheel(&[("pkg/data/vad.onnx", b"other bytes than expected")]);
    // The wheel is served but its sha256 is not the manifest's: the registry source must fail.
    let server = LocalServer::start(vec![("/vad.whl", wheel_bytes.clone())]);
    let dir = tempfile::tempdir().unwrap();
    let upstream = unreachable_url("/vad.onnx");
    let mut manifest = vad_manifest(&upstream, &server.url("/vad.whl"), &wheel_bytes, true);
    manifest = manifest.replace(&sha256(&wheel_bytes).to_string(), &sha256(b"x").to_string());
    let store = store(dir.path(), &manifest);
    let err = store.fetch(&[], &mut |_| {}).unwrap_err();
    let FetchError::Unavailable { failures, .. } = &err else {
        panic!("unexpected error {err:?}");
    };
    assert_eq!(failures.len(), 1);
    let text = err.to_string();
    for needle in [
        "model `vad` could not be fetched",
        "1. upstream mirror",
        &upstream,
        "2. registry wheel",
        "does not match the manifest",
        "what to do",
        "check network access to 127.0.0.1",
        "vad.onnx",
        "hotline models verify vad",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
    assert!(
        !dir.path().join("vad.onnx").exists(),
        "no half file under the final name"
    );
    assert!(!dir.path().join(".partial").exists());
}

#[test]
fn best_effort_model_failing_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = vad_manifest(
        &unreachable_url("/v"),
        &unreachable_url("/w.whl"),
        b"whl",
        false,
    );
    let store = store(dir.path(), &manifest);
    let mut warnings = 0;
    let report = store
        .fetch(&[], &mut |e| {
            if matches!(e, hotline_models::FetchEvent::Warning { .. }) {
                warnings += 1;
            }
        })
        .unwrap();
    assert_eq!(warnings, 1);
    assert!(
        matches!(report.outcome("vad"), Some(FetchOutcome::Skipped { attempts, .. }) if attempts.len() == 2)
    );
    assert_eq!(report.warnings().len(), 1);
}

#[test]
fn wrong_digest_from_upstream_falls_through_and_counts() {
    let served = AtomicUsize::new(0);
    let wheel_bytes = wheel(&[("pkg/data/vad.onnx", VAD)]);
    let bad = vec![b'x'; VAD.len()];
    let server = LocalServer::start(vec![("/vad.onnx", bad), ("/vad.whl", wheel_bytes.clone())]);
    let dir = tempfile::tempdir().unwrap();
    let manifest = vad_manifest(
        &server.url("/vad.onnx"),
        &server.url("/vad.whl"),
        &wheel_bytes,
        true,
    );
    let store = store(dir.path(), &manifest);
    let report = store
        .fetch(&[], &mut |_| {
            served.fetch_add(1, Ordering::Relaxed);
        })
        .unwrap();
    let Some(FetchOutcome::Fetched { failed_before, .. }) = report.outcome("vad") else {
        panic!("not fetched");
    };
    assert!(
        failed_before[0]
            .reason
            .contains("matches none of the manifest's digests")
    );
    assert_eq!(std::fs::read(dir.path().join("vad.onnx")).unwrap(), VAD);
    assert!(served.load(Ordering::Relaxed) > 0);
}

#[test]
fn unknown_model_id_is_rejected_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::new(dir.path().join("m")).unwrap();
    let err = store.fetch(&["no-such-model"], &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("unknown model `no-such-model`"));
    assert!(err.to_string().contains("whisper-base-q8_0"));
    assert!(!dir.path().join("m").exists());
}

#[test]
fn platform_limited_model_elsewhere_fails_with_the_manifest_hint() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = vad_manifest(&unreachable_url("/v"), &unreachable_url("/w.whl"), b"whl", true)
        .replace(
            "required = true",
            "required = true\nplatforms = [\"plan9-mips\"]\nother_platforms_hint = \"install it yourself and set VAD_PATH\"",
        );
    let store = store(dir.path(), &manifest);
    let err = store.fetch(&[], &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("plan9-mips only"), "{err}");
    assert!(err.contains(&hotline_models::current_platform()), "{err}");
    assert!(
        err.contains("install it yourself and set VAD_PATH"),
        "{err}"
    );
}
