//! `hotline serve` starts, answers /healthz, warms up (every FAQ answer's opening synthesized
//! before /readyz says ready), and stops on SIGTERM.

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
    // Ready only when warm: the demo FAQ's answers (36 rows, one opening each) are in the
    // speech cache before the first call.
    let deadline = Instant::now() + Duration::from_secs(240);
    let ready = loop {
        match get(port, "/readyz") {
            Some(reply) if reply.contains(" 200 ") => break reply,
            _ => {}
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("hotline serve exited early: {status}");
        }
        assert!(Instant::now() < deadline, "not ready within 240 s");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(ready.contains("\"answers_cached\":36"), "{ready}");
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
