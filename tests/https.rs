//! HTTPS and WSS from `[server] tls_cert` / `tls_key`, through `hotline serve` with a
//! self-signed certificate made at test time: `/healthz` and `/readyz` over HTTPS, a call over
//! `wss://.../media` that hears the bot's greeting, the review pages' cookies `Secure`, plain
//! HTTP on the same port refused with a 400 that says to use HTTPS, a renewed certificate
//! served without a restart (a broken renewal logged, the old one kept), and a SIGTERM drain
//! that still ends in exit 0. Bad settings (a file without the other, a missing file, a file that is
//! not PEM, a key of another certificate) stop `hotline serve` before any model loads, naming
//! the file and the fix.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio_tungstenite::tungstenite::Message;

use support::media_caller::media_level;
use support::{free_port, http_get};

/// A self-signed certificate for 127.0.0.1 and localhost: (certificate PEM, key PEM).
fn self_signed() -> (String, String) {
    let made =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .expect("rcgen makes a certificate");
    (made.cert.pem(), made.signing_key.serialize_pem())
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write a test file");
    path
}

/// `hotline serve` with `cert` and `key` as the TLS settings given (None: not set).
fn serve(dir: &Path, port: u16, cert: Option<&Path>, key: Option<&Path>) -> std::process::Command {
    let mut command = support::hotline();
    command
        .envs(support::store_rig::env(dir))
        .env("HOTLINE_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("HOTLINE_SERVER__DRAIN_TIMEOUT_S", "5")
        .env("RUST_LOG", "info,ort=warn")
        .env("NO_COLOR", "1")
        .arg("serve");
    if let Some(cert) = cert {
        command.env("HOTLINE_SERVER__TLS_CERT", cert);
    }
    if let Some(key) = key {
        command.env("HOTLINE_SERVER__TLS_KEY", key);
    }
    command
}

#[test]
fn bad_tls_settings_stop_the_node_with_the_file_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed();
    let (_, other_key) = self_signed();
    let cert = write(dir.path(), "cert.pem", &cert);
    let key = write(dir.path(), "key.pem", &key);
    let other_key = write(dir.path(), "other-key.pem", &other_key);
    let not_pem = write(dir.path(), "notes.txt", "this is not a certificate\n");
    let missing = dir.path().join("missing.pem");
    let cases: [(Option<&Path>, Option<&Path>, &[&str]); 7] = [
        (
            Some(&cert),
            None,
            &["server.tls_key", "HOTLINE_SERVER__TLS_KEY"],
        ),
        (
            None,
            Some(&key),
            &["server.tls_cert", "HOTLINE_SERVER__TLS_CERT"],
        ),
        (
            Some(&missing),
            Some(&key),
            &["missing.pem", "tls_cert", "may read"],
        ),
        (Some(&cert), Some(&missing), &["missing.pem", "tls_key"]),
        (
            Some(&not_pem),
            Some(&key),
            &["notes.txt", "BEGIN CERTIFICATE"],
        ),
        (
            Some(&cert),
            Some(&not_pem),
            &["notes.txt", "BEGIN PRIVATE KEY"],
        ),
        (
            Some(&cert),
            Some(&other_key),
            &["other-key.pem", "does not belong", "cert.pem"],
        ),
    ];
    for (cert, key, named) in cases {
        let port = free_port();
        let started = Instant::now();
        let run = serve(dir.path(), port, cert, key)
            .stdin(Stdio::null())
            .output()
            .expect("the hotline binary runs");
        let stderr = String::from_utf8_lossy(&run.stderr);
        let case = format!("cert {cert:?}, key {key:?}");
        assert!(!run.status.success(), "{case}: must not start\n{stderr}");
        assert!(!stderr.contains("panicked"), "{case}: a panic\n{stderr}");
        for word in named {
            assert!(
                stderr.contains(word),
                "{case}: {word:?} not named\n{stderr}"
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{case}: refused before any model loads"
        );
        assert!(
            http_get(port, "/healthz").is_none(),
            "{case}: nothing listens"
        );
    }
}

/// A TLS client trusting only `cert_pem`.
fn client_config(cert_pem: &str) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// `hotline serve` over HTTPS, killed on drop.
struct TlsServer {
    child: Child,
    log: PathBuf,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TlsServer {
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

/// Opens `/media` over WSS, starts a stream and sends paced silence until the bot's greeting
/// is heard (true) or `within` passes.
async fn wss_call_hears_the_bot(
    port: u16,
    tls: Arc<rustls::ClientConfig>,
    within: Duration,
) -> bool {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("TCP to the HTTPS port");
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let stream = tokio_rustls::TlsConnector::from(tls)
        .connect(name, tcp)
        .await
        .expect("the TLS handshake on /media's port");
    let (socket, response) =
        tokio_tungstenite::client_async(format!("wss://127.0.0.1:{port}/media"), stream)
            .await
            .expect("the WebSocket upgrade over TLS");
    assert_eq!(response.status(), 101);
    let (mut send, mut receive) = socket.split();
    let sid = "MZtls";
    for message in [
        serde_json::json!({"event": "connected", "protocol": "Call", "version": "1.0.0"}),
        serde_json::json!({
            "event": "start", "sequenceNumber": "1", "streamSid": sid,
            "start": {"accountSid": "AC1", "streamSid": sid, "callSid": "CAtls",
                "tracks": ["inbound"],
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                "customParameters": {"lang": "en", "from": "+85291234567"}}
        }),
    ] {
        send.send(Message::text(message.to_string())).await.unwrap();
    }
    use base64::Engine as _;
    let silence = base64::engine::general_purpose::STANDARD.encode([0xFFu8; 160]);
    let media = serde_json::json!({"event": "media", "streamSid": sid,
        "media": {"track": "inbound", "payload": silence}})
    .to_string();
    let mut clock = tokio::time::interval(Duration::from_millis(20));
    let until = Instant::now() + within;
    let mut heard = false;
    while Instant::now() < until && !heard {
        tokio::select! {
            _ = clock.tick() => {
                if send.send(Message::text(media.clone())).await.is_err() {
                    break;
                }
            }
            message = receive.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    heard = media_level(text.as_str()).is_some_and(|level| level >= -45.0);
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
    let stop = serde_json::json!({"event": "stop", "streamSid": sid}).to_string();
    let _ = send.send(Message::text(stop)).await;
    let _ = send.close().await;
    heard
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_and_wss_serve_and_plain_http_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (cert_pem, key_pem) = self_signed();
    let cert = write(dir.path(), "cert.pem", &cert_pem);
    let key = write(dir.path(), "key.pem", &key_pem);
    let port = free_port();
    let log = dir.path().join("serve.log");
    let out = std::fs::File::create(&log).unwrap();
    let child = serve(dir.path(), port, Some(&cert), Some(&key))
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("the hotline binary runs");
    let mut server = TlsServer { child, log };
    let https = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("https://127.0.0.1:{port}");

    // Warm and ready, over HTTPS.
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        if let Ok(response) = https.get(format!("{base}/readyz")).send().await
            && response.status() == 200
        {
            break;
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!(
                "hotline serve exited early: {status}\n{}",
                server.log_tail()
            );
        }
        assert!(
            Instant::now() < deadline,
            "no https /readyz 200 within 240 s\n{}",
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let health = https.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let metrics = https.get(format!("{base}/metrics")).send().await.unwrap();
    assert!(
        metrics
            .text()
            .await
            .unwrap()
            .contains("hotline_calls_limit")
    );
    assert!(
        std::fs::read_to_string(&server.log)
            .unwrap()
            .contains(&format!("https://127.0.0.1:{port}")),
        "the start-up line says https"
    );

    // The review pages know they are served over HTTPS: their cookies are Secure.
    let login = https
        .get(format!("{base}/review/login"))
        .send()
        .await
        .unwrap();
    let cookie = login
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(cookie.contains("; Secure"), "login cookie: {cookie}");

    // A client that does not trust the certificate is refused by its own TLS.
    let untrusting = reqwest::Client::new();
    assert!(
        untrusting
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_err()
    );

    // Plain HTTP to the HTTPS port: no page, a 400 saying to use HTTPS.
    let plain = tokio::task::spawn_blocking(move || http_get(port, "/healthz"))
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        plain.starts_with("HTTP/1.1 400"),
        "plain HTTP answered: {plain:?}"
    );
    assert!(plain.contains("https://"), "{plain:?}");
    // A plain WebSocket client fails too.
    assert!(
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/media"))
            .await
            .is_err()
    );

    // A call over WSS hears the greeting.
    assert!(
        wss_call_hears_the_bot(port, client_config(&cert_pem), Duration::from_secs(30)).await,
        "no greeting over wss://…/media\n{}",
        server.log_tail()
    );

    // Renewal without a restart. First a broken one (the key of another certificate): logged,
    // and the certificate in service stays.
    let (_, stray_key) = self_signed();
    write(dir.path(), "key.pem", &stray_key);
    let deadline = Instant::now() + Duration::from_secs(25);
    while !std::fs::read_to_string(&server.log)
        .unwrap_or_default()
        .contains("the TLS files changed but cannot be used")
    {
        assert!(
            Instant::now() < deadline,
            "the broken renewal was not reported\n{}",
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let trusting_old = || {
        reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
            .build()
            .unwrap()
    };
    let still = trusting_old()
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), 200, "the old certificate stopped serving");
    // Then a good one: it serves the next connections; the old one no longer does.
    let (renewed_pem, renewed_key) = self_signed();
    write(dir.path(), "cert.pem", &renewed_pem);
    write(dir.path(), "key.pem", &renewed_key);
    let renewed = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(renewed_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let renewal_written = Instant::now();
    loop {
        if let Ok(response) = renewed.get(format!("{base}/healthz")).send().await
            && response.status() == 200
        {
            break;
        }
        assert!(
            renewal_written.elapsed() < Duration::from_secs(25),
            "the renewed certificate never served\n{}",
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    println!(
        "renewed certificate served {:?} after it was written",
        renewal_written.elapsed()
    );
    assert!(
        trusting_old()
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_err(),
        "the old certificate still serves new connections"
    );

    // SIGTERM drains and exits 0, with TLS as without.
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Ok(Some(status)) = server.child.try_wait() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "still running 30 s after SIGTERM\n{}",
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "exit {status}\n{}", server.log_tail());
}
