//! The rig of the hardening tests (`tests/admission.rs`, `tests/drain.rs`, `tests/media_token.rs`):
//! `hotline serve` over a temporary data folder with a config file setting `[server] max_calls`
//! and `drain_timeout_s`, `[media] token` and SIP on loopback (trunk 127.0.0.1), warm (every
//! answer left to synthesize on demand), and what the tests ask of it: `/readyz` as status and
//! JSON, `/metrics` lines, SIGTERM and the exit status.

use std::path::PathBuf;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use super::{free_port, free_udp_port, http_get};

/// What the node is configured with.
#[derive(Debug, Clone)]
pub struct Doors {
    pub max_calls: usize,
    pub drain_timeout_s: u64,
    /// `[media] token`; empty: none.
    pub tokens: Vec<&'static str>,
    /// More settings, as `HOTLINE_SECTION__KEY` environment overrides.
    pub env: Vec<(&'static str, &'static str)>,
}

/// A running `hotline serve`, killed on drop.
pub struct DoorsServer {
    child: Child,
    pub port: u16,
    pub sip: std::net::SocketAddr,
    pub log: PathBuf,
    /// Its `hotline.toml` (for `hotline transcribe` with the same models).
    pub config: PathBuf,
    /// Dropped last: the server writes into it.
    _dir: tempfile::TempDir,
}

impl Drop for DoorsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl DoorsServer {
    /// Starts the node and waits (240 s at most) until `/readyz` says 200.
    pub fn start(doors: &Doors) -> DoorsServer {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let (port, sip_port) = (free_port(), free_udp_port());
        let rtp = super::softphone_rig::rtp_window(20);
        let token = if doors.tokens.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = doors.tokens.iter().map(|t| format!("{t:?}")).collect();
            format!("[media]\ntoken = [{}]\n", list.join(", "))
        };
        let config = format!(
            r#"[server]
listen = "127.0.0.1:{port}"
max_calls = {max_calls}
drain_timeout_s = {drain}
[models]
dir = "{models}"
[tts]
warm_answers_secs = 0
[store]
database = "{data}/calls.sqlite"
[recording]
dir = "{data}/recordings"
[webrtc]
bind_address = "127.0.0.1"
{token}[sip]
enabled = true
udp_listen = "127.0.0.1:{sip_port}"
tcp_listen = ""
rtp_port_min = {rtp}
rtp_port_max = {rtp_max}
trunk_allowlist = ["127.0.0.1"]
"#,
            max_calls = doors.max_calls,
            drain = doors.drain_timeout_s,
            models = super::models_dir().display(),
            data = dir.path().display(),
            rtp_max = rtp + 19,
        );
        let config_path = dir.path().join("hotline.toml");
        std::fs::write(&config_path, config).expect("write the config");
        let log = dir.path().join("serve.log");
        let out = std::fs::File::create(&log).expect("a log file");
        let child = super::hotline()
            .arg("--config")
            .arg(&config_path)
            .arg("serve")
            .envs(doors.env.iter().copied())
            .env("RUST_LOG", "info,ort=warn,rsipstack=warn")
            .env("NO_COLOR", "1")
            .stdout(out.try_clone().expect("log handle"))
            .stderr(out)
            .spawn()
            .expect("the hotline binary runs");
        let mut server = DoorsServer {
            child,
            port,
            sip: ([127, 0, 0, 1], sip_port).into(),
            log,
            config: config_path.clone(),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(240);
        while server.readyz().0 != 200 {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "hotline serve exited early: {status}\n{}",
                    server.log_tail()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no /readyz 200 within 240 s\n{}",
                server.log_tail()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        server
    }

    /// `GET /readyz`: the status code (0 when not answering) and the JSON body.
    pub fn readyz(&self) -> (u16, serde_json::Value) {
        let Some(reply) = http_get(self.port, "/readyz") else {
            return (0, serde_json::Value::Null);
        };
        let status = reply
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        let body = reply
            .split_once("\r\n\r\n")
            .and_then(|(_, body)| serde_json::from_str(body).ok())
            .unwrap_or_default();
        (status, body)
    }

    /// Polls `/readyz` until its `status` is `word` (true) or `within` passes (false).
    pub fn readyz_becomes(&self, word: &str, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.readyz().1["status"] == word {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// The value of metric line `name` (e.g. `hotline_calls_active`) on `/metrics`.
    pub fn metric(&self, name: &str) -> Option<f64> {
        let text = http_get(self.port, "/metrics")?;
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
    }

    /// Sends SIGTERM, as an orchestrator stopping the node does.
    pub fn sigterm(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM failed");
    }

    /// The exit status once the process has ended, or None if it still runs after `within`.
    pub fn exited_within(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `POST /webrtc/calls` with `offer` as the page's SDP: the status and the `Retry-After`.
    pub fn post_offer(&self, offer: &str) -> (u16, Option<String>) {
        use std::io::{Read, Write};
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return (0, None);
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let request = format!(
            "POST /webrtc/calls HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{offer}",
            offer.len()
        );
        let mut reply = String::new();
        if stream.write_all(request.as_bytes()).is_err()
            || stream.read_to_string(&mut reply).is_err()
        {
            return (0, None);
        }
        let status = reply
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        let retry_after = reply.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("retry-after")
                .then(|| value.trim().to_string())
        });
        (status, retry_after)
    }

    /// The status of the answer to an OPTIONS sent to the node's SIP port over UDP (None: no
    /// answer within 3 s).
    pub async fn options_status(&self) -> Option<u16> {
        let sip = self.sip;
        tokio::task::spawn_blocking(move || {
            super::sip_probe::udp("OPTIONS", sip, None, Duration::from_secs(3))
        })
        .await
        .ok()
        .flatten()
        .as_deref()
        .and_then(super::sip_probe::status_of)
    }

    /// The URL of `/media`, with `?token=` when given.
    pub fn media_url(&self, token: Option<&str>) -> String {
        match token {
            Some(token) => format!("ws://127.0.0.1:{}/media?token={token}", self.port),
            None => format!("ws://127.0.0.1:{}/media", self.port),
        }
    }

    /// The last 40 lines of the log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

/// The HTTP status of a refused WebSocket upgrade and its `Retry-After`, from the client's
/// error (None when it was not an HTTP refusal).
pub fn refusal(error: &tokio_tungstenite::tungstenite::Error) -> Option<(u16, Option<String>)> {
    match error {
        tokio_tungstenite::tungstenite::Error::Http(response) => Some((
            response.status().as_u16(),
            response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        )),
        _ => None,
    }
}
