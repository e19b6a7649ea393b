//! How late each paced RTP packet left against its 20 ms slot, counted for the whole process.
//! This is the bridge's own view of the pacing target (deviation p99 ≤ 2 ms): a receiver's
//! figure mixes in its own wake-ups, this one does not. Read it with [`send_lateness`] for
//! `/metrics` or a benchmark.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Bucket width.
const STEP_US: u64 = 100;
/// Buckets below 20 ms; one more holds everything later.
const BUCKETS: usize = 200;

static COUNTS: [AtomicU64; BUCKETS + 1] = [const { AtomicU64::new(0) }; BUCKETS + 1];
static TOTAL_US: AtomicU64 = AtomicU64::new(0);

/// Counts one packet sent `lateness` after its slot.
pub(crate) fn record_send_lateness(lateness: Duration) {
    let micros = lateness.as_micros() as u64;
    let bucket = (micros / STEP_US).min(BUCKETS as u64) as usize;
    COUNTS[bucket].fetch_add(1, Ordering::Relaxed);
    TOTAL_US.fetch_add(micros, Ordering::Relaxed);
}

/// Every paced packet's lateness so far, in 0.1 ms buckets.
pub fn send_lateness() -> SendLateness {
    SendLateness {
        counts: COUNTS.iter().map(|c| c.load(Ordering::Relaxed)).collect(),
        total: Duration::from_micros(TOTAL_US.load(Ordering::Relaxed)),
    }
}

/// A snapshot of the lateness counts. Subtract an earlier snapshot to look at one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendLateness {
    counts: Vec<u64>,
    total: Duration,
}

impl SendLateness {
    /// Packets counted.
    pub fn packets(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The lateness below which a share `q` (0-1) of the packets left: the upper edge of the
    /// 0.1 ms bucket holding that quantile (20 ms or more reads as `None`).
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let total = self.packets();
        if total == 0 {
            return Some(Duration::ZERO);
        }
        let wanted = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (bucket, count) in self.counts.iter().enumerate().take(BUCKETS) {
            seen += count;
            if seen >= wanted {
                return Some(Duration::from_micros((bucket as u64 + 1) * STEP_US));
            }
        }
        None
    }

    /// The lateness of all packets added up.
    pub fn total(&self) -> Duration {
        self.total
    }

    /// Packets that left less than `limit` late (`limit` rounded down to a 0.1 ms bucket edge):
    /// a Prometheus `le` bucket.
    pub fn earlier_than(&self, limit: Duration) -> u64 {
        self.packets() - self.later_than(limit)
    }

    /// Packets that left at least `limit` late (rounded down to a 0.1 ms bucket edge).
    pub fn later_than(&self, limit: Duration) -> u64 {
        let first = ((limit.as_micros() as u64) / STEP_US).min(BUCKETS as u64) as usize;
        self.counts[first..].iter().sum()
    }

    /// Counts since `earlier`.
    pub fn since(&self, earlier: &SendLateness) -> SendLateness {
        SendLateness {
            counts: self
                .counts
                .iter()
                .zip(&earlier.counts)
                .map(|(now, then)| now.saturating_sub(*then))
                .collect(),
            total: self.total.saturating_sub(earlier.total),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(lateness_us: &[u64]) -> SendLateness {
        let mut counts = vec![0; BUCKETS + 1];
        for &us in lateness_us {
            counts[((us / STEP_US) as usize).min(BUCKETS)] += 1;
        }
        let total = Duration::from_micros(lateness_us.iter().sum());
        SendLateness { counts, total }
    }

    #[test]
    fn quantiles_read_the_upper_edge_of_their_bucket() {
        // 98 packets on time, one 1.45 ms late, one 7 ms late.
        let mut lateness = vec![30; 98];
        lateness.extend([1450, 7000]);
        let s = snapshot(&lateness);
        assert_eq!(s.packets(), 100);
        assert_eq!(s.quantile(0.5), Some(Duration::from_micros(100)));
        assert_eq!(s.quantile(0.99), Some(Duration::from_micros(1500)));
        assert_eq!(s.quantile(1.0), Some(Duration::from_micros(7100)));
        assert_eq!(s.later_than(Duration::from_millis(2)), 1);
        assert_eq!(s.earlier_than(Duration::from_millis(2)), 99);
        assert_eq!(s.total(), Duration::from_micros(98 * 30 + 1450 + 7000));
    }

    #[test]
    fn a_packet_beyond_20_ms_has_no_finite_quantile() {
        let s = snapshot(&[25_000]);
        assert_eq!(s.quantile(0.99), None);
        assert_eq!(s.later_than(Duration::from_millis(19)), 1);
    }

    #[test]
    fn a_period_is_the_difference_of_two_snapshots() {
        let before = snapshot(&[100, 200]);
        let after = snapshot(&[100, 200, 3000]);
        let period = after.since(&before);
        assert_eq!(period.packets(), 1);
        assert_eq!(period.quantile(0.5), Some(Duration::from_micros(3100)));
    }

    #[test]
    fn recorded_packets_show_in_the_process_snapshot() {
        let before = send_lateness();
        record_send_lateness(Duration::from_micros(12_345));
        let period = send_lateness().since(&before);
        assert!(period.later_than(Duration::from_millis(12)) >= 1);
    }
}
