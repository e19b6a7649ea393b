//! The TCP listener, screened: each accepted connection is read by us, cut into messages by
//! Content-Length, and each message passes [`crate::sip_screen`], then the scanner filter and
//! rate limit ([`crate::request_guard`]), before rsipstack sees it.
//!
//! Why a relay: rsipstack's stream codec closes the whole connection when one message does not
//! parse (an unknown method, a negative Content-Length), and its `TcpConnection` only wraps a
//! real `tokio::net::TcpStream`. So each caller connection gets a private loopback TCP pair:
//! rsipstack serves one end as a normal `TcpConnection` whose remote address is the caller's
//! (so Via `received`, the trunk allowlist and outbound requests work unchanged), and this
//! relay copies screened messages into the other end and rsipstack's output back to the caller,
//! whole message by whole message, so the answers it writes itself never interleave. A request
//! refused here is answered on the caller's connection, which stays open; only broken framing
//! (a Content-Length that is not a number, or given twice) ends the connection, after a 400.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use rsipstack::transaction::endpoint::EndpointInner;
use rsipstack::transport::SipConnection;
use rsipstack::transport::sip_addr::SipAddr;
use rsipstack::transport::stream::StreamConnectionInner;
use rsipstack::transport::tcp::TcpConnection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::raw_sip_message::{leading_crlf_len, stream_message_length};
use crate::request_guard::{GuardVerdict, RequestGuard};
use crate::sip_screen::{Verdict, screen};

const KEEPALIVE_PING: &[u8] = b"\r\n\r\n";

/// Accepts callers on `listener` and relays each through the screen to rsipstack.
pub struct ScreenedTcpListener {
    pub listener: TcpListener,
    /// The address rsipstack advertises for these connections (the listener's).
    pub local: SipAddr,
    pub allow: &'static str,
    /// Scanners and the per-source rate limit (shared with the UDP socket).
    pub guard: Arc<RequestGuard>,
}

impl ScreenedTcpListener {
    /// Runs until `stop`; each connection runs in its own task.
    pub async fn serve(self, endpoint: Arc<EndpointInner>, stop: CancellationToken) {
        let loopback = match TcpListener::bind("127.0.0.1:0").await {
            Ok(loopback) => Arc::new(Mutex::new(loopback)),
            Err(error) => {
                warn!(%error, "no loopback listener for the TCP relay; TCP disabled");
                return;
            }
        };
        loop {
            let accepted = tokio::select! {
                accepted = self.listener.accept() => accepted,
                () = stop.cancelled() => return,
            };
            let (caller, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    warn!(%error, "TCP accept failed");
                    continue;
                }
            };
            let (endpoint, loopback, stop) = (endpoint.clone(), loopback.clone(), stop.clone());
            let (local, allow, guard) = (self.local.clone(), self.allow, self.guard.clone());
            tokio::spawn(async move {
                let relayed = Relay {
                    local,
                    allow,
                    guard,
                    endpoint,
                    loopback,
                    stop,
                };
                if let Err(error) = relayed.relay(caller, peer).await {
                    debug!(%peer, %error, "TCP relay ended");
                }
            });
        }
    }
}

/// A connected loopback pair: (our end, the end rsipstack serves).
async fn loopback_pair(listener: &Mutex<TcpListener>) -> std::io::Result<(TcpStream, TcpStream)> {
    let listener = listener.lock().await;
    let ours = TcpStream::connect(listener.local_addr()?).await?;
    let our_addr = ours.local_addr()?;
    loop {
        let (theirs, from) = listener.accept().await?;
        if from == our_addr {
            return Ok((ours, theirs));
        }
    }
}

/// What one connection's relay needs.
struct Relay {
    local: SipAddr,
    allow: &'static str,
    guard: Arc<RequestGuard>,
    endpoint: Arc<EndpointInner>,
    loopback: Arc<Mutex<TcpListener>>,
    stop: CancellationToken,
}

