//! How often one source address may start something: a token bucket per IP address for
//! out-of-dialog INVITE and REGISTER (a flood of either costs us a dialog, a digest check or a
//! log line each). `burst` requests at once, then `per_second` on average. Time is an input,
//! so the buckets are tested without sleeping.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Sources remembered at most; past it, full buckets are forgotten (and if every bucket is in
/// use, all are: a spoofed-source flood must not grow memory without bound).
const MAX_SOURCES: usize = 10_000;

/// The limit: `per_second` requests on average, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RequestRate {
    pub per_second: f64,
    pub burst: u32,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
    /// Over the limit at the last request (so the first refusal of a run is logged).
    limited: bool,
}

/// Whether one request may go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateVerdict {
    Allowed,
    /// Over the limit; a token is back after this long. `first` for the first refusal since
    /// the source was last allowed.
    Limited {
        retry_after: Duration,
        first: bool,
    },
}

/// A token bucket per source address.
#[derive(Debug)]
pub struct SourceRateLimit {
    rate: RequestRate,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl SourceRateLimit {
    pub fn new(rate: RequestRate) -> Self {
        Self {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for one request from `source` at `now`.
    pub fn check(&self, source: IpAddr, now: Instant) -> RateVerdict {
        let burst = f64::from(self.rate.burst.max(1));
        let per_second = self.rate.per_second.max(f64::MIN_POSITIVE);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_SOURCES && !buckets.contains_key(&source) {
            buckets.retain(|_, b| {
                let refilled =
                    b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * per_second;
                refilled < burst
            });
            if buckets.len() >= MAX_SOURCES {
                buckets.clear();
            }
        }
        let bucket = buckets.entry(source).or_insert(Bucket {
            tokens: burst,
            updated: now,
            limited: false,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            bucket.limited = false;
            RateVerdict::Allowed
        } else {
            let first = !bucket.limited;
            bucket.limited = true;
            let wait = (1.0 - bucket.tokens) / per_second;
            RateVerdict::Limited {
                retry_after: Duration::from_secs_f64(wait.min(86_400.0)),
                first,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn a_burst_then_the_average_rate() {
        let limit = SourceRateLimit::new(RequestRate {
            per_second: 2.0,
            burst: 3,
        });
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limit.check(A, start), RateVerdict::Allowed);
        }
        let RateVerdict::Limited { retry_after, first } = limit.check(A, start) else {
            panic!("the fourth at once is over the burst");
        };
        assert!(first);
        assert_eq!(retry_after, Duration::from_millis(500));
        assert!(matches!(
            limit.check(A, start),
            RateVerdict::Limited { first: false, .. }
        ));
        assert_eq!(limit.check(B, start), RateVerdict::Allowed, "per source");
        // Half a second later one token is back, and only one.
        let later = start + Duration::from_millis(500);
        assert_eq!(limit.check(A, later), RateVerdict::Allowed);
        assert!(matches!(
            limit.check(A, later),
            RateVerdict::Limited { first: true, .. }
        ));
        // A long pause refills to the burst, no more.
        let much_later = later + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(limit.check(A, much_later), RateVerdict::Allowed);
        }
        assert!(matches!(
            limit.check(A, much_later),
            RateVerdict::Limited { .. }
        ));
    }

    #[test]
    fn memory_stays_bounded_under_many_sources() {
        let limit = SourceRateLimit::new(RequestRate {
            per_second: 1.0,
            burst: 2,
        });
        let now = Instant::now();
        for n in 0..(MAX_SOURCES as u32 + 10) {
            let source = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n));
            assert_eq!(limit.check(source, now), RateVerdict::Allowed);
        }
        assert!(limit.buckets.lock().unwrap().len() <= MAX_SOURCES);
    }
}
