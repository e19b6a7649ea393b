//! A small reordering jitter buffer for inbound RTP, without I/O.
//!
//! The engine's consumer is ASR, not a loudspeaker, so the buffer adds delay only when packets
//! arrive out of order: in-order packets leave at once; a gap holds later packets back until the
//! missing one arrives, `max_held` packets pile up, or the oldest held packet has waited
//! `max_wait`; then the gap is declared lost and reported as [`Playout::Lost`] so the caller
//! can conceal it. Packets older than what was already released (late or duplicate) are dropped.
//! Packets of other payload types in the same stream (RFC 4733 telephone-events, comfort noise)
//! take sequence numbers too: they are passed in with [`JitterBuffer::skip`], so the gap they
//! leave in the audio is neither counted lost nor concealed.
//! Time is an input, so tests run without a clock.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// What leaves the buffer, in sequence order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playout {
    /// A packet's payload, with its RTP timestamp.
    Packet { timestamp: u32, payload: Vec<u8> },
    /// One packet that never came (conceal 20 ms).
    Lost,
}

/// Counters for observability and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Audio packets pushed.
    pub received: u64,
    /// Sequence numbers taken by other payload types (telephone-events, comfort noise).
    pub other_payloads: u64,
    pub late_or_duplicate: u64,
    pub lost: u64,
    pub reordered: u64,
}

/// A packet waiting for its turn: audio, or a sequence number another payload type used.
#[derive(Debug)]
struct Held {
    arrived: Instant,
    audio: Option<(u32, Vec<u8>)>,
}

/// Reorders by sequence number; see the module doc.
#[derive(Debug)]
pub struct JitterBuffer {
    max_held: usize,
    max_wait: Duration,
    /// Extended sequence number expected next; `None` before the first packet.
    next: Option<u64>,
    /// Highest extended sequence seen, to extend 16-bit numbers across wrap.
    highest: u64,
    held: BTreeMap<u64, Held>,
    /// Gap losses longer than this are a new stream (sender restart), not concealment.
    max_conceal: u64,
    stats: JitterStats,
}

impl JitterBuffer {
    /// `max_held` packets or `max_wait` of waiting, whichever comes first, ends a gap.
    pub fn new(max_held: usize, max_wait: Duration) -> JitterBuffer {
        JitterBuffer {
            max_held: max_held.max(1),
            max_wait,
            next: None,
            highest: 0,
            held: BTreeMap::new(),
            max_conceal: 50,
            stats: JitterStats::default(),
        }
    }

    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    fn extend(&self, sequence: u16) -> u64 {
        if self.next.is_none() {
            return u64::from(sequence) + (1 << 16);
        }
        let highest_low = self.highest as u16;
        let delta = sequence.wrapping_sub(highest_low) as i16;
        (self.highest as i64 + i64::from(delta)).max(0) as u64
    }

    /// Accepts one audio packet that arrived at `now`.
    pub fn push(&mut self, sequence: u16, timestamp: u32, payload: &[u8], now: Instant) {
        self.stats.received += 1;
        self.hold(sequence, now, Some((timestamp, payload.to_vec())));
    }

    /// Notes that a packet of another payload type in the same RTP stream (a telephone-event,
    /// comfort noise) took `sequence`: no audio leaves for it, and it is not a loss.
    pub fn skip(&mut self, sequence: u16, now: Instant) {
        self.stats.other_payloads += 1;
        self.hold(sequence, now, None);
    }

    fn hold(&mut self, sequence: u16, now: Instant, audio: Option<(u32, Vec<u8>)>) {
        let seq = self.extend(sequence);
        match self.next {
            None => {
                self.next = Some(seq);
                self.highest = seq;
            }
            Some(next) if seq < next => {
                self.stats.late_or_duplicate += 1;
                return;
            }
            Some(next) if seq > next + self.max_conceal + self.max_held as u64 => {
                // A jump far ahead: the sender restarted its sequence; resynchronise.
                self.held.clear();
                self.next = Some(seq);
                self.highest = seq;
            }
            Some(_) => {}
        }
        if self.held.contains_key(&seq) {
            self.stats.late_or_duplicate += 1;
            return;
        }
        if seq < self.highest {
            self.stats.reordered += 1;
        }
        self.highest = self.highest.max(seq);
        self.held.insert(
            seq,
            Held {
                arrived: now,
                audio,
            },
        );
    }

