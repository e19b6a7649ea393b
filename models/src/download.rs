//! HTTP(S) downloads into a file with progress, size checks and timeouts (ureq, rustls with the
//! platform's trust store). Failures become one-line reasons that fetch errors can quote.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::time::Duration;

use ureq::Agent;
use ureq::tls::{RootCerts, TlsConfig};

use crate::digest::{ComputedDigests, ContentHasher, Digest};

/// Connection and stall limits for downloads.
#[derive(Debug, Clone, Copy)]
pub struct DownloadLimits {
    /// DNS + TCP + TLS setup.
    pub connect: Duration,
    /// Longest silence while reading the body before giving up.
    pub stall: Duration,
}

impl Default for DownloadLimits {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(15),
            stall: Duration::from_secs(60),
        }
    }
}

/// Why a download failed (the message is shown to the user as the source's reason).
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("{url}: {reason}")]
    Http { url: String, reason: String },
    #[error("{url}: server sent {actual} bytes, expected {expected}")]
    WrongSize {
        url: String,
        expected: u64,
        actual: u64,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// A reusable HTTP client.
pub struct Downloader {
    agent: Agent,
}

impl Downloader {
    pub fn new(limits: DownloadLimits) -> Self {
        let config = Agent::config_builder()
            .timeout_connect(Some(limits.connect))
            .timeout_resolve(Some(limits.connect))
            .timeout_recv_response(Some(limits.stall))
            .timeout_per_read(Some(limits.stall))
            .tls_config(
                TlsConfig::builder()
                    .root_certs(RootCerts::PlatformVerifier)
                    .build(),
            )
            .user_agent(concat!("hotline-models/", env!("CARGO_PKG_VERSION")))
            .build();
        Self {
            agent: config.into(),
        }
    }

    /// Downloads `url` into `dest` (created or truncated), hashing it for `expected` digests.
    /// `progress(done, total)` is called as bytes arrive.
    pub fn download(
        &self,
        url: &str,
        dest: &Path,
        expected_size: Option<u64>,
        expected: &[Digest],
        progress: &mut dyn FnMut(u64, Option<u64>),
    ) -> Result<ComputedDigests, DownloadError> {
        let http = |reason: String| DownloadError::Http {
            url: url.to_string(),
            reason,
        };
        let mut response = self.agent.get(url).call().map_err(|e| http(describe(&e)))?;
        let total = response.body().content_length().or(expected_size);
        if let (Some(sent), Some(want)) = (response.body().content_length(), expected_size)
            && sent != want
        {
            return Err(DownloadError::WrongSize {
                url: url.to_string(),
                expected: want,
                actual: sent,
            });
        }
        let write_err = |source| DownloadError::Write {
            path: dest.display().to_string(),
            source,
        };
        let file = File::create(dest).map_err(write_err)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let mut hasher = ContentHasher::for_digests(expected);
        let mut reader = response.body_mut().as_reader();
        let mut buf = vec![0u8; 1 << 16];
        let mut done = 0u64;
        let mut reported = 0u64;
        loop {
            let n = reader
                .read(&mut buf)
                .map_err(|e| http(format!("reading body: {e}")))?;
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n]).map_err(write_err)?;
            hasher.update(&buf[..n]);
            done += n as u64;
            if let Some(want) = expected_size
                && done > want
            {
                return Err(DownloadError::WrongSize {
                    url: url.to_string(),
                    expected: want,
                    actual: done,
                });
            }
            if done - reported >= 4 << 20 {
                reported = done;
                progress(done, total);
            }
        }
        out.flush().map_err(write_err)?;
        out.into_inner()
            .map_err(|e| write_err(e.into_error()))?
            .sync_all()
            .map_err(write_err)?;
        progress(done, total);
        if let Some(want) = expected_size
            && done != want
        {
            return Err(DownloadError::WrongSize {
                url: url.to_string(),
                expected: want,
                actual: done,
            });
        }
        Ok(hasher.finish())
    }
}

/// A short human reason for a ureq error.
fn describe(error: &ureq::Error) -> String {
    match error {
        ureq::Error::StatusCode(code) => format!("HTTP status {code}"),
        ureq::Error::HostNotFound => "host not found (DNS lookup failed)".to_string(),
        ureq::Error::Timeout(what) => format!("timed out ({what})"),
        ureq::Error::ConnectionFailed => "connection failed".to_string(),
        ureq::Error::Io(e) if e.to_string().contains("lookup address") => {
            format!("host not found (DNS lookup failed: {e})")
        }
        ureq::Error::Io(e) => format!("network error: {e}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn unreachable_host_fails_fast_with_a_reason() {
        // Bind then drop a listener so the port is (almost certainly) closed.
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let dir = tempfile::tempdir().unwrap();
        let downloader = Downloader::new(DownloadLimits {
            connect: Duration::from_secs(2),
            stall: Duration::from_secs(2),
        });
        let url = format!("http://127.0.0.1:{port}/model.bin");
        let err = downloader
            .download(&url, &dir.path().join("x"), None, &[], &mut |_, _| {})
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&url), "{text}");
        assert!(matches!(err, DownloadError::Http { .. }));
    }
}
