//! The HTTPS listener: an axum [`Listener`] that accepts TCP connections and hands axum only
//! those whose TLS handshake completed, so the same router (and axum's graceful shutdown, which
//! the drain relies on) serves HTTPS and WSS exactly as it serves HTTP and WS. Handshakes run in
//! tasks of their own, at most [`MAX_HANDSHAKES`] at once and each within
//! [`HANDSHAKE_TIMEOUT`], so a slow or silent client never holds up the next one. Plain HTTP sent
//! to the port gets a 400 that says to use `https://`, then the connection is closed.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::Listener;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::reload::TlsCertificates;

/// A client has this long to finish its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes in progress at most; further connections wait in the kernel's backlog.
pub const MAX_HANDSHAKES: usize = 256;
/// Connections handshaken but not yet taken by axum.
const READY_QUEUE: usize = 64;
/// The first byte of a TLS record carrying a handshake (a ClientHello).
const TLS_HANDSHAKE_RECORD: u8 = 0x16;
/// What a client speaking plain HTTP to the HTTPS port is told.
const PLAIN_HTTP_REFUSAL: &str = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: 63\r\n\r\nThis port speaks HTTPS only: use https:// (wss:// for /media).\n";

/// Accepts TLS connections on a bound TCP listener.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    accepting: JoinHandle<()>,
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        // axum drops the listener when it stops accepting (shutdown): no new handshakes then.
        self.accepting.abort();
    }
}

impl TlsListener {
    /// Starts accepting on `tcp`, each handshake with the certificate `certificates` holds
    /// then (so a renewed one serves from the next connection).
    pub fn new(tcp: TcpListener, certificates: Arc<TlsCertificates>) -> io::Result<Self> {
        let local = tcp.local_addr()?;
        let (send, ready) = mpsc::channel(READY_QUEUE);
        let accepting = tokio::spawn(accept_loop(tcp, certificates, send));
        Ok(Self {
            ready,
            local,
            accepting,
        })
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accept loop is gone (aborted): nothing will come; shutdown ends the server.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}

async fn accept_loop(
    tcp: TcpListener,
    certificates: Arc<TlsCertificates>,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let Ok(permit) = Arc::clone(&handshakes).acquire_owned().await else {
            return;
        };
        let (stream, peer) = tokio::select! {
            accepted = tcp.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(error).await;
                    continue;
                }
            },
            () = ready.closed() => return,
        };
        let acceptor = TlsAcceptor::from(certificates.current());
        let ready = ready.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(&acceptor, stream)).await {
                Ok(Ok(Some(tls))) => {
                    // Fails only when the server has stopped: the connection is dropped.
                    let _ = ready.send((tls, peer)).await;
                }
                Ok(Ok(None)) => tracing::debug!(%peer, "plain HTTP on the HTTPS port refused"),
                Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

/// The TLS session on `stream`, or None when the client spoke something else (answered with
/// [`PLAIN_HTTP_REFUSAL`] when it looked like HTTP).
async fn handshake(
    acceptor: &TlsAcceptor,
    stream: TcpStream,
) -> io::Result<Option<TlsStream<TcpStream>>> {
    let mut first = [0u8; 1];
    if stream.peek(&mut first).await? == 0 {
        return Ok(None);
    }
    if first[0] != TLS_HANDSHAKE_RECORD {
        if first[0].is_ascii_uppercase() {
            refuse_plain_http(stream).await?;
        }
        return Ok(None);
    }
    acceptor.accept(stream).await.map(Some)
}

/// Reads the plain HTTP request's head, answers [`PLAIN_HTTP_REFUSAL`] and closes gently
/// (what the client sent is read first: closing on unread bytes would reset the connection
/// and could lose the answer).
async fn refuse_plain_http(mut stream: TcpStream) -> io::Result<()> {
    const HEAD_LIMIT: usize = 16 * 1024;
    const LINGER: Duration = Duration::from_secs(1);
    let mut head = Vec::new();
    let mut buffer = [0u8; 2048];
    let _ = tokio::time::timeout(LINGER, async {
        while head.len() < HEAD_LIMIT && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    stream.write_all(PLAIN_HTTP_REFUSAL.as_bytes()).await?;
    stream.shutdown().await?;
    // Until the client closes too (or a second passes): a body it still sends is discarded.
    let _ = tokio::time::timeout(LINGER, async {
        while let Ok(n) = stream.read(&mut buffer).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
    Ok(())
}

/// As axum's own listener: errors of one connection are skipped, others (too many open files)
/// logged and waited out.
async fn accept_failed(error: io::Error) {
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "accepting an HTTPS connection failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_says_its_length() {
        let (_, body) = PLAIN_HTTP_REFUSAL.split_once("\r\n\r\n").unwrap();
        assert!(PLAIN_HTTP_REFUSAL.contains(&format!("Content-Length: {}\r\n", body.len())));
    }
}