    /// Releases what may leave at `now`, in order, appending to `out`.
    pub fn pop_ready(&mut self, now: Instant, out: &mut Vec<Playout>) {
        let Some(mut next) = self.next else {
            return;
        };
        loop {
            if let Some(held) = self.held.remove(&next) {
                if let Some((timestamp, payload)) = held.audio {
                    out.push(Playout::Packet { timestamp, payload });
                }
                next += 1;
                continue;
            }
            let Some((&first, &Held { arrived, .. })) = self.held.iter().next() else {
                break;
            };
            let gap_expired = self.held.len() >= self.max_held
                || now.saturating_duration_since(arrived) >= self.max_wait;
            if !gap_expired {
                break;
            }
            let missing = first - next;
            self.stats.lost += missing;
            for _ in 0..missing.min(self.max_conceal) {
                out.push(Playout::Lost);
            }
            next = first;
        }
        self.next = Some(next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payloads(out: &[Playout]) -> Vec<Option<u8>> {
        out.iter()
            .map(|p| match p {
                Playout::Packet { payload, .. } => Some(payload[0]),
                Playout::Lost => None,
            })
            .collect()
    }

    #[test]
    fn in_order_packets_leave_immediately() {
        let t = Instant::now();
        let mut jb = JitterBuffer::new(3, Duration::from_millis(60));
        let mut out = Vec::new();
        for i in 0..5u16 {
            jb.push(100 + i, u32::from(i) * 160, &[i as u8], t);
            jb.pop_ready(t, &mut out);
        }
        assert_eq!(
            payloads(&out),
            vec![Some(0), Some(1), Some(2), Some(3), Some(4)]
        );
    }

    #[test]
    fn reorders_a_swapped_pair() {
        let t = Instant::now();
        let mut jb = JitterBuffer::new(3, Duration::from_millis(60));
        let mut out = Vec::new();
        for seq in [1u16, 3, 2, 4] {
            jb.push(seq, 0, &[seq as u8], t);
            jb.pop_ready(t, &mut out);
        }
        assert_eq!(payloads(&out), vec![Some(1), Some(2), Some(3), Some(4)]);
        assert_eq!(jb.stats().reordered, 1);
        assert_eq!(jb.stats().lost, 0);
    }

    #[test]
    fn gap_is_concealed_after_max_held_packets() {
        let t = Instant::now();
        let mut jb = JitterBuffer::new(3, Duration::from_secs(10));
        let mut out = Vec::new();
        for seq in [1u16, 4, 5] {
            jb.push(seq, 0, &[seq as u8], t);
            jb.pop_ready(t, &mut out);
        }
        assert_eq!(payloads(&out), vec![Some(1)]);
        jb.push(6, 0, &[6], t);
        jb.pop_ready(t, &mut out);
        assert_eq!(
            payloads(&out),
            vec![Some(1), None, None, Some(4), Some(5), Some(6)]
        );
        assert_eq!(jb.stats().lost, 2);
        // The missing packets arriving now are late and dropped.
        jb.push(2, 0, &[2], t);
        jb.pop_ready(t, &mut out);
        assert_eq!(out.len(), 6);
        assert_eq!(jb.stats().late_or_duplicate, 1);
    }

    #[test]
    fn gap_is_concealed_after_max_wait() {
        let t = Instant::now();
        let mut jb = JitterBuffer::new(10, Duration::from_millis(60));
        let mut out = Vec::new();
        jb.push(1, 0, &[1], t);
        jb.push(3, 0, &[3], t + Duration::from_millis(40));
        jb.pop_ready(t + Duration::from_millis(50), &mut out);
        assert_eq!(payloads(&out), vec![Some(1)]);
        jb.pop_ready(t + Duration::from_millis(100), &mut out);
        assert_eq!(payloads(&out), vec![Some(1), None, Some(3)]);
    }

    #[test]
    fn duplicates_are_dropped_and_sequence_wraps() {
        let t = Instant::now();
        let mut jb = JitterBuffer::new(3, Duration::from_millis(60));
        let mut out = Vec::new();
        for seq in [65534u16, 65535, 65535, 0, 1] {
            jb.push(seq, 0, &[seq as u8], t);
            jb.pop_ready(t, &mut out);
        }
        assert_eq!(payloads(&out), vec![Some(254), Some(255), Some(0), Some(1)]);
        assert_eq!(jb.stats().late_or_duplicate, 1);
    }

    #[test]
    fn sequence_numbers_of_telephone_events_are_neither_lost_nor_concealed() {
        // Audio 1-3, a key press sent as telephone-events 4-15 (RFC 4733 shares the stream's
        // sequence numbers), audio again from 16.
        let t = Instant::now();
        let mut jb = JitterBuffer::new(3, Duration::from_millis(60));
        let mut out = Vec::new();
        for seq in 1u16..=20 {
            if (4..=15).contains(&seq) {
                jb.skip(seq, t);
            } else {
                jb.push(seq, 0, &[seq as u8], t);
            }
            jb.pop_ready(t, &mut out);
        }
        let audio: Vec<Option<u8>> = [1u8, 2, 3, 16, 17, 18, 19, 20].map(Some).to_vec();
        assert_eq!(payloads(&out), audio);
        assert_eq!(jb.stats().lost, 0);
        assert_eq!(jb.stats().other_payloads, 12);
        assert_eq!(jb.stats().received, 8);
        // Without being told, the same stream shows 12 packets lost and concealed.
        let mut unaware = JitterBuffer::new(3, Duration::from_millis(60));
        let mut out = Vec::new();
        for seq in (1u16..=3).chain(16..=20) {
            unaware.push(seq, 0, &[seq as u8], t);
            unaware.pop_ready(t, &mut out);
        }
        assert_eq!(unaware.stats().lost, 12);
    }

    #[test]
    fn a_reordered_telephone_event_still_fills_its_gap() {
        let t = Instant::now();
        let mut jb = JitterBuffer::new(3, Duration::from_millis(60));
        let mut out = Vec::new();
        jb.push(1, 0, &[1], t);
        jb.push(3, 0, &[3], t);
        jb.pop_ready(t, &mut out);
        assert_eq!(payloads(&out), vec![Some(1)]);
        jb.skip(2, t + Duration::from_millis(10));
        jb.pop_ready(t + Duration::from_millis(10), &mut out);
        assert_eq!(payloads(&out), vec![Some(1), Some(3)]);
        assert_eq!(jb.stats().lost, 0);
        assert_eq!(jb.stats().reordered, 1);
    }

    #[test]
    fn a_sequence_restart_resynchronises_instead_of_concealing_forever() {
        let t = Instant::now();
        let mut jb = JitterBuffer::new(3, Duration::from_millis(60));
        let mut out = Vec::new();
        jb.push(10, 0, &[10], t);
        jb.pop_ready(t, &mut out);
        jb.push(30000, 0, &[30], t);
        jb.pop_ready(t, &mut out);
        assert_eq!(payloads(&out), vec![Some(10), Some(30)]);
    }
}
