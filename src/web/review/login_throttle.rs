//! Slows password guessing on `/review/login`: after [`MAX_FAILURES`] failed logins for one
//! user name within [`WINDOW`], that name is refused (without checking the password) until the
//! window has passed since its last failure. Counted per name, whether the user exists or not,
//! so the answer tells nothing of which names exist. Sans-IO: time is an argument.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Failures allowed per name within [`WINDOW`].
pub const MAX_FAILURES: u32 = 5;
/// How long failures are remembered, and how long a locked name stays locked.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Names tracked at most (oldest forgotten first), so guessing many names cannot fill memory.
const MAX_NAMES: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// Failed logins per user name.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: HashMap<String, Failures>,
}

impl LoginThrottle {
    /// `Err(wait)` when `name` may not try now.
    pub fn check(&self, name: &str, now: Instant) -> Result<(), Duration> {
        match self.failures.get(name) {
            Some(f) if f.count >= MAX_FAILURES => {
                let until = f.last + WINDOW;
                if now < until {
                    Err(until - now)
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// Counts a failed login for `name`.
    pub fn failed(&mut self, name: &str, now: Instant) {
        self.failures
            .retain(|_, f| now.saturating_duration_since(f.last) < WINDOW);
        if self.failures.len() >= MAX_NAMES
            && let Some(oldest) = self
                .failures
                .iter()
                .min_by_key(|(_, f)| f.last)
                .map(|(name, _)| name.clone())
        {
            self.failures.remove(&oldest);
        }
        let entry = self.failures.entry(name.to_string()).or_insert(Failures {
            count: 0,
            last: now,
        });
        if now.saturating_duration_since(entry.last) >= WINDOW {
            entry.count = 0;
        }
        entry.count += 1;
        entry.last = now;
    }

    /// A successful login forgets the name's failures.
    pub fn succeeded(&mut self, name: &str) {
        self.failures.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_locked_after_repeated_failures_then_released() {
        let mut throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for i in 0..MAX_FAILURES {
            assert!(throttle.check("ada", t0).is_ok(), "try {i}");
            throttle.failed("ada", t0 + Duration::from_secs(u64::from(i)));
        }
        let last = t0 + Duration::from_secs(u64::from(MAX_FAILURES - 1));
        let wait = throttle.check("ada", last + Duration::from_secs(60));
        assert_eq!(wait, Err(WINDOW - Duration::from_secs(60)));
        // Another name is not affected; the lock ends after the window.
        assert!(throttle.check("bob", last).is_ok());
        assert!(throttle.check("ada", last + WINDOW).is_ok());
        // One more failure after the window starts a new count.
        throttle.failed("ada", last + WINDOW);
        assert!(throttle.check("ada", last + WINDOW).is_ok());
        throttle.succeeded("ada");
        assert!(throttle.failures.is_empty());
    }
}
