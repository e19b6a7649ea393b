//! HTTPS for the HTTP listener: `[server] tls_cert` and `tls_key` (PEM files) read once, when
//! `hotline serve` starts and before any model is loaded, into a rustls server configuration
//! (ring, TLS 1.2 and 1.3, HTTP/1.1 by ALPN so WebSockets upgrade as they do over plain HTTP).
//! Every way the files can be wrong is a [`TlsFilesError`] that names the file and the fix, so
//! a bad certificate stops the node at once instead of failing each caller's handshake.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why the certificate files cannot serve HTTPS.
#[derive(Debug, thiserror::Error)]
pub enum TlsFilesError {
    #[error(
        "cannot read {what} {path}: {source}. Check [server] {key} (HOTLINE_SERVER__{env}) and that the user running hotline may read the file"
    )]
    Unreadable {
        what: &'static str,
        key: &'static str,
        env: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the TLS certificate file {path} holds no PEM certificate ({reason}): give [server] tls_cert the certificate chain as PEM (-----BEGIN CERTIFICATE-----, the server's own certificate first)"
    )]
    NoCertificate { path: PathBuf, reason: String },
    #[error(
        "the TLS key file {path} holds no PEM private key ({reason}): give [server] tls_key the private key as PEM (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY), not the certificate"
    )]
    NoKey { path: PathBuf, reason: String },
    #[error(
        "the TLS key {key} does not belong to the certificate {cert}: give [server] tls_key the key the certificate was issued for (`openssl x509 -noout -pubkey -in CERT` and `openssl pkey -pubout -in KEY` must print the same)"
    )]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    #[error(
        "the TLS certificate {cert} with the key {key} cannot serve HTTPS: {reason}. Give an X.509 certificate and its RSA, ECDSA or Ed25519 key in PEM"
    )]
    Refused {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
}

/// The rustls configuration of the HTTPS listener, from the certificate chain in `cert` and the
/// private key in `key` (both PEM files).
pub fn load_tls_config(
    cert: &Path,
    key: &Path,
) -> Result<Arc<rustls::ServerConfig>, TlsFilesError> {
    let cert_pem = std::fs::read(cert).map_err(|source| TlsFilesError::Unreadable {
        what: "the TLS certificate file",
        key: "tls_cert",
        env: "TLS_CERT",
        path: cert.to_path_buf(),
        source,
    })?;
    let key_pem = std::fs::read(key).map_err(|source| TlsFilesError::Unreadable {
        what: "the TLS key file",
        key: "tls_key",
        env: "TLS_KEY",
        path: key.to_path_buf(),
        source,
    })?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsFilesError::NoCertificate {
            path: cert.to_path_buf(),
            reason: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsFilesError::NoCertificate {
            path: cert.to_path_buf(),
            reason: "no CERTIFICATE section".to_string(),
        });
    }
    let private_key =
        PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| TlsFilesError::NoKey {
            path: key.to_path_buf(),
            reason: match e {
                rustls::pki_types::pem::Error::NoItemsFound => "no PRIVATE KEY section".to_string(),
                other => other.to_string(),
            },
        })?;
    let refused = |reason: String| TlsFilesError::Refused {
        cert: cert.to_path_buf(),
        key: key.to_path_buf(),
        reason,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| refused(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
                TlsFilesError::KeyMismatch {
                    cert: cert.to_path_buf(),
                    key: key.to_path_buf(),
                }
            }
            other => refused(other.to_string()),
        })?;
    // HTTP/1.1 only: a WebSocket (`/media`) is an HTTP/1.1 upgrade, and every client speaks it.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed() -> (String, String) {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        (made.cert.pem(), made.signing_key.serialize_pem())
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_certificate_and_its_key_load() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = self_signed();
        let config = load_tls_config(
            &write(dir.path(), "cert.pem", &cert),
            &write(dir.path(), "key.pem", &key),
        )
        .unwrap();
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }

    #[test]
    fn each_wrong_file_is_named_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = self_signed();
        let (_, other_key) = self_signed();
        let cert_path = write(dir.path(), "cert.pem", &cert);
        let key_path = write(dir.path(), "key.pem", &key);
        let missing = dir.path().join("missing.pem");
        let garbage = write(dir.path(), "garbage.pem", "not a PEM file at all\n");

        let err = load_tls_config(&missing, &key_path).unwrap_err();
        assert!(matches!(err, TlsFilesError::Unreadable { .. }), "{err}");
        assert!(err.to_string().contains("missing.pem"), "{err}");
        assert!(err.to_string().contains("tls_cert"), "{err}");

        let err = load_tls_config(&cert_path, &missing).unwrap_err();
        assert!(err.to_string().contains("tls_key"), "{err}");

        let err = load_tls_config(&garbage, &key_path).unwrap_err();
        assert!(matches!(err, TlsFilesError::NoCertificate { .. }), "{err}");
        assert!(err.to_string().contains("garbage.pem"), "{err}");

        // The files swapped: the key file holds a certificate.
        let err = load_tls_config(&key_path, &cert_path).unwrap_err();
        assert!(matches!(err, TlsFilesError::NoCertificate { .. }), "{err}");
        let err = load_tls_config(&cert_path, &cert_path).unwrap_err();
        assert!(matches!(err, TlsFilesError::NoKey { .. }), "{err}");

        let err =
            load_tls_config(&cert_path, &write(dir.path(), "other.pem", &other_key)).unwrap_err();
        assert!(matches!(err, TlsFilesError::KeyMismatch { .. }), "{err}");
        assert!(err.to_string().contains("other.pem"), "{err}");

        let broken = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        let err =
            load_tls_config(&cert_path, &write(dir.path(), "broken.pem", broken)).unwrap_err();
        assert!(matches!(err, TlsFilesError::Refused { .. }), "{err}");
        assert!(err.to_string().contains("broken.pem"), "{err}");
    }
}
