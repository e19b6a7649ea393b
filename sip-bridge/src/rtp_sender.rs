//! The sending half of a leg's RTP, without I/O: what goes out in each 20 ms slot.
//!
//! Each slot carries one packet: a DTMF key press in progress (RFC 4733 telephone-events; the
//! queued audio waits meanwhile), else the next queued frame, else silence. Sequence numbers
//! count packets sent; the timestamp counts slots at the codec's clock (160 per slot for G.711,
//! 960 for Opus), so slots skipped by a stalled runtime or spent on hold still move it on. The
//! payload and datagram buffers are reused: nothing is allocated per packet.

use crate::dtmf_sender::{DtmfEventSender, EventPacket};
use crate::edge_codec::{MAX_PAYLOAD_BYTES, OutboundEncoder};
use crate::error::EdgeCodecError;
use crate::outbound_queue::OutboundQueue;
use crate::rtcp_report::SenderCounts;
use crate::rtp_packet::{RTP_HEADER_LEN, RtpPacket};
use crate::sdp::{AudioCodec, NegotiatedMedia};

/// Audio slots between two key presses (60 ms: receivers need a pause to see two presses).
pub(crate) const KEY_GAP_SLOTS: u32 = 3;

/// What the sender has put on the wire so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SentCounts {
    pub packets: u64,
    /// Payload bytes (RTCP's sender octet count), real sizes: Opus packets vary.
    pub octets: u64,
    pub keys: u64,
    /// Frames the codec could not encode (silence went out instead).
    pub encode_failures: u64,
}

/// The header fields that differ between packets of one stream.
#[derive(Debug, Clone, Copy)]
struct Header {
    marker: bool,
    payload_type: u8,
    timestamp: u32,
}

pub(crate) struct RtpSender {
    ssrc: u32,
    sequence: u16,
    timestamp: u32,
    /// Marker bit on the next audio packet (start of the stream, after hold).
    talkspurt: bool,
    encoder: OutboundEncoder,
    payload: [u8; MAX_PAYLOAD_BYTES],
    datagram: Vec<u8>,
    key: Option<DtmfEventSender>,
    /// Audio slots still to pass before the next key press may start.
    key_gap: u32,
    counts: SentCounts,
}

impl RtpSender {
    /// A sender for `media`, starting at the given (random) SSRC, sequence and timestamp.
    pub fn new(
        media: &NegotiatedMedia,
        ssrc: u32,
        sequence: u16,
        timestamp: u32,
    ) -> Result<RtpSender, EdgeCodecError> {
        Ok(RtpSender {
            ssrc,
            sequence,
            timestamp,
            talkspurt: true,
            encoder: OutboundEncoder::new(media.codec, &media.opus)?,
            payload: [0; MAX_PAYLOAD_BYTES],
            datagram: Vec::with_capacity(RTP_HEADER_LEN + MAX_PAYLOAD_BYTES),
            key: None,
            key_gap: 0,
            counts: SentCounts::default(),
        })
    }

    /// A re-INVITE changed the media: a new codec gets a new encoder, a changed
    /// telephone-event format ends the key press in progress, a resume starts a talkspurt.
    pub fn media_changed(
        &mut self,
        previous: &NegotiatedMedia,
        next: &NegotiatedMedia,
    ) -> Result<(), EdgeCodecError> {
        if next.codec != previous.codec || next.opus != previous.opus {
            self.encoder = OutboundEncoder::new(next.codec, &next.opus)?;
            self.talkspurt = true;
        }
        if next.telephone_event != previous.telephone_event {
            self.key = None;
        }
        if !previous.direction.sends() && next.direction.sends() {
            self.talkspurt = true;
        }
        Ok(())
    }

