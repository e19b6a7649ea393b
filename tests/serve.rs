//! `hotline serve` starts, answers /healthz, and stops on SIGTERM.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    Some(reply)
}

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
