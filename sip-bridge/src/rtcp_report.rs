//! RTCP sender and receiver reports (RFC 3550 §6.4), without I/O.
//!
//! Every few seconds a call sends one compound packet on the odd port: an SR while we send
//! RTP (an RR while we do not), with one report block about the caller's stream, then an SDES
//! CNAME. Reports from the peer are parsed for their loss and jitter figures (logged), and the
//! time of their SR is remembered so our next report block carries LSR/DLSR.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The clock rate assumed until told otherwise (G.711).
const DEFAULT_CLOCK_RATE: u32 = 8000;
const NTP_UNIX_OFFSET_SECS: u64 = 2_208_988_800;

/// Statistics about the RTP stream we receive (RFC 3550 Appendix A.1, A.3, A.8).
#[derive(Debug, Clone, Default)]
pub struct ReceptionStats {
    source_ssrc: Option<u32>,
    base_seq: u32,
    max_seq: u16,
    cycles: u32,
    received: u32,
    expected_prior: u32,
    received_prior: u32,
    transit: Option<f64>,
    jitter: f64,
    last_sr: Option<(u32, Instant)>,
    /// RTP clock rate of the stream (0 = [`DEFAULT_CLOCK_RATE`]); jitter is in its units.
    clock_rate: u32,
}

/// One report block as read from a peer's SR/RR.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReportBlock {
    pub ssrc: u32,
    /// Fraction of packets lost since the previous report, 0.0-1.0.
    pub fraction_lost: f64,
    pub cumulative_lost: i32,
    /// Interarrival jitter in RTP timestamp units (8 kHz: 8 units = 1 ms; Opus: 48 = 1 ms).
    pub jitter: u32,
}

/// What a received RTCP packet said.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeerReport {
    pub sender_ssrc: u32,
    /// Middle 32 bits of the SR's NTP timestamp (for LSR), when it was an SR.
    pub sr_ntp_middle: Option<u32>,
    pub block: Option<ReportBlock>,
}

/// What we sent, for the sender-info part of an SR.
#[derive(Debug, Clone, Copy)]
pub struct SenderCounts {
    pub rtp_timestamp: u32,
    pub packets: u32,
    pub octets: u32,
}

impl ReceptionStats {
    /// The stream's RTP clock changed (a re-INVITE switched between G.711 and Opus): jitter
    /// is measured afresh in the new units.
    pub fn set_clock_rate(&mut self, clock_rate: u32) {
        if clock_rate != self.clock_rate {
            self.clock_rate = clock_rate;
            self.transit = None;
            self.jitter = 0.0;
        }
    }

    fn rate(&self) -> f64 {
        f64::from(if self.clock_rate == 0 {
            DEFAULT_CLOCK_RATE
        } else {
            self.clock_rate
        })
    }

    /// Records one received RTP packet (`arrival` in seconds on any monotonic clock).
    pub fn on_packet(&mut self, ssrc: u32, sequence: u16, rtp_timestamp: u32, arrival: f64) {
        if self.source_ssrc != Some(ssrc) {
            *self = ReceptionStats {
                source_ssrc: Some(ssrc),
                base_seq: u32::from(sequence),
                max_seq: sequence,
                last_sr: self.last_sr,
                clock_rate: self.clock_rate,
                ..ReceptionStats::default()
            };
        } else {
            let delta = sequence.wrapping_sub(self.max_seq);
            if delta != 0 && delta < 0x8000 {
                if sequence < self.max_seq {
                    self.cycles += 1 << 16;
                }
                self.max_seq = sequence;
            }
        }
        self.received += 1;
        let rate = self.rate();
        let transit = arrival * rate - f64::from(rtp_timestamp);
        if let Some(previous) = self.transit {
            let d = (transit - previous).abs();
            // Timestamps wrap: ignore absurd jumps rather than poison the estimate.
            if d < rate * 10.0 {
                self.jitter += (d - self.jitter) / 16.0;
            }
        }
        self.transit = Some(transit);
    }

    /// Remembers a peer SR (for LSR/DLSR in our next report block).
    pub fn on_sender_report(&mut self, ntp_middle: u32, at: Instant) {
        self.last_sr = Some((ntp_middle, at));
    }

    fn extended_max(&self) -> u32 {
        self.cycles + u32::from(self.max_seq)
    }