    /// The datagram for this slot, or `None` when nothing is sent (on hold, or the codec
    /// failed even on silence). Call [`Self::advance`] after every slot either way.
    pub fn slot(&mut self, media: &NegotiatedMedia, outbound: &OutboundQueue) -> Option<&[u8]> {
        let sends = media.direction.sends();
        if !sends {
            self.key = None;
        }
        if self.key.is_none()
            && sends
            && self.key_gap == 0
            && let Some(events) = media.telephone_event
            && let Some(tone) = outbound.pop_key()
        {
            self.key = Some(DtmfEventSender::start(
                tone,
                self.timestamp,
                events.clock_rate,
            ));
            self.counts.keys += 1;
        }
        if let (Some(key), Some(events)) = (&mut self.key, media.telephone_event)
            && let Some(packet) = key.next_packet()
        {
            if key.is_done() {
                self.key = None;
                self.key_gap = KEY_GAP_SLOTS;
            }
            let EventPacket {
                marker,
                timestamp,
                payload,
            } = packet;
            let header = Header {
                marker,
                payload_type: events.payload_type,
                timestamp,
            };
            return Some(self.put(header, &payload));
        }
        self.key = None;
        self.key_gap = self.key_gap.saturating_sub(1);

        let (frame, flushed) = outbound.pop();
        if flushed {
            self.encoder.reset();
        }
        if !sends {
            return None;
        }
        let len = match self.encoder.encode(frame.as_ref(), &mut self.payload) {
            Ok(len) => len,
            Err(_) => {
                self.counts.encode_failures += 1;
                self.encoder.encode(None, &mut self.payload).ok()?
            }
        };
        let header = Header {
            marker: std::mem::take(&mut self.talkspurt),
            payload_type: media.codec_payload_type,
            timestamp: self.timestamp,
        };
        RtpSender::write(
            &mut self.datagram,
            &mut self.sequence,
            &mut self.counts,
            self.ssrc,
            header,
            &self.payload[..len],
        );
        Some(&self.datagram)
    }

    fn put(&mut self, header: Header, payload: &[u8]) -> &[u8] {
        RtpSender::write(
            &mut self.datagram,
            &mut self.sequence,
            &mut self.counts,
            self.ssrc,
            header,
            payload,
        );
        &self.datagram
    }

    fn write(
        datagram: &mut Vec<u8>,
        sequence: &mut u16,
        counts: &mut SentCounts,
        ssrc: u32,
        header: Header,
        payload: &[u8],
    ) {
        RtpPacket {
            marker: header.marker,
            payload_type: header.payload_type,
            sequence: *sequence,
            timestamp: header.timestamp,
            ssrc,
            payload,
        }
        .write_to(datagram);
        *sequence = sequence.wrapping_add(1);
        counts.packets += 1;
        counts.octets += payload.len() as u64;
    }

    /// Moves the RTP clock past this slot and `skipped` missed ones, at `codec`'s rate.
    pub fn advance(&mut self, codec: AudioCodec, skipped: u64) {
        let slots = 1u32.wrapping_add(skipped as u32);
        self.timestamp = self
            .timestamp
            .wrapping_add(codec.timestamp_step().wrapping_mul(slots));
    }

    /// The peer reported `fraction` (0-1) of our packets lost.
    pub fn on_peer_loss(&mut self, fraction: f64) {
        self.encoder.on_peer_loss(fraction);
    }

    pub fn counts(&self) -> SentCounts {
        self.counts
    }

