//! The RTP task of one call: receive, reorder, decode to frames; send one packet every 20 ms.
//!
//! One task per call owns the socket and all per-call state, so nothing is shared with other
//! calls but the runtime. The send side runs on an absolute schedule ([`PacingClock`]) and sends
//! digital silence when the engine has nothing queued, so the caller's jitter buffer and any
//! NAT binding stay fed. The receive side latches onto the source address of the first valid
//! RTP packet (symmetric RTP, RFC 4961) and ignores other sources afterwards.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::call::CallEvent;
use crate::dtmf_event::DtmfDetector;
use crate::edge_codec::{InboundDecoder, NARROWBAND_FRAME_SAMPLES, OutboundEncoder};
use crate::jitter_buffer::{JitterBuffer, JitterStats, Playout};
use crate::outbound_queue::OutboundQueue;
use crate::pacing_clock::PacingClock;
use crate::rtp_packet::RtpPacket;
use crate::rtp_ports::RtpSocketPair;
use crate::sdp::{MediaDirection, NegotiatedMedia};

/// Everything a media task needs.
pub(crate) struct MediaSession {
    pub sockets: RtpSocketPair,
    pub media: NegotiatedMedia,
    pub outbound: Arc<OutboundQueue>,
    pub events: mpsc::Sender<CallEvent>,
    pub stop: CancellationToken,
    pub jitter_max_held: usize,
    pub jitter_max_wait: Duration,
    pub call_id: String,
}

/// What a finished media task reports (logged; later exported as metrics).
#[derive(Debug, Clone, Copy, Default)]
pub struct MediaStats {
    pub packets_sent: u64,
    pub slots_skipped: u64,
    pub packets_received: u64,
    pub packets_ignored: u64,
    pub frames_dropped_engine_slow: u64,
    pub dtmf_digits: u64,
    pub jitter: JitterStats,
}

