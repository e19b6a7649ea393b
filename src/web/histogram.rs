//! A Prometheus histogram of durations: fixed buckets in seconds, cumulative counts, sum and
//! count, written in the text exposition format. Small enough to not need a metrics crate.

use std::fmt::Write;
use std::sync::Mutex;

/// Bucket bounds (seconds) suited to conversational latencies: 50 ms to 10 s.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0,
];

#[derive(Debug, Default)]
struct Counts {
    /// Observations at or below each bound (not cumulative; summed when written).
    buckets: Vec<u64>,
    sum: f64,
    count: u64,
}

/// One histogram.
#[derive(Debug)]
pub struct Histogram {
    name: &'static str,
    help: &'static str,
    bounds: &'static [f64],
    counts: Mutex<Counts>,
}

impl Histogram {
    pub fn new(name: &'static str, help: &'static str, bounds: &'static [f64]) -> Self {
        Self {
            name,
            help,
            bounds,
            counts: Mutex::new(Counts {
                buckets: vec![0; bounds.len()],
                ..Counts::default()
            }),
        }
    }

    /// Records a duration given in milliseconds.
    pub fn observe_ms(&self, ms: u64) {
        let seconds = ms as f64 / 1000.0;
        let mut counts = match self.counts.lock() {
            Ok(counts) => counts,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(bucket) = self.bounds.iter().position(|&bound| seconds <= bound) {
            counts.buckets[bucket] += 1;
        }
        counts.sum += seconds;
        counts.count += 1;
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.counts.lock().map(|c| c.count).unwrap_or(0)
    }

    /// Appends the exposition lines (HELP, TYPE, buckets, sum, count).
    pub fn write(&self, out: &mut String) {
        let counts = match self.counts.lock() {
            Ok(counts) => counts,
            Err(poisoned) => poisoned.into_inner(),
        };
        let name = self.name;
        let _ = writeln!(out, "# HELP {name} {}", self.help);
        let _ = writeln!(out, "# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, n) in self.bounds.iter().zip(&counts.buckets) {
            cumulative += n;
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", counts.count);
        let _ = writeln!(out, "{name}_sum {}", counts.sum);
        let _ = writeln!(out, "{name}_count {}", counts.count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative() {
        let h = Histogram::new("t_seconds", "test", &[0.1, 0.5, 1.0]);
        for ms in [50, 100, 300, 2000] {
            h.observe_ms(ms);
        }
        let mut out = String::new();
        h.write(&mut out);
        assert!(out.contains("# TYPE t_seconds histogram"), "{out}");
        assert!(out.contains("t_seconds_bucket{le=\"0.1\"} 2\n"), "{out}");
        assert!(out.contains("t_seconds_bucket{le=\"0.5\"} 3\n"), "{out}");
        assert!(out.contains("t_seconds_bucket{le=\"1\"} 3\n"), "{out}");
        assert!(out.contains("t_seconds_bucket{le=\"+Inf\"} 4\n"), "{out}");
        assert!(out.contains("t_seconds_sum 2.45\n"), "{out}");
        assert!(out.contains("t_seconds_count 4\n"), "{out}");
        assert_eq!(h.count(), 4);
    }
}