    /// The sender-info part of our next SR.
    pub fn sender_counts(&self) -> SenderCounts {
        SenderCounts {
            rtp_timestamp: self.timestamp,
            packets: self.counts.packets as u32,
            octets: self.counts.octets as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hotline_audio::Frame;
    use hotline_audio::allocation_count::{CountingAllocator, allocations_during};

    use super::*;
    use crate::dtmf_event::{DtmfDetector, TelephoneEvent};
    use crate::dtmf_sender::DtmfTone;
    use crate::opus_fmtp::OpusFmtp;
    use crate::sdp::{MediaDirection, TelephoneEventFormat};

    /// Counts this thread's heap allocations (the unit tests' allocator).
    #[global_allocator]
    static GLOBAL: CountingAllocator = CountingAllocator;

    fn media(codec: AudioCodec, pt: u8, events: Option<(u8, u32)>) -> NegotiatedMedia {
        NegotiatedMedia {
            codec,
            codec_payload_type: pt,
            opus: OpusFmtp::default(),
            telephone_event: events.map(|(payload_type, clock_rate)| TelephoneEventFormat {
                payload_type,
                clock_rate,
            }),
            remote_rtp: "127.0.0.1:4000".parse().unwrap(),
            direction: MediaDirection::SendRecv,
        }
    }

    fn tone(index: usize) -> Frame {
        let n0 = index * hotline_audio::FRAME_SAMPLES;
        let samples: Vec<i16> = (n0..n0 + hotline_audio::FRAME_SAMPLES)
            .map(|n| (6000.0 * (2.0 * std::f64::consts::PI * 500.0 * n as f64 / 16e3).sin()) as i16)
            .collect();
        Frame::from_slice(&samples).unwrap()
    }

    #[derive(Debug, Clone)]
    struct Sent {
        marker: bool,
        payload_type: u8,
        sequence: u16,
        timestamp: u32,
        payload: Vec<u8>,
    }

    fn slot(
        sender: &mut RtpSender,
        media: &NegotiatedMedia,
        queue: &OutboundQueue,
    ) -> Option<Sent> {
        let sent = sender.slot(media, queue).map(|datagram| {
            let p = RtpPacket::parse(datagram).unwrap();
            Sent {
                marker: p.marker,
                payload_type: p.payload_type,
                sequence: p.sequence,
                timestamp: p.timestamp,
                payload: p.payload.to_vec(),
            }
        });
        sender.advance(media.codec, 0);
        sent
    }

    #[test]
    fn g711_slots_hold_and_resume() {
        let mut m = media(AudioCodec::Pcmu, 0, None);
        let queue = OutboundQueue::new();
        let mut sender = RtpSender::new(&m, 7, 65534, 1000).unwrap();
        queue.push(tone(0));
        let sent: Vec<Sent> = (0..3)
            .filter_map(|_| slot(&mut sender, &m, &queue))
            .collect();
        assert_eq!(sent.len(), 3);
        assert_eq!(
            sent.iter()
                .map(|s| (s.marker, s.sequence, s.timestamp))
                .collect::<Vec<_>>(),
            [(true, 65534, 1000), (false, 65535, 1160), (false, 0, 1320)]
        );
        assert!(
            sent.iter()
                .all(|s| s.payload.len() == 160 && s.payload_type == 0)
        );
        assert!(
            sent[1].payload.iter().all(|&b| b == 0xff),
            "nothing queued: silence"
        );
        // Hold: nothing sent, queued audio still consumed, the clock still runs.
        let held = NegotiatedMedia {
            direction: MediaDirection::RecvOnly,
            ..m
        };
        sender.media_changed(&m, &held).unwrap();
        queue.push(tone(1));
        assert!(slot(&mut sender, &held, &queue).is_none());
        assert_eq!(queue.len(), 0);
        sender.media_changed(&held, &m).unwrap();
        let resumed = slot(&mut sender, &m, &queue).unwrap();
        assert_eq!(
            (resumed.marker, resumed.sequence, resumed.timestamp),
            (true, 1, 1640)
        );
        // A codec change to Opus: 960 per slot, variable sizes, a new talkspurt.
        let opus = media(AudioCodec::Opus, 111, None);
        sender.media_changed(&m, &opus).unwrap();
        m = opus;
        let first = slot(&mut sender, &m, &queue).unwrap();
        let second = slot(&mut sender, &m, &queue).unwrap();
        assert!(first.marker && first.payload_type == 111);
        assert_eq!(second.timestamp.wrapping_sub(first.timestamp), 960);
        assert!(first.payload.len() < 160);
    }

    #[test]
    fn opus_octets_count_the_real_payload_sizes() {
        let m = media(AudioCodec::Opus, 96, None);
        let queue = OutboundQueue::new();
        let mut sender = RtpSender::new(&m, 7, 0, 0).unwrap();
        queue.extend((0..20).map(tone));
        let sizes: Vec<usize> = (0..25)
            .map(|_| slot(&mut sender, &m, &queue).unwrap().payload.len())
            .collect();
        let counts = sender.sender_counts();
        assert_eq!(counts.packets, 25);
        assert_eq!(counts.octets as usize, sizes.iter().sum::<usize>());
        assert_eq!(counts.rtp_timestamp, 25 * 960);
        assert!(
            sizes[..20].iter().all(|&s| s > 20),
            "tone packets {sizes:?}"
        );
        assert!(
            sizes[22..].iter().all(|&s| s < 20),
            "silence packets {sizes:?}"
        );
    }

    #[test]
    fn a_key_press_holds_the_audio_back_then_the_next_waits_for_a_gap() {
        let m = media(AudioCodec::Pcmu, 0, Some((101, 8000)));
        let queue = OutboundQueue::new();
        let mut sender = RtpSender::new(&m, 7, 100, 5000).unwrap();
        queue.extend((0..10).map(tone));
        let key = |d| DtmfTone::new(d, Duration::from_millis(100)).unwrap();
        queue.push_keys(&[key('1'), key('#')]).unwrap();
        let mut sent = Vec::new();
        for _ in 0..7 {
            sent.push(slot(&mut sender, &m, &queue).unwrap());
            assert_eq!(queue.len(), 10, "audio waits while the key is sent");
        }
        for _ in 0..(KEY_GAP_SLOTS as usize + 7 + 9) {
            sent.push(slot(&mut sender, &m, &queue).unwrap());
        }
        let kinds: String = sent
            .iter()
            .map(|s| if s.payload_type == 101 { 'e' } else { 'a' })
            .collect();
        assert_eq!(kinds, "eeeeeeeaaaeeeeeeeaaaaaaaaa");
        for pair in sent.windows(2) {
            assert_eq!(pair[1].sequence, pair[0].sequence.wrapping_add(1));
        }
        let first_key = &sent[..7];
        assert!(first_key.iter().all(|s| s.timestamp == 5000));
        assert!(first_key[0].marker && first_key[1..].iter().all(|s| !s.marker));
        let ends: Vec<(bool, u16)> = first_key
            .iter()
            .map(|s| TelephoneEvent::parse(&s.payload).unwrap())
            .map(|e| (e.end, e.duration))
            .collect();
        assert_eq!(ends[4..], [(true, 800), (true, 800), (true, 800)]);
        assert_eq!(
            sent[10].timestamp,
            5000 + 10 * 160,
            "second key starts in its own slot"
        );
        let mut detector = DtmfDetector::new();
        let digits: String = sent
            .iter()
            .filter(|s| s.payload_type == 101)
            .flat_map(|s| detector.on_packet(s.timestamp, &s.payload))
            .flatten()
            .collect();
        assert_eq!(digits, "1#");
        assert_eq!(queue.len(), 0, "all 10 frames went out after the keys");
        let audio_loud = sent
            .iter()
            .filter(|s| s.payload_type == 0 && s.payload.iter().any(|&b| b != 0xff))
            .count();
        assert_eq!(audio_loud, 10);
        assert_eq!(sender.counts().keys, 2);
    }

    #[test]
    fn keys_wait_while_events_are_not_negotiated_and_a_48k_press_counts_48k_units() {
        let plain = media(AudioCodec::Opus, 111, None);
        let queue = OutboundQueue::new();
        let mut sender = RtpSender::new(&plain, 7, 0, 0).unwrap();
        queue
            .push_keys(&[DtmfTone::new('5', Duration::from_millis(40)).unwrap()])
            .unwrap();
        assert_eq!(slot(&mut sender, &plain, &queue).unwrap().payload_type, 111);
        let with_events = media(AudioCodec::Opus, 111, Some((100, 48_000)));
        sender.media_changed(&plain, &with_events).unwrap();
        let durations: Vec<u16> = (0..4)
            .map(|_| slot(&mut sender, &with_events, &queue).unwrap())
            .map(|s| {
                assert_eq!(s.payload_type, 100);
                TelephoneEvent::parse(&s.payload).unwrap().duration
            })
            .collect();
        assert_eq!(durations, [960, 1920, 1920, 1920]);
    }

    #[test]
    fn sending_allocates_nothing_per_packet() {
        let queue = OutboundQueue::new();
        for m in [
            media(AudioCodec::Pcma, 8, Some((101, 8000))),
            media(AudioCodec::Opus, 111, Some((101, 48_000))),
        ] {
            let mut sender = RtpSender::new(&m, 7, 0, 0).unwrap();
            queue.extend((0..30).map(tone));
            queue
                .push_keys(&[DtmfTone::new('9', Duration::from_millis(60)).unwrap()])
                .unwrap();
            let mut bytes = 0;
            let allocations = allocations_during(|| {
                for _ in 0..40 {
                    bytes += sender.slot(&m, &queue).map_or(0, <[u8]>::len);
                    sender.advance(m.codec, 0);
                }
            });
            assert_eq!(allocations, 0, "{:?}", m.codec);
            assert!(bytes > 0);
        }
    }
}
