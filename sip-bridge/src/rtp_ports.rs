//! Hands out an RTP/RTCP port pair per call from the configured range.
//!
//! Binding the sockets is the reservation: a port held by another call (or another process)
//! fails to bind and is skipped, and dropping the sockets returns the pair. A rotating cursor
//! spreads calls over the range so a just-freed port is not reused at once (stray packets of
//! the previous call would otherwise land in the new one).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};

use tokio::net::UdpSocket;

use crate::error::BridgeError;

/// The two sockets of one call's media.
#[derive(Debug)]
pub struct RtpSocketPair {
    pub rtp: UdpSocket,
    /// Held so the port stays ours; RTCP reports are not processed yet.
    pub rtcp: UdpSocket,
    pub rtp_port: u16,
}

/// Allocates even/odd port pairs from `[min, max]`.
#[derive(Debug)]
pub struct RtpPortAllocator {
    ip: IpAddr,
    first_even: u16,
    pairs: u32,
    cursor: AtomicU32,
}

impl RtpPortAllocator {
    pub fn new(ip: IpAddr, min: u16, max: u16) -> RtpPortAllocator {
        let first_even = min.saturating_add(min % 2);
        // Pairs (p, p + 1) with both ports inside the range.
        let pairs = if max > first_even {
            u32::from(max - first_even).div_ceil(2)
        } else {
            0
        };
        RtpPortAllocator {
            ip,
            first_even,
            pairs,
            cursor: AtomicU32::new(0),
        }
    }

    /// Binds the next free pair.
    pub async fn allocate(&self) -> Result<RtpSocketPair, BridgeError> {
        for _ in 0..self.pairs {
            let index = self.cursor.fetch_add(1, Ordering::Relaxed) % self.pairs.max(1);
            let Ok(rtp_port) = u16::try_from(u32::from(self.first_even) + 2 * index) else {
                continue;
            };
            let Some(rtcp_port) = rtp_port.checked_add(1) else {
                continue;
            };
            let Ok(rtp) = UdpSocket::bind(SocketAddr::new(self.ip, rtp_port)).await else {
                continue;
            };
            let Ok(rtcp) = UdpSocket::bind(SocketAddr::new(self.ip, rtcp_port)).await else {
                continue;
            };
            return Ok(RtpSocketPair {
                rtp,
                rtcp,
                rtp_port,
            });
        }
        Err(BridgeError::RtpPortsExhausted {
            min: self.first_even,
            max: self.first_even.saturating_add((self.pairs * 2) as u16),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pairs_are_even_distinct_and_exhaust_then_recover() {
        // A small range high up, unlikely to collide with anything else on the machine.
        let alloc = RtpPortAllocator::new("127.0.0.1".parse().unwrap(), 41001, 41006);
        let a = alloc.allocate().await.unwrap();
        let b = alloc.allocate().await.unwrap();
        assert_eq!(a.rtp_port % 2, 0);
        assert_eq!(b.rtp_port % 2, 0);
        assert_ne!(a.rtp_port, b.rtp_port);
        assert!((41002..=41006).contains(&a.rtp_port));
        assert_eq!(a.rtcp.local_addr().unwrap().port(), a.rtp_port + 1);
        // 41006 would need 41007, outside the range: only two pairs exist.
        assert!(matches!(
            alloc.allocate().await,
            Err(BridgeError::RtpPortsExhausted { .. })
        ));
        drop(a);
        assert!(alloc.allocate().await.is_ok());
    }
}