    /// Builds our report block about the peer's stream, or `None` before any packet arrived.
    fn block(&mut self, now: Instant) -> Option<[u8; 24]> {
        let ssrc = self.source_ssrc?;
        let expected = self
            .extended_max()
            .wrapping_sub(self.base_seq)
            .wrapping_add(1);
        let lost = i64::from(expected) - i64::from(self.received);
        let cumulative = lost.clamp(-0x80_0000, 0x7f_ffff) as i32;
        let expected_interval = expected.wrapping_sub(self.expected_prior);
        let received_interval = self.received.wrapping_sub(self.received_prior);
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = i64::from(expected_interval) - i64::from(received_interval);
        let fraction = if expected_interval == 0 || lost_interval <= 0 {
            0u8
        } else {
            ((lost_interval << 8) / i64::from(expected_interval)).min(255) as u8
        };
        let (lsr, dlsr) = match self.last_sr {
            Some((middle, at)) => {
                let delay = now.saturating_duration_since(at).as_secs_f64();
                (middle, (delay * 65536.0) as u32)
            }
            None => (0, 0),
        };
        let mut block = [0u8; 24];
        block[0..4].copy_from_slice(&ssrc.to_be_bytes());
        block[4] = fraction;
        block[5..8].copy_from_slice(&(cumulative as u32).to_be_bytes()[1..4]);
        block[8..12].copy_from_slice(&self.extended_max().to_be_bytes());
        block[12..16].copy_from_slice(&(self.jitter as u32).to_be_bytes());
        block[16..20].copy_from_slice(&lsr.to_be_bytes());
        block[20..24].copy_from_slice(&dlsr.to_be_bytes());
        Some(block)
    }
}

/// The NTP timestamp (seconds since 1900 in 32.32 fixed point) of a wall-clock time.
pub fn ntp_timestamp(at: SystemTime) -> u64 {
    let since_unix = at.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let seconds = since_unix.as_secs() + NTP_UNIX_OFFSET_SECS;
    let fraction = (u64::from(since_unix.subsec_nanos()) << 32) / 1_000_000_000;
    (seconds << 32) | fraction
}

/// Builds a compound RTCP packet: SR (when `sent` is given) or RR, then SDES CNAME.
pub fn build_report(
    our_ssrc: u32,
    sent: Option<SenderCounts>,
    reception: &mut ReceptionStats,
    wall_clock: SystemTime,
    now: Instant,
    cname: &str,
    out: &mut Vec<u8>,
) {
    out.clear();
    let block = reception.block(now);
    let count = u8::from(block.is_some());
    let words = 1 + if sent.is_some() { 5 } else { 0 } + 6 * usize::from(count);
    out.push(0x80 | count);
    out.push(if sent.is_some() { 200 } else { 201 });
    out.extend_from_slice(&((words) as u16).to_be_bytes());
    out.extend_from_slice(&our_ssrc.to_be_bytes());
    if let Some(sent) = sent {
        out.extend_from_slice(&ntp_timestamp(wall_clock).to_be_bytes());
        out.extend_from_slice(&sent.rtp_timestamp.to_be_bytes());
        out.extend_from_slice(&sent.packets.to_be_bytes());
        out.extend_from_slice(&sent.octets.to_be_bytes());
    }
    if let Some(block) = block {
        out.extend_from_slice(&block);
    }
    // SDES: one chunk, CNAME item, null-terminated and padded to a 32-bit boundary.
    let cname = &cname.as_bytes()[..cname.len().min(255)];
    let chunk_len = 4 + 2 + cname.len() + 1;
    let padded = chunk_len.div_ceil(4) * 4;
    out.push(0x81);
    out.push(202);
    out.extend_from_slice(&((padded / 4) as u16).to_be_bytes());
    out.extend_from_slice(&our_ssrc.to_be_bytes());
    out.push(1);
    out.push(cname.len() as u8);
    out.extend_from_slice(cname);
    out.resize(out.len() + (padded - chunk_len) + 1, 0);
}

