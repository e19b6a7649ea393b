//! The caller's media side, played by the test: sends a μ-law tone, RFC 4733 DTMF or any
//! prepared datagrams (Opus), records every RTP packet the bridge sends back.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_audio::g711::G711Law;
use sip_bridge::rtp_packet::RtpPacket;
use tokio::net::UdpSocket;

pub struct RtpPeer {
    socket: Arc<UdpSocket>,
    pub port: u16,
}

/// One packet received from the bridge.
#[derive(Debug, Clone)]
pub struct Heard {
    pub at: Instant,
    pub marker: bool,
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub rms: f64,
    /// Decoded 8 kHz samples of the payload (meaningful for G.711 only).
    pub samples: Vec<i16>,
    /// The payload as it came (Opus packets, telephone-events).
    pub payload: Vec<u8>,
}

/// Power of `hz` in 8 kHz `samples` relative to their total power (Goertzel), 0-1.
pub fn tone_share(samples: &[i16], hz: f64) -> f64 {
    tone_share_at(samples, hz, 8000)
}

/// Power of `hz` in `samples` taken at `rate` relative to their total power (Goertzel), 0-1.
pub fn tone_share_at(samples: &[i16], hz: f64, rate: u32) -> f64 {
    hotline_audio::tone::tone_share(samples, hz, rate)
}

impl RtpPeer {
    pub async fn bind() -> RtpPeer {
        let socket = UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("RTP peer socket");
        let port = socket.local_addr().expect("local addr").port();
        RtpPeer {
            socket: Arc::new(socket),
            port,
        }
    }

    /// Records what arrives for `duration` (in a background task).
    pub fn listen(&self, duration: Duration) -> tokio::task::JoinHandle<Vec<Heard>> {
        let socket = self.socket.clone();
        tokio::spawn(async move {
            let mut heard = Vec::new();
            let mut buf = [0u8; 2048];
            let deadline = tokio::time::Instant::now() + duration;
            while let Ok(Ok((len, _))) =
                tokio::time::timeout_at(deadline, socket.recv_from(&mut buf)).await
            {
                let at = Instant::now();
                let Ok(packet) = RtpPacket::parse(&buf[..len]) else {
                    continue;
                };
                let mut samples = vec![0i16; packet.payload.len()];
                let law = if packet.payload_type == 8 {
                    G711Law::ALaw
                } else {
                    G711Law::MuLaw
                };
                law.decode_slice(packet.payload, &mut samples);
                let energy: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
                heard.push(Heard {
                    at,
                    marker: packet.marker,
                    payload_type: packet.payload_type,
                    sequence: packet.sequence,
                    timestamp: packet.timestamp,
                    rms: (energy / samples.len().max(1) as f64).sqrt(),
                    samples,
                    payload: packet.payload.to_vec(),
                });
            }
            heard
        })
    }

    /// Binds an even port whose odd neighbour is free too (bound and returned, for RTCP).
    pub async fn bind_pair() -> (RtpPeer, UdpSocket) {
        for _ in 0..200 {
            let port = 42000 + 2 * (rand::random::<u16>() % 4000);
            let Ok(rtp) = UdpSocket::bind(("127.0.0.1", port)).await else {
                continue;
            };
            let Ok(rtcp) = UdpSocket::bind(("127.0.0.1", port + 1)).await else {
                continue;
            };
            return (
                RtpPeer {
                    socket: Arc::new(rtp),
                    port,
                },
                rtcp,
            );
        }
        panic!("no free even/odd UDP port pair on 127.0.0.1");
    }

    /// Waits for the first RTP packet and returns where it came from (the bridge's port).
    pub async fn first_source(&self, wait: Duration) -> SocketAddr {
        self.first_source_within(wait)
            .await
            .expect("RTP from the bridge in time")
    }

    /// Like `first_source`, but `None` when nothing came in `wait` (so the test can say why).
    pub async fn first_source_within(&self, wait: Duration) -> Option<SocketAddr> {
        let mut buf = [0u8; 2048];
        match tokio::time::timeout(wait, self.socket.recv_from(&mut buf)).await {
            Ok(received) => Some(received.expect("RTP receive").1),
            Err(_) => None,
        }
    }

    /// Sends prepared datagrams, one every 20 ms (`None` leaves a slot empty: a lost packet).
    pub async fn send_paced(&self, to: SocketAddr, datagrams: &[Option<Vec<u8>>]) {
        let start = tokio::time::Instant::now();
        for (n, datagram) in datagrams.iter().enumerate() {
            if let Some(datagram) = datagram {
                self.socket.send_to(datagram, to).await.expect("send RTP");
            }
            tokio::time::sleep_until(start + Duration::from_millis(20) * (n as u32 + 1)).await;
        }
    }

    /// Sends `packets` × 20 ms of a 1 kHz μ-law tone, paced in real time.
    pub async fn send_tone(&self, to: SocketAddr, packets: u16) {
        self.send_tone_hz(to, packets, 1000.0).await;
    }

    /// Sends `packets` × 20 ms of a μ-law tone at `hz`, paced in real time.
    pub async fn send_tone_hz(&self, to: SocketAddr, packets: u16, hz: f64) {
        let start = tokio::time::Instant::now();
        let mut payload = [0u8; 160];
        let mut datagram = Vec::new();
        for n in 0..packets {
            let samples: Vec<i16> = (0..160)
                .map(|i| {
                    let t = f64::from(u32::from(n) * 160 + i) / 8000.0;
                    (10000.0 * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16
                })
                .collect();
            G711Law::MuLaw.encode_slice(&samples, &mut payload);
            RtpPacket {
                marker: n == 0,
                payload_type: 0,
                sequence: 1000 + n,
                timestamp: 4000 + u32::from(n) * 160,
                ssrc: 0x1234_5678,
                payload: &payload,
            }
            .write_to(&mut datagram);
            self.socket.send_to(&datagram, to).await.expect("send RTP");
            tokio::time::sleep_until(start + Duration::from_millis(20) * u32::from(n + 1)).await;
        }
    }

    /// Sends one RFC 4733 key press (event 0-15) the way phones do: 3 progress packets,
    /// then the end packet three times, all with one RTP timestamp.
    pub async fn send_dtmf(&self, to: SocketAddr, payload_type: u8, event: u8, sequence: u16) {
        let mut datagram = Vec::new();
        for i in 0..6u16 {
            let end = i >= 3;
            let duration = 160 * (i.min(3) + 1);
            let d = duration.to_be_bytes();
            let payload = [event, if end { 0x80 | 10 } else { 10 }, d[0], d[1]];
            RtpPacket {
                marker: i == 0,
                payload_type,
                sequence: sequence + i,
                timestamp: 90_000,
                ssrc: 0x1234_5678,
                payload: &payload,
            }
            .write_to(&mut datagram);
            self.socket.send_to(&datagram, to).await.expect("send DTMF");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