impl Relay {
    async fn relay(self, caller: TcpStream, peer: SocketAddr) -> std::io::Result<()> {
        let Relay {
            local,
            allow,
            guard,
            endpoint,
            loopback,
            stop,
        } = self;
        caller.set_nodelay(true).ok();
        let (ours, theirs) = loopback_pair(&loopback).await?;
        ours.set_nodelay(true).ok();
        let remote = SipAddr {
            r#type: Some(rsipstack::sip::Transport::Tcp),
            addr: peer.into(),
        };
        let (read_half, write_half) = tokio::io::split(theirs);
        let connection = TcpConnection {
            inner: Arc::new(StreamConnectionInner::new(
                local, remote, read_half, write_half,
            )),
            cancel_token: Some(stop.child_token()),
        };
        endpoint
            .transport_layer
            .add_connection(SipConnection::Tcp(connection));
        info!(%peer, "TCP caller connected (screened)");

        let (caller_read, caller_write) = caller.into_split();
        let caller_write = Arc::new(Mutex::new(caller_write));
        let (ours_read, ours_write) = ours.into_split();
        let inbound = caller_to_stack(
            caller_read,
            ours_write,
            caller_write.clone(),
            (allow, &guard),
            peer,
        );
        let outbound = stack_to_caller(ours_read, caller_write.clone());
        tokio::select! {
            result = inbound => result?,
            result = outbound => result?,
            () = stop.cancelled() => {}
        }
        caller_write.lock().await.shutdown().await.ok();
        Ok(())
    }
}

/// Caller → screen → rsipstack; refusals are written back to the caller.
async fn caller_to_stack(
    mut caller: OwnedReadHalf,
    mut stack: OwnedWriteHalf,
    caller_write: Arc<Mutex<OwnedWriteHalf>>,
    (allow, guard): (&'static str, &RequestGuard),
    peer: SocketAddr,
) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        loop {
            if buffer.starts_with(KEEPALIVE_PING) {
                stack.write_all(KEEPALIVE_PING).await?;
                buffer.drain(..KEEPALIVE_PING.len());
                continue;
            }
            let skip = leading_crlf_len(&buffer);
            if skip > 0 && buffer.len() > skip {
                buffer.drain(..skip);
            }
            let length = match stream_message_length(&buffer) {
                Ok(Some(length)) => length,
                Ok(None) => break,
                Err(framing) => {
                    // The stream cannot be cut any more: answer what we can, then close.
                    warn!(%peer, %framing, "TCP framing broken; answering 400 and closing");
                    if let Verdict::Reject(rejection) = screen(&with_empty_body(&buffer), allow) {
                        let reply = rejection.response;
                        caller_write.lock().await.write_all(&reply).await?;
                    }
                    return Ok(());
                }
            };
            let message: Vec<u8> = buffer.drain(..length).collect();
            match screen(&message, allow) {
                Verdict::Pass { .. } => match guard.check(&message, peer.ip(), Instant::now()) {
                    GuardVerdict::Pass => stack.write_all(&message).await?,
                    GuardVerdict::Drop => {}
                    GuardVerdict::Refuse(response) => {
                        caller_write.lock().await.write_all(&response).await?;
                    }
                },
                Verdict::Reject(rejection) => {
                    info!(%peer, status = rejection.status, reason = %rejection.reason,
                          "TCP request refused before the transaction layer");
                    caller_write
                        .lock()
                        .await
                        .write_all(&rejection.response)
                        .await?;
                }
                Verdict::Drop(why) => info!(%peer, %why, "TCP message dropped"),
            }
        }
        let n = caller.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}

/// The header block of a message whose framing is broken, with no body, so the screen can
/// name the problem (the Content-Length check still sees the bad value).
fn with_empty_body(buffer: &[u8]) -> Vec<u8> {
    let end = buffer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(buffer.len(), |p| p + 4);
    buffer[..end].to_vec()
}

/// rsipstack → caller, one whole message at a time.
async fn stack_to_caller(
    mut stack: OwnedReadHalf,
    caller_write: Arc<Mutex<OwnedWriteHalf>>,
) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        loop {
            let skip = leading_crlf_len(&buffer);
            if skip > 0 {
                // Keep-alive pongs and padding pass as they are.
                let pad: Vec<u8> = buffer.drain(..skip).collect();
                caller_write.lock().await.write_all(&pad).await?;
            }
            match stream_message_length(&buffer) {
                Ok(Some(length)) => {
                    let message: Vec<u8> = buffer.drain(..length).collect();
                    caller_write.lock().await.write_all(&message).await?;
                }
                Ok(None) => break,
                Err(framing) => {
                    // Our own stack's output: pass it through rather than lose it.
                    warn!(%framing, "unexpected framing from rsipstack; passing through");
                    caller_write.lock().await.write_all(&buffer).await?;
                    buffer.clear();
                }
            }
        }
        let n = stack.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}
