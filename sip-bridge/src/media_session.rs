//! The RTP task of one call leg: receive, reorder, decode to frames; send one packet every
//! 20 ms; RTCP reports on the odd port; end the call when RTP stops.
//!
//! One task per leg owns the sockets and all per-leg state, so nothing is shared with other
//! calls but the runtime. The send side runs on an absolute schedule ([`PacingClock`]); what
//! each slot carries (a DTMF key press, queued audio, or silence so the caller's jitter buffer
//! and any NAT binding stay fed) is decided by the [`RtpSender`]. The receive side latches onto
//! the source address of the first valid RTP packet (symmetric RTP, RFC 4961) and ignores other
//! sources afterwards. A re-INVITE changes the negotiated media through a watch channel: hold
//! (sendonly/inactive) stops our sending, resume restarts it, a new codec (G.711 ↔ Opus) or
//! address takes effect on the next packet.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rand::Rng;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::call::CallEvent;
use crate::dtmf_event::DtmfDetector;
use crate::edge_codec::InboundDecoder;
use crate::frame_forward::FrameForward;
use crate::jitter_buffer::{JitterBuffer, JitterStats, Playout};
use crate::outbound_queue::OutboundQueue;
use crate::pacing_clock::PacingClock;
use crate::rtcp_report::{ReceptionStats, build_report, parse_report};
use crate::rtp_packet::RtpPacket;
use crate::rtp_ports::RtpSocketPair;
use crate::rtp_sender::RtpSender;
use crate::sdp::NegotiatedMedia;
use crate::send_lateness::record_send_lateness;

/// How often RTCP reports go out.
pub(crate) const RTCP_INTERVAL: Duration = Duration::from_secs(5);

/// Everything a media task needs.
pub(crate) struct MediaSession {
    pub sockets: RtpSocketPair,
    pub media: watch::Receiver<NegotiatedMedia>,
    pub outbound: Arc<OutboundQueue>,
    pub events: mpsc::Sender<CallEvent>,
    /// Where decoded inbound frames are also relayed (the other leg, while bridged).
    pub forward: Arc<FrameForward>,
    pub stop: CancellationToken,
    pub jitter_max_held: usize,
    pub jitter_max_wait: Duration,
    /// End the leg when no RTP arrives for this long while we expect some.
    pub rtp_timeout: Option<Duration>,
    pub call_id: String,
}

/// What a finished media task reports (logged; later exported as metrics).
#[derive(Debug, Clone, Copy, Default)]
pub struct MediaStats {
    pub packets_sent: u64,
    /// Payload bytes sent (Opus packets vary in size; G.711 is 160 a packet).
    pub octets_sent: u64,
    /// DTMF key presses sent as RFC 4733 telephone-events.
    pub dtmf_digits_sent: u64,
    /// Frames the codec could not encode (silence went out instead).
    pub encode_failures: u64,
    /// Received audio payloads the codec refused (a malformed Opus packet), concealed.
    pub payloads_undecodable: u64,
    pub slots_skipped: u64,
    pub packets_received: u64,
    pub packets_ignored: u64,
    pub frames_dropped_engine_slow: u64,
    pub dtmf_digits: u64,
    pub rtcp_sent: u64,
    pub rtcp_received: u64,
    /// The peer's last reported loss of our stream (fraction, 0-1).
    pub peer_reported_loss: f64,
    /// The task ended because RTP stopped arriving (the call is dead).
    pub rtp_timed_out: bool,
    pub jitter: JitterStats,
}

fn build_decoder(media: &NegotiatedMedia, call_id: &str) -> Option<InboundDecoder> {
    InboundDecoder::new(media.codec)
        .inspect_err(|error| warn!(%call_id, %error, codec = ?media.codec, "cannot build the decoder; media stopped"))
        .ok()
}