impl MediaSession {
    pub(crate) async fn run(self) -> MediaStats {
        let MediaSession {
            sockets,
            media,
            outbound,
            events,
            stop,
            jitter_max_held,
            jitter_max_wait,
            call_id,
        } = self;
        // The RTCP socket is held (port reserved) until RTCP reports are implemented.
        let RtpSocketPair {
            rtp: socket,
            rtcp: _rtcp_reserved,
            ..
        } = sockets;
        let mut stats = MediaStats::default();
        let (mut decoder, mut encoder) = match (
            InboundDecoder::new(media.codec),
            OutboundEncoder::new(media.codec),
        ) {
            (Ok(d), Ok(e)) => (d, e),
            (Err(error), _) | (_, Err(error)) => {
                warn!(%call_id, %error, "cannot build the G.711 resamplers; media not started");
                return stats;
            }
        };
        let mut jitter = JitterBuffer::new(jitter_max_held, jitter_max_wait);
        let mut dtmf = DtmfDetector::new();
        let mut remote: SocketAddr = media.remote_rtp;
        let mut latched = false;

        let (ssrc, mut sequence, mut timestamp) = {
            let mut rng = rand::rng();
            (
                rng.random::<u32>(),
                rng.random::<u16>(),
                rng.random::<u32>(),
            )
        };
        let sends = matches!(
            media.direction,
            MediaDirection::SendRecv | MediaDirection::SendOnly
        );
        let mut clock = PacingClock::new(Instant::now(), Duration::from_millis(60));
        let mut first_packet = true;
        let mut payload = [0u8; NARROWBAND_FRAME_SAMPLES];
        let mut datagram = Vec::with_capacity(12 + NARROWBAND_FRAME_SAMPLES);
        let mut recv_buf = vec![0u8; 2048];
        let mut ready = Vec::new();

        loop {
            let deadline = tokio::time::Instant::from_std(clock.next_deadline());
            tokio::select! {
                biased;
                () = stop.cancelled() => break,
                () = tokio::time::sleep_until(deadline) => {
                    let now = Instant::now();
                    let (frame, flushed) = outbound.pop();
                    if flushed {
                        encoder.reset();
                    }
                    let encoded = match &frame {
                        Some(frame) => encoder.encode(frame, &mut payload).is_ok(),
                        None => false,
                    };
                    if !encoded {
                        encoder.silence_payload(&mut payload);
                    }
                    if sends {
                        RtpPacket {
                            marker: first_packet,
                            payload_type: media.codec_payload_type,
                            sequence,
                            timestamp,
                            ssrc,
                            payload: &payload,
                        }
                        .write_to(&mut datagram);
                        if let Err(error) = socket.send_to(&datagram, remote).await {
                            debug!(%call_id, %error, %remote, "RTP send failed");
                        }
                        stats.packets_sent += 1;
                        first_packet = false;
                        sequence = sequence.wrapping_add(1);
                    }
                    let skipped = clock.on_sent(now);
                    stats.slots_skipped += skipped;
                    timestamp = timestamp
                        .wrapping_add((NARROWBAND_FRAME_SAMPLES as u32).wrapping_mul(1 + skipped as u32));
                    // The send tick doubles as the jitter buffer's timer.
                    release(&mut jitter, &mut decoder, &events, &mut ready, &mut stats, now);
                }
                received = socket.recv_from(&mut recv_buf) => {
                    let (len, source) = match received {
                        Ok(r) => r,
                        Err(error) => {
                            // ICMP port unreachable surfaces here on some systems; keep going.
                            debug!(%call_id, %error, "RTP receive error");
                            continue;
                        }
                    };
                    let Ok(packet) = RtpPacket::parse(&recv_buf[..len]) else {
                        stats.packets_ignored += 1;
                        continue;
                    };
                    if !latched {
                        if source != remote {
                            info!(%call_id, sdp = %remote, actual = %source, "RTP latched to source address");
                        }
                        remote = source;
                        latched = true;
                    } else if source != remote {
                        stats.packets_ignored += 1;
                        continue;
                    }
                    stats.packets_received += 1;
                    let now = Instant::now();
                    if Some(packet.payload_type) == media.telephone_event_payload_type {
                        for digit in dtmf.on_packet(packet.timestamp, packet.payload).into_iter().flatten() {
                            stats.dtmf_digits += 1;
                            if events.try_send(CallEvent::Dtmf(digit)).is_err() {
                                warn!(%call_id, %digit, "engine not reading call events; DTMF digit dropped");
                            }
                        }
                    } else if packet.payload_type == media.codec_payload_type {
                        jitter.push(packet.sequence, packet.timestamp, packet.payload, now);
                        release(&mut jitter, &mut decoder, &events, &mut ready, &mut stats, now);
                    } else {
                        // Comfort noise (13) and anything unnegotiated.
                        stats.packets_ignored += 1;
                    }
                }
            }
        }
        stats.jitter = jitter.stats();
        debug!(%call_id, ?stats, "media stopped");
        stats
    }
}

fn release(
    jitter: &mut JitterBuffer,
    decoder: &mut InboundDecoder,
    events: &mpsc::Sender<CallEvent>,
    ready: &mut Vec<Playout>,
    stats: &mut MediaStats,
    now: Instant,
) {
    ready.clear();
    jitter.pop_ready(now, ready);
    for playout in ready.drain(..) {
        let mut deliver = |frame| match events.try_send(CallEvent::Audio(frame)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Closed(_)) => {
                stats.frames_dropped_engine_slow += 1;
            }
        };
        match playout {
            Playout::Packet { payload, .. } => {
                if decoder.decode(&payload, &mut deliver).is_err() {
                    // Only a wrong chunk length can fail, and chunks are cut to size.
                    continue;
                }
            }
            Playout::Lost => {
                let frame = decoder.conceal();
                deliver(frame);
            }
        }
    }
}
