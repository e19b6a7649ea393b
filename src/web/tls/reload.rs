//! Certificate renewal without a restart: the HTTPS listener asks [`TlsCertificates`] for the
//! current rustls configuration at every handshake, and a watcher looks at `[server] tls_cert`
//! and `tls_key` every [`CHECK_EVERY`] (size and modification time, following symlinks, as
//! certbot and cert-manager replace them). When either changed, both are read again: a pair that
//! loads serves the next handshake (connections already open keep theirs); a pair that does not
//! (a renewal half written, a key of another certificate) is logged with the file and the fix
//! and the old certificate stays, so a bad renewal never takes HTTPS down.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use super::files::{TlsFilesError, load_tls_config};

/// How often the certificate files are looked at.
pub const CHECK_EVERY: Duration = Duration::from_secs(10);

/// What the two files looked like when last read: (size, modified) of each.
type Stamps = [Option<(u64, SystemTime)>; 2];

fn stamps(cert: &Path, key: &Path) -> Stamps {
    [cert, key].map(|path| {
        let meta = std::fs::metadata(path).ok()?;
        Some((meta.len(), meta.modified().ok()?))
    })
}

/// What a look at the files found.
#[derive(Debug)]
pub enum CertificateCheck {
    Unchanged,
    /// The new pair serves from the next handshake.
    Reloaded,
    /// The files changed but do not load: the old pair still serves.
    Kept(TlsFilesError),
}

/// The HTTPS certificate and key, read from their files and read again when they change.
pub struct TlsCertificates {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<rustls::ServerConfig>>,
    seen: Mutex<Stamps>,
}

impl TlsCertificates {
    /// Reads `cert` and `key` (see [`load_tls_config`] for what can be wrong with them).
    pub fn load(cert: &Path, key: &Path) -> Result<Arc<Self>, TlsFilesError> {
        let seen = stamps(cert, key);
        let config = load_tls_config(cert, key)?;
        Ok(Arc::new(Self {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            current: RwLock::new(config),
            seen: Mutex::new(seen),
        }))
    }

    /// The configuration the next handshake uses.
    pub fn current(&self) -> Arc<rustls::ServerConfig> {
        match self.current.read() {
            Ok(current) => Arc::clone(&current),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Looks at the files and reloads them when they changed since the last look.
    pub fn check(&self) -> CertificateCheck {
        let now = stamps(&self.cert, &self.key);
        {
            let Ok(mut seen) = self.seen.lock() else {
                return CertificateCheck::Unchanged;
            };
            if *seen == now {
                return CertificateCheck::Unchanged;
            }
            // Looked at once per change: a bad pair is reported once, not every check.
            *seen = now;
        }
        match load_tls_config(&self.cert, &self.key) {
            Ok(config) => {
                match self.current.write() {
                    Ok(mut current) => *current = config,
                    Err(poisoned) => *poisoned.into_inner() = config,
                }
                CertificateCheck::Reloaded
            }
            Err(error) => CertificateCheck::Kept(error),
        }
    }

    /// Checks the files every [`CHECK_EVERY`] on the current runtime, logging what changed,
    /// for as long as the returned task runs.
    pub fn watch(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let certificates = Arc::clone(self);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(CHECK_EVERY);
            every.tick().await;
            loop {
                every.tick().await;
                let watched = Arc::clone(&certificates);
                let Ok(check) = tokio::task::spawn_blocking(move || watched.check()).await else {
                    continue;
                };
                match check {
                    CertificateCheck::Unchanged => {}
                    CertificateCheck::Reloaded => tracing::info!(
                        cert = %certificates.cert.display(),
                        "TLS certificate reloaded: new connections get the new one"
                    ),
                    CertificateCheck::Kept(error) => tracing::warn!(
                        %error,
                        "the TLS files changed but cannot be used; the previous certificate still serves"
                    ),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(name: &str) -> (String, String) {
        let made = rcgen::generate_simple_self_signed(vec![name.to_string()]).unwrap();
        (made.cert.pem(), made.signing_key.serialize_pem())
    }

    #[test]
    fn a_renewed_pair_serves_and_a_broken_one_keeps_the_old() {
        let dir = tempfile::tempdir().unwrap();
        let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        let (cert, key) = self_signed("first.example");
        std::fs::write(&cert_path, &cert).unwrap();
        std::fs::write(&key_path, &key).unwrap();
        let tls = TlsCertificates::load(&cert_path, &key_path).unwrap();
        let first = tls.current();
        assert!(matches!(tls.check(), CertificateCheck::Unchanged));

        // Renewed: a new pair (a different size, so the change shows whatever the clock).
        let (cert, key) = self_signed("renewed.hotline.example");
        std::fs::write(&cert_path, &cert).unwrap();
        std::fs::write(&key_path, &key).unwrap();
        assert!(matches!(tls.check(), CertificateCheck::Reloaded));
        let renewed = tls.current();
        assert!(!Arc::ptr_eq(&first, &renewed));
        assert!(matches!(tls.check(), CertificateCheck::Unchanged));

        // Half written: the key of another certificate. Reported once, the renewed pair stays.
        let (_, other_key) = self_signed("x");
        std::fs::write(&key_path, other_key).unwrap();
        match tls.check() {
            CertificateCheck::Kept(error) => {
                assert!(error.to_string().contains("key.pem"), "{error}")
            }
            other => panic!("{other:?}"),
        }
        assert!(Arc::ptr_eq(&tls.current(), &renewed));
        assert!(matches!(tls.check(), CertificateCheck::Unchanged));
    }
}
