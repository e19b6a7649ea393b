//! How many calls this node talks at once, shared by every channel (SIP, `/media`, browser):
//! each call holds a [`CallPermit`] for as long as it runs, and a call beyond `[server]
//! max_calls`, or any new call once the node drains, is refused at its door. A permit is given
//! back when dropped, so a call that ends in any way (hang-up, error, panic) frees its line.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use tokio::sync::watch;

/// Seconds a refused caller is told to wait (`Retry-After`, HTTP and SIP).
pub const RETRY_AFTER_SECS: u64 = 5;

/// Whether the node takes new calls now: what `/readyz` and SIP OPTIONS report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// Below the limit and not draining.
    Open,
    /// Every line is taken.
    Full,
    /// Stopping: calls running finish, no new ones are taken.
    Draining,
}

impl Availability {
    /// The word `/readyz` and the logs use.
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Open => "ready",
            Availability::Full => "full",
            Availability::Draining => "draining",
        }
    }
}

/// Why a call was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("all {limit} lines are busy: try again in {RETRY_AFTER_SECS} s")]
    Full { limit: usize },
    #[error("this node is shutting down and takes no new calls: try another")]
    Draining,
}

impl Refusal {
    /// The label of the refusal counter on `/metrics`.
    pub fn label(self) -> &'static str {
        match self {
            Refusal::Full { .. } => "full",
            Refusal::Draining => "draining",
        }
    }
}

/// The node's call capacity: a counter of talking calls with a limit and a draining flag.
#[derive(Debug)]
pub struct Admission {
    limit: usize,
    active: AtomicUsize,
    draining: AtomicBool,
    refused_full: AtomicU64,
    refused_draining: AtomicU64,
    /// The number of calls running, for whoever waits for the last one to end.
    changes: watch::Sender<usize>,
}

/// One admitted call's line; dropping it gives the line back.
#[derive(Debug)]
#[must_use = "the line is given back as soon as the permit is dropped"]
pub struct CallPermit {
    admission: Arc<Admission>,
}

impl Admission {
    /// Capacity for `limit` calls at once (at least one).
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            limit: limit.max(1),
            active: AtomicUsize::new(0),
            draining: AtomicBool::new(false),
            refused_full: AtomicU64::new(0),
            refused_draining: AtomicU64::new(0),
            changes: watch::channel(0).0,
        })
    }

    /// Takes a line for a new call, or says why there is none.
    pub fn try_admit(self: &Arc<Self>) -> Result<CallPermit, Refusal> {
        if self.is_draining() {
            self.refused_draining.fetch_add(1, Ordering::Relaxed);
            return Err(Refusal::Draining);
        }
        let taken = self
            .active
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |active| {
                (active < self.limit).then_some(active + 1)
            });
        match taken {
            Ok(before) => {
                self.changes.send_replace(before + 1);
                Ok(CallPermit {
                    admission: Arc::clone(self),
                })
            }
            Err(_) => {
                self.refused_full.fetch_add(1, Ordering::Relaxed);
                Err(Refusal::Full { limit: self.limit })
            }
        }
    }

    /// What a new call would meet now.
    pub fn availability(&self) -> Availability {
        if self.is_draining() {
            Availability::Draining
        } else if self.active_calls() >= self.limit {
            Availability::Full
        } else {
            Availability::Open
        }
    }

    /// From now on every new call is refused; calls running are left alone.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Release);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// Calls holding a line now.
    pub fn active_calls(&self) -> usize {
        self.active.load(Ordering::Acquire)
    }

    /// Calls taken at once (`[server] max_calls`).
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Calls refused so far: (every line busy, draining).
    pub fn refused(&self) -> (u64, u64) {
        (
            self.refused_full.load(Ordering::Relaxed),
            self.refused_draining.load(Ordering::Relaxed),
        )
    }

    /// Completes once no call holds a line.
    pub async fn all_calls_ended(&self) {
        let mut changes = self.changes.subscribe();
        // The sender lives in `self`, so the channel never closes while we wait.
        let _ = changes.wait_for(|_| self.active_calls() == 0).await;
    }

    fn release(&self) {
        let before = self.active.fetch_sub(1, Ordering::AcqRel);
        self.changes.send_replace(before.saturating_sub(1));
    }
}

impl Drop for CallPermit {
    fn drop(&mut self) {
        self.admission.release();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn admits_up_to_the_limit_and_frees_a_line_when_a_permit_drops() {
        let admission = Admission::new(2);
        let first = admission.try_admit().expect("line 1");
        let second = admission.try_admit().expect("line 2");
        assert_eq!(admission.active_calls(), 2);
        assert_eq!(admission.availability(), Availability::Full);
        assert_eq!(
            admission.try_admit().unwrap_err(),
            Refusal::Full { limit: 2 }
        );
        drop(first);
        assert_eq!(admission.active_calls(), 1);
        assert_eq!(admission.availability(), Availability::Open);
        let third = admission.try_admit().expect("the freed line");
        assert_eq!(admission.refused(), (1, 0));
        drop((second, third));
        assert_eq!(admission.active_calls(), 0);
    }

    #[test]
    fn draining_refuses_new_calls_and_leaves_running_ones() {
        let admission = Admission::new(4);
        let running = admission.try_admit().expect("a line");
        admission.start_draining();
        assert_eq!(admission.availability(), Availability::Draining);
        assert_eq!(admission.try_admit().unwrap_err(), Refusal::Draining);
        assert_eq!(
            admission.active_calls(),
            1,
            "the running call keeps its line"
        );
        drop(running);
        assert_eq!(admission.availability(), Availability::Draining);
        assert_eq!(admission.refused(), (0, 1));
    }

    #[test]
    fn a_zero_limit_still_takes_one_call() {
        let admission = Admission::new(0);
        assert_eq!(admission.limit(), 1);
        let _line = admission.try_admit().expect("one line");
    }

    #[test]
    fn many_threads_never_take_more_lines_than_the_limit() {
        let admission = Admission::new(3);
        let permits: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..16)
                .map(|_| scope.spawn(|| admission.try_admit().ok()))
                .collect();
            handles
                .into_iter()
                .filter_map(|h| h.join().unwrap())
                .collect()
        });
        assert_eq!(permits.len(), 3);
        assert_eq!(admission.active_calls(), 3);
        drop(permits);
        assert_eq!(admission.active_calls(), 0);
    }

    #[tokio::test]
    async fn waiting_for_the_last_call_ends_when_it_hangs_up() {
        let admission = Admission::new(2);
        let call = admission.try_admit().expect("a line");
        let waiting = {
            let admission = Arc::clone(&admission);
            tokio::spawn(async move { admission.all_calls_ended().await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "a call is still running");
        drop(call);
        tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("done once the call ended")
            .unwrap();
    }
}
