//! `hotline serve` as a child process for the tests with real SIP peers: started with a config
//! file, ready once `/healthz` answers over HTTP and the SIP listener answers OPTIONS, logging
//! to a file the test reads (whole, or from where a call began), and killed by pid on drop.

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

/// A running `hotline serve`.
pub struct HotlineServer {
    child: Child,
    /// Its stdout and stderr (`RUST_LOG=info`, no colours).
    pub log: PathBuf,
    pub config: PathBuf,
    pub http_port: u16,
    pub sip_port: u16,
}

impl Drop for HotlineServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends OPTIONS to the SIP listener; true once it answers 200.
fn sip_answers_options(port: u16) -> bool {
    let Ok(socket) = UdpSocket::bind("127.0.0.1:0") else {
        return false;
    };
    let Ok(local) = socket.local_addr() else {
        return false;
    };
    let request = format!(
        "OPTIONS sip:hotline@127.0.0.1:{port} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {local};branch=z9hG4bKprobe{n}\r\n\
         From: <sip:probe@{local}>;tag=probe\r\n\
         To: <sip:hotline@127.0.0.1:{port}>\r\n\
         Call-ID: probe-{n}@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n\
         Content-Length: 0\r\n\r\n",
        n = local.port()
    );
    let _ = socket.set_read_timeout(Some(Duration::from_millis(500)));
    if socket
        .send_to(request.as_bytes(), ("127.0.0.1", port))
        .is_err()
    {
        return false;
    }
    let mut reply = [0u8; 2048];
    matches!(socket.recv(&mut reply), Ok(n) if reply[..n].starts_with(b"SIP/2.0 200"))
}

impl HotlineServer {
    /// Starts `hotline --config CONFIG serve`, logging to `log`, and waits (90 s at most) until
    /// `http_port` serves `/healthz` and `sip_port` answers OPTIONS; both ports are the ones
    /// the config names.
    pub fn start(
        config: &Path,
        http_port: u16,
        sip_port: u16,
        log: &Path,
    ) -> Result<HotlineServer, String> {
        let out = std::fs::File::create(log)
            .map_err(|e| format!("cannot create the serve log {}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("serve log handle: {e}"))?;
        let child = super::hotline()
            .arg("--config")
            .arg(config)
            .arg("serve")
            .env("RUST_LOG", "info,ort=warn,rsipstack=warn")
            .env("NO_COLOR", "1")
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("the hotline binary does not run: {e}"))?;
        let mut server = HotlineServer {
            child,
            log: log.to_path_buf(),
            config: config.to_path_buf(),
            http_port,
            sip_port,
        };
        let deadline = Instant::now() + Duration::from_secs(90);
        while super::http_get(http_port, "/healthz").is_none() || !sip_answers_options(sip_port) {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!(
                    "hotline serve exited early: {status}\n{}",
                    server.log_tail()
                ));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "hotline serve: no /healthz and SIP OPTIONS answer within 90 s\n{}",
                    server.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(server)
    }

    /// Waits (`within` at most) until `/readyz` says 200: warm-up done (every model run once,
    /// the greetings, holding phrase, apology and FAQ answers synthesized), as a load balancer
    /// waits before it sends a node calls.
    pub fn wait_until_ready(&mut self, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        while !super::http_get(self.http_port, "/readyz").is_some_and(|r| r.contains(" 200 ")) {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "hotline serve exited while warming up: {status}\n{}",
                    self.log_tail()
                ));
            }
            if Instant::now() >= deadline {
                return Err(self.with_log(format!("no /readyz 200 within {within:?}")));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        Ok(())
    }

    /// Bytes logged so far: where the log of what happens next begins.
    pub fn log_len(&self) -> usize {
        std::fs::metadata(&self.log).map_or(0, |m| m.len() as usize)
    }

    /// The log from byte `from` on (from [`HotlineServer::log_len`]).
    pub fn log_since(&self, from: usize) -> String {
        let bytes = std::fs::read(&self.log).unwrap_or_default();
        String::from_utf8_lossy(bytes.get(from..).unwrap_or_default()).into_owned()
    }

    /// The last 30 lines, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = self.log_since(0);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// `error` followed by the end of the log.
    pub fn with_log(&self, error: String) -> String {
        format!("{error}\n--- hotline serve:\n{}", self.log_tail())
    }
}