/// Parses the first SR or RR of a compound RTCP packet.
pub fn parse_report(datagram: &[u8]) -> Option<PeerReport> {
    let mut rest = datagram;
    while rest.len() >= 8 {
        if rest[0] >> 6 != 2 {
            return None;
        }
        let count = usize::from(rest[0] & 0x1f);
        let kind = rest[1];
        let length = (usize::from(u16::from_be_bytes([rest[2], rest[3]])) + 1) * 4;
        if length > rest.len() {
            return None;
        }
        let packet = &rest[..length];
        // A length of 0 words is a bare 4-byte header (a BYE may be one); an SR or RR that
        // short has no SSRC and is skipped like any other packet.
        let (sr_ntp_middle, blocks_at) = match kind {
            200 if packet.len() >= 28 => (
                Some(u32::from_be_bytes([
                    packet[10], packet[11], packet[12], packet[13],
                ])),
                28,
            ),
            201 if packet.len() >= 8 => (None, 8),
            _ => {
                rest = &rest[length..];
                continue;
            }
        };
        let sender_ssrc = u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]);
        let block = (count > 0 && packet.len() >= blocks_at + 24).then(|| {
            let b = &packet[blocks_at..blocks_at + 24];
            let lost = i32::from_be_bytes([b[5], b[6], b[7], 0]) >> 8;
            ReportBlock {
                ssrc: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
                fraction_lost: f64::from(b[4]) / 256.0,
                cumulative_lost: lost,
                jitter: u32::from_be_bytes([b[12], b[13], b[14], b[15]]),
            }
        });
        return Some(PeerReport {
            sender_ssrc,
            sr_ntp_middle,
            block,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receiver_report_counts_loss_and_round_trips() {
        let mut stats = ReceptionStats::default();
        // 100 packets sent, 90 received (every 10th lost), perfectly timed.
        for n in 0u16..100 {
            if n % 10 == 3 {
                continue;
            }
            let seq = 65500u16.wrapping_add(n); // wraps past 65535
            stats.on_packet(0xabcd, seq, u32::from(n) * 160, f64::from(n) * 0.02);
        }
        let mut out = Vec::new();
        let now = Instant::now();
        build_report(
            7,
            None,
            &mut stats,
            SystemTime::now(),
            now,
            "hotline",
            &mut out,
        );
        assert_eq!(out.len() % 4, 0);
        let report = parse_report(&out).unwrap();
        assert_eq!(report.sender_ssrc, 7);
        assert_eq!(report.sr_ntp_middle, None);
        let block = report.block.unwrap();
        assert_eq!(block.ssrc, 0xabcd);
        assert_eq!(block.cumulative_lost, 10);
        assert!((block.fraction_lost - 0.1).abs() < 0.01, "{block:?}");
        assert!(block.jitter < 2, "perfect timing has no jitter: {block:?}");
        // The next interval saw no packets: nothing new lost.
        build_report(
            7,
            None,
            &mut stats,
            SystemTime::now(),
            now,
            "hotline",
            &mut out,
        );
        assert_eq!(
            parse_report(&out).unwrap().block.unwrap().fraction_lost,
            0.0
        );
    }

    #[test]
    fn sender_report_carries_ntp_and_jitter_grows_with_uneven_arrival() {
        let mut stats = ReceptionStats::default();
        for n in 0u16..50 {
            let wobble = if n % 2 == 0 { 0.0 } else { 0.01 };
            stats.on_packet(1, n, u32::from(n) * 160, f64::from(n) * 0.02 + wobble);
        }
        let mut out = Vec::new();
        let wall = SystemTime::now();
        let sent = SenderCounts {
            rtp_timestamp: 1234,
            packets: 50,
            octets: 8000,
        };
        build_report(
            9,
            Some(sent),
            &mut stats,
            wall,
            Instant::now(),
            "h",
            &mut out,
        );
        let report = parse_report(&out).unwrap();
        let ntp = ntp_timestamp(wall);
        assert_eq!(report.sr_ntp_middle, Some((ntp >> 16) as u32));
        let jitter = report.block.unwrap().jitter;
        // 10 ms alternating offsets = 80 timestamp units of transit change per packet.
        assert!((50..=80).contains(&jitter), "jitter {jitter}");
    }

    #[test]
    fn jitter_is_counted_in_the_streams_own_clock() {
        // The same 10 ms wobble, in an Opus stream (48 kHz timestamps): 480 units of transit
        // change per packet, six times the 8 kHz figure. Read with the 8 kHz clock, steady
        // 960-unit steps would look like 800 units of jitter per packet.
        let mut opus = ReceptionStats::default();
        opus.set_clock_rate(48_000);
        for n in 0..50u16 {
            let wobble = if n % 2 == 0 { 0.0 } else { 0.01 };
            opus.on_packet(1, n, u32::from(n) * 960, f64::from(n) * 0.02 + wobble);
        }
        let mut out = Vec::new();
        build_report(
            9,
            None,
            &mut opus,
            SystemTime::now(),
            Instant::now(),
            "h",
            &mut out,
        );
        let jitter = parse_report(&out).unwrap().block.unwrap().jitter;
        assert!((300..=480).contains(&jitter), "jitter {jitter}");
        let mut steady = ReceptionStats::default();
        steady.set_clock_rate(48_000);
        for n in 0..50u16 {
            steady.on_packet(1, n, u32::from(n) * 960, f64::from(n) * 0.02);
        }
        build_report(
            9,
            None,
            &mut steady,
            SystemTime::now(),
            Instant::now(),
            "h",
            &mut out,
        );
        assert!(parse_report(&out).unwrap().block.unwrap().jitter < 2);
    }

    #[test]
    fn garbage_is_not_a_report() {
        for junk in [
            &b""[..],
            b"\x80\xc8\x00\x06",
            b"\x00\x00\x00\x00\x00\x00\x00\x00",
        ] {
            assert_eq!(parse_report(junk), None);
        }
        assert_eq!(parse_report(&[0x80, 201, 0, 200, 0, 0, 0, 1]), None);
    }

    /// Found by the `rtcp` fuzz target (fuzz/regressions/rtcp/rr-of-zero-words): an RR whose
    /// length field says 0 words is 4 bytes, and reading its SSRC went past it (a panic on
    /// the RTCP receive path).
    #[test]
    fn a_report_of_zero_words_is_skipped_not_read_past() {
        let sdes_then_short_rr = [
            0x81, 202, 0, 2, 0, 0, 0, 1, 1, 2, b'a', b'b', 0x80, 201, 0, 0, 2, 0, 0xbe, 0xef,
        ];
        assert_eq!(parse_report(&sdes_then_short_rr), None);
        let mut short_rr_then_rr = vec![0x80, 201, 0, 0];
        short_rr_then_rr.extend_from_slice(&[0x80, 201, 0, 1, 0, 0, 0, 9]);
        assert_eq!(
            parse_report(&short_rr_then_rr).map(|r| r.sender_ssrc),
            Some(9)
        );
    }
}
