//! The UDP listener's socket, screened: every datagram passes [`crate::sip_screen`], then the
//! scanner filter and rate limit ([`crate::request_guard`]), before rsipstack reads it.
//!
//! Why here: rsipstack's `UdpConnection` reads through a socket trait
//! (`rsipstack::platform::net::UdpSocket`) and lets us hand it our own socket
//! (`UdpConnection::attach`). Wrapping the socket is the least invasive point that still sees
//! the raw bytes: rsipstack's parser is liberal (it keeps `SIP/7.0`, takes the first of two
//! To headers, ignores Content-Length on datagrams), and once parsed the evidence is gone.
//! Nothing of rsipstack is forked or patched: it simply never receives what we refuse, and
//! our answers go out on the same socket, to the datagram's source (as with `rport`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use rsipstack::platform::net::UdpSocket as RsipUdpSocket;
use tracing::{debug, info};

use crate::request_guard::{GuardVerdict, RequestGuard};
use crate::sip_screen::{Verdict, screen};

/// A bound UDP socket that answers or drops what the screen refuses.
pub struct ScreenedUdpSocket {
    socket: tokio::net::UdpSocket,
    allow: &'static str,
    guard: Arc<RequestGuard>,
}

impl ScreenedUdpSocket {
    /// Binds `addr`; `allow` is the `Allow` value sent with 501.
    pub async fn bind(
        addr: SocketAddr,
        allow: &'static str,
        guard: Arc<RequestGuard>,
    ) -> std::io::Result<ScreenedUdpSocket> {
        Ok(ScreenedUdpSocket {
            socket: tokio::net::UdpSocket::bind(addr).await?,
            allow,
            guard,
        })
    }
}

#[async_trait::async_trait]
impl RsipUdpSocket for ScreenedUdpSocket {
    async fn recv_from(&self, buf: &mut [u8]) -> rsipstack::Result<(usize, SocketAddr)> {
        loop {
            let (len, source) = self.socket.recv_from(buf).await?;
            match screen(&buf[..len], self.allow) {
                Verdict::Pass { length } => {
                    let length = length.min(len);
                    match self
                        .guard
                        .check(&buf[..length], source.ip(), Instant::now())
                    {
                        GuardVerdict::Pass => return Ok((length, source)),
                        GuardVerdict::Drop => {}
                        GuardVerdict::Refuse(response) => {
                            if let Err(error) = self.socket.send_to(&response, source).await {
                                debug!(%source, %error, "could not send the refusal");
                            }
                        }
                    }
                }
                Verdict::Reject(rejection) => {
                    info!(%source, status = rejection.status, reason = %rejection.reason,
                          "UDP request refused before the transaction layer");
                    if let Err(error) = self.socket.send_to(&rejection.response, source).await {
                        debug!(%source, %error, "could not send the refusal");
                    }
                }
                Verdict::Drop(why) => info!(%source, %why, "UDP message dropped"),
            }
        }
    }

    async fn send_to(&self, buf: &[u8], addr: SocketAddr) -> rsipstack::Result<usize> {
        Ok(self.socket.send_to(buf, addr).await?)
    }

    fn local_addr(&self) -> rsipstack::Result<SocketAddr> {
        Ok(self.socket.local_addr()?)
    }
}
