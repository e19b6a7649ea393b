//! `hotline serve` starts, answers /healthz, and stops on SIGTERM.

mod support;

use std::time::{Duration, Instant};

use support::{free_port, http_get as get};

#[test]
fn serve_answers_healthz() {
    let port = free_port();
    let mut child = support::hotline()
        .env("HOTLINE_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .arg("serve")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let reply = loop {
        if let Some(reply) = get(port, "/healthz") {
            break reply;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("hotline serve exited early: {status}");
        }
        assert!(Instant::now() < deadline, "no /healthz answer within 60 s");
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = std::process::Command::new("kill")
        .arg(child.id().to_string())
        .status();
    let status = child.wait().unwrap();
    assert!(
        reply.starts_with("HTTP/1.1 200") || reply.starts_with("HTTP/1.0 200"),
        "{reply}"
    );
    assert!(reply.contains("\"status\":\"ok\""), "{reply}");
    assert!(reply.contains("whisper-base-q8_0"), "{reply}");
    assert!(
        status.success() || status.code().is_none(),
        "serve exit: {status}"
    );
}
