//! The 20 ms send schedule of one call, as absolute deadlines (start + n × 20 ms).
//!
//! Sleeping "20 ms after the last send" drifts by every wake-up delay, and tokio's
//! `MissedTickBehavior::Burst` fires late ticks back to back. Here each deadline is computed
//! from the start, so wake-up delays never accumulate; if the task was stalled for longer than
//! `max_lag` (a blocked runtime), the missed slots are skipped instead of burst out, and the
//! caller is told how many so the RTP timestamp still advances with real time.

use std::time::{Duration, Instant};

/// Packetisation interval.
pub const PACKET_INTERVAL: Duration = Duration::from_millis(20);

#[derive(Debug, Clone)]
pub struct PacingClock {
    start: Instant,
    sent: u64,
    max_lag: Duration,
}

impl PacingClock {
    pub fn new(start: Instant, max_lag: Duration) -> PacingClock {
        PacingClock {
            start,
            sent: 0,
            max_lag,
        }
    }

    /// When the next packet is due.
    pub fn next_deadline(&self) -> Instant {
        self.start + PACKET_INTERVAL * u32::try_from(self.sent).unwrap_or(u32::MAX)
    }

    /// Records that the due packet was sent at `now`. Returns how many slots were skipped
    /// because sending fell more than `max_lag` behind (0 normally).
    pub fn on_sent(&mut self, now: Instant) -> u64 {
        self.sent += 1;
        let due = self.next_deadline();
        if now <= due + self.max_lag {
            return 0;
        }
        let behind = now.duration_since(due);
        let skipped = (behind.as_nanos() / PACKET_INTERVAL.as_nanos()) as u64;
        self.sent += skipped;
        skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_do_not_accumulate_wakeup_delays() {
        let t0 = Instant::now();
        let mut clock = PacingClock::new(t0, Duration::from_millis(60));
        for n in 0..100u32 {
            let due = clock.next_deadline();
            assert_eq!(due, t0 + PACKET_INTERVAL * n);
            // Every wake-up is 3 ms late; the schedule stays put.
            assert_eq!(clock.on_sent(due + Duration::from_millis(3)), 0);
        }
        assert_eq!(clock.next_deadline(), t0 + PACKET_INTERVAL * 100);
    }

    #[test]
    fn a_long_stall_skips_slots_instead_of_bursting() {
        let t0 = Instant::now();
        let mut clock = PacingClock::new(t0, Duration::from_millis(60));
        // Packet 0 goes out 205 ms late: slots 1..=10 are in the past.
        let skipped = clock.on_sent(t0 + Duration::from_millis(205));
        assert_eq!(skipped, 9);
        let next = clock.next_deadline();
        assert_eq!(next, t0 + PACKET_INTERVAL * 10);
        // Next deadline is close to now (within one interval behind), not 10 slots behind.
        assert!(t0 + Duration::from_millis(205) - next < PACKET_INTERVAL);
    }
}