impl MediaSession {
    pub(crate) async fn run(self) -> MediaStats {
        let MediaSession {
            sockets,
            media: mut media_updates,
            outbound,
            events,
            forward,
            stop,
            jitter_max_held,
            jitter_max_wait,
            rtp_timeout,
            call_id,
        } = self;
        let RtpSocketPair {
            rtp: socket,
            rtcp: rtcp_socket,
            ..
        } = sockets;
        let mut stats = MediaStats::default();
        let mut media = *media_updates.borrow_and_update();
        let Some(mut decoder) = build_decoder(&media, &call_id) else {
            return stats;
        };
        let (ssrc, sequence, timestamp) = {
            let mut rng = rand::rng();
            (
                rng.random::<u32>(),
                rng.random::<u16>(),
                rng.random::<u32>(),
            )
        };
        let mut sender = match RtpSender::new(&media, ssrc, sequence, timestamp) {
            Ok(sender) => sender,
            Err(error) => {
                warn!(%call_id, %error, codec = ?media.codec, "cannot build the encoder; media not started");
                return stats;
            }
        };
        let mut jitter = JitterBuffer::new(jitter_max_held, jitter_max_wait);
        let mut dtmf = DtmfDetector::new();
        let mut remote: SocketAddr = media.remote_rtp;
        let mut latched = false;
        let mut rtcp_remote = SocketAddr::new(remote.ip(), remote.port().wrapping_add(1));
        let mut rtcp_latched = false;
        let mut reception = ReceptionStats::default();
        reception.set_clock_rate(media.codec.clock_rate());
        let clock_origin = Instant::now();
        let mut updates_open = true;

        let mut clock = PacingClock::new(Instant::now(), Duration::from_millis(60));
        let mut next_rtcp = Instant::now() + RTCP_INTERVAL;
        let mut last_rtp = Instant::now();
        let mut report = Vec::with_capacity(128);
        let mut recv_buf = vec![0u8; 2048];
        let mut rtcp_buf = vec![0u8; 1500];
        let mut ready = Vec::new();

        loop {
            let deadline = tokio::time::Instant::from_std(clock.next_deadline());
            tokio::select! {
                biased;
                () = stop.cancelled() => break,
                changed = media_updates.changed(), if updates_open => {
                    if changed.is_err() {
                        updates_open = false;
                        continue;
                    }
                    let next = *media_updates.borrow_and_update();
                    if next.codec != media.codec {
                        let Some(fresh) = build_decoder(&next, &call_id) else { break };
                        decoder = fresh;
                        jitter = JitterBuffer::new(jitter_max_held, jitter_max_wait);
                        reception.set_clock_rate(next.codec.clock_rate());
                    }
                    if let Err(error) = sender.media_changed(&media, &next) {
                        warn!(%call_id, %error, codec = ?next.codec, "cannot build the encoder; media stopped");
                        break;
                    }
                    if next.telephone_event.is_none() {
                        let dropped = outbound.drop_keys();
                        if dropped > 0 {
                            warn!(%call_id, dropped, "the re-INVITE dropped telephone-event; queued DTMF keys not sent");
                        }
                    }
                    if next.remote_rtp != media.remote_rtp && !next.remote_rtp.ip().is_unspecified() {
                        remote = next.remote_rtp;
                        rtcp_remote = SocketAddr::new(remote.ip(), remote.port().wrapping_add(1));
                        latched = false;
                        rtcp_latched = false;
                    }
                    info!(%call_id, codec = ?next.codec, direction = ?next.direction, "media changed by re-INVITE");
                    media = next;
                    last_rtp = Instant::now();
                }
                () = tokio::time::sleep_until(deadline) => {
                    let now = Instant::now();
                    let due = clock.next_deadline();
                    if let Some(datagram) = sender.slot(&media, &outbound) {
                        if let Err(error) = socket.send_to(datagram, remote).await {
                            debug!(%call_id, %error, %remote, "RTP send failed");
                        }
                        record_send_lateness(Instant::now().saturating_duration_since(due));
                    }
                    let skipped = clock.on_sent(now);
                    stats.slots_skipped += skipped;
                    sender.advance(media.codec, skipped);
                    // The send tick doubles as the jitter buffer's timer.
                    release(&mut jitter, &mut decoder, &events, &forward, &mut ready, &mut stats, now);

                    if now >= next_rtcp {
                        next_rtcp = now + RTCP_INTERVAL;
                        let sent = media.direction.sends().then(|| sender.sender_counts());
                        build_report(ssrc, sent, &mut reception, SystemTime::now(), now, "hotline", &mut report);
                        if rtcp_socket.send_to(&report, rtcp_remote).await.is_ok() {
                            stats.rtcp_sent += 1;
                        }
                    }
                    if !media.direction.receives() {
                        last_rtp = now;
                    } else if let Some(limit) = rtp_timeout
                        && now.saturating_duration_since(last_rtp) > limit
                    {
                        warn!(%call_id, seconds = limit.as_secs_f32(), "no RTP from the peer; ending the dead call");
                        stats.rtp_timed_out = true;
                        break;
                    }
                }
                received = rtcp_socket.recv_from(&mut rtcp_buf) => {
                    let Ok((len, source)) = received else { continue };
                    let Some(peer) = parse_report(&rtcp_buf[..len]) else { continue };
                    stats.rtcp_received += 1;
                    if !rtcp_latched {
                        rtcp_remote = source;
                        rtcp_latched = true;
                    }
                    if let Some(middle) = peer.sr_ntp_middle {
                        reception.on_sender_report(middle, Instant::now());
                    }
                    if let Some(block) = peer.block.filter(|b| b.ssrc == ssrc) {
                        stats.peer_reported_loss = block.fraction_lost;
                        sender.on_peer_loss(block.fraction_lost);
                        debug!(%call_id, loss = block.fraction_lost, lost = block.cumulative_lost,
                               jitter = block.jitter, "RTCP report from the peer");
                    }
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
                        if !rtcp_latched {
                            rtcp_remote = SocketAddr::new(source.ip(), source.port().wrapping_add(1));
                        }
                        latched = true;
                    } else if source != remote {
                        stats.packets_ignored += 1;
                        continue;
                    }
                    stats.packets_received += 1;
                    let now = Instant::now();
                    last_rtp = now;
                    reception.on_packet(
                        packet.ssrc,
                        packet.sequence,
                        packet.timestamp,
                        now.duration_since(clock_origin).as_secs_f64(),
                    );
                    if Some(packet.payload_type) == media.telephone_event.map(|te| te.payload_type) {
                        // Events take the stream's sequence numbers; the audio gap is no loss.
                        jitter.skip(packet.sequence, now);
                        for digit in dtmf.on_packet(packet.timestamp, packet.payload).into_iter().flatten() {
                            stats.dtmf_digits += 1;
                            info!(%call_id, %digit, "DTMF digit from an RTP telephone-event (RFC 4733)");
                            if events.try_send(CallEvent::Dtmf(digit)).is_err() {
                                warn!(%call_id, %digit, "engine not reading call events; DTMF digit dropped");
                            }
                        }
                    } else if packet.payload_type == media.codec_payload_type {
                        jitter.push(packet.sequence, packet.timestamp, packet.payload, now);
                    } else {
                        // Comfort noise (13) and anything unnegotiated.
                        jitter.skip(packet.sequence, now);
                        stats.packets_ignored += 1;
                    }
                    release(&mut jitter, &mut decoder, &events, &forward, &mut ready, &mut stats, now);
                }
            }
        }
        stats.jitter = jitter.stats();
        let sent = sender.counts();
        stats.packets_sent = sent.packets;
        stats.octets_sent = sent.octets;
        stats.dtmf_digits_sent = sent.keys;
        stats.encode_failures = sent.encode_failures;
        debug!(%call_id, ?stats, "media stopped");
        stats
    }
}

