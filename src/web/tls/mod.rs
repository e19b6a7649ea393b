//! HTTPS and WSS terminated by hotline itself (`[server] tls_cert` / `tls_key`): the PEM files
//! read into a rustls configuration with every way they can be wrong named (`files`), the
//! listener that hands axum only finished handshakes (`listener`), and the certificate read
//! again when its files are renewed, without a restart (`reload`).

mod files;
mod listener;
mod reload;

pub use files::{TlsFilesError, load_tls_config};
pub use listener::TlsListener;
pub use reload::{CertificateCheck, TlsCertificates};