fn release(
    jitter: &mut JitterBuffer,
    decoder: &mut InboundDecoder,
    events: &mpsc::Sender<CallEvent>,
    forward: &FrameForward,
    ready: &mut Vec<Playout>,
    stats: &mut MediaStats,
    now: Instant,
) {
    ready.clear();
    jitter.pop_ready(now, ready);
    let mut dropped = 0;
    let mut deliver = |frame: hotline_audio::Frame| {
        forward.forward(&frame);
        match events.try_send(CallEvent::Audio(frame)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Closed(_)) => dropped += 1,
        }
    };
    for (i, playout) in ready.iter().enumerate() {
        match playout {
            Playout::Packet { payload, .. } => {
                if let Err(error) = decoder.decode(payload, &mut deliver) {
                    // A malformed packet (Opus) is a lost one: conceal it, keep the clock.
                    stats.payloads_undecodable += 1;
                    if stats.payloads_undecodable == 1 {
                        debug!(%error, "undecodable RTP payload concealed");
                    }
                    decoder.conceal(None, &mut deliver);
                }
            }
            Playout::Lost => {
                // The packet after the gap, when already here, carries Opus FEC for this one.
                let next = match ready.get(i + 1) {
                    Some(Playout::Packet { payload, .. }) => Some(payload.as_slice()),
                    _ => None,
                };
                decoder.conceal(next, &mut deliver);
            }
        }
    }
    stats.frames_dropped_engine_slow += dropped;
    ready.clear();
}
