//! The door in front of the transaction layer, after the RFC 3261 screen (`sip_screen`) and on
//! the same two paths (`screened_udp`, `screened_tcp`): requests from known scanners are
//! dropped without an answer ([`ScannerFilter`]), and out-of-dialog INVITE and REGISTER are
//! rate-limited per source address ([`SourceRateLimit`]): over the limit they are answered
//! 503 with `Retry-After` here, so rsipstack never makes a transaction, a dialog or a digest
//! challenge for them. What was stopped is counted for the whole process ([`door_counts`]).

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use tracing::{debug, warn};

use crate::config::BridgeConfig;
use crate::raw_sip_message::RawSipMessage;
use crate::scanner_filter::ScannerFilter;
use crate::sip_screen::render_refusal;
use crate::source_rate_limit::{RateVerdict, SourceRateLimit};

static SCANNERS_DROPPED: AtomicU64 = AtomicU64::new(0);
static RATE_LIMITED: AtomicU64 = AtomicU64::new(0);

/// Requests stopped at the door so far (every bridge of the process), for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DoorCounts {
    scanners: u64,
    rate_limited: u64,
}

impl DoorCounts {
    /// Requests from scanners, dropped unanswered.
    pub fn scanners(&self) -> u64 {
        self.scanners
    }

    /// INVITE/REGISTER over a source's rate, answered 503.
    pub fn rate_limited(&self) -> u64 {
        self.rate_limited
    }
}

pub fn door_counts() -> DoorCounts {
    DoorCounts {
        scanners: SCANNERS_DROPPED.load(Ordering::Relaxed),
        rate_limited: RATE_LIMITED.load(Ordering::Relaxed),
    }
}

/// What to do with a message the screen passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuardVerdict {
    Pass,
    /// Neither answer nor hand on.
    Drop,
    /// Answer with this response and do not hand the request on.
    Refuse(Vec<u8>),
}

/// The scanner filter and the rate limit of one bridge.
#[derive(Debug)]
pub struct RequestGuard {
    scanners: ScannerFilter,
    rate: Option<SourceRateLimit>,
}

impl RequestGuard {
    pub fn new(config: &BridgeConfig) -> Self {
        Self {
            scanners: ScannerFilter::new(&config.blocked_user_agents),
            rate: config.request_rate.map(SourceRateLimit::new),
        }
    }

    /// Judges one message (already passed by the screen) from `source`, at `now`.
    pub fn check(&self, bytes: &[u8], source: IpAddr, now: Instant) -> GuardVerdict {
        let Ok(message) = RawSipMessage::split(bytes) else {
            return GuardVerdict::Pass;
        };
        if message.is_response() {
            return GuardVerdict::Pass;
        }
        let method = message.start_line.split(' ').next().unwrap_or_default();
        if let Some(scanner) = message
            .first("user-agent")
            .and_then(|agent| self.scanners.scanner_in(agent))
        {
            SCANNERS_DROPPED.fetch_add(1, Ordering::Relaxed);
            debug!(%source, method, scanner, "request from a SIP scanner dropped unanswered");
            return GuardVerdict::Drop;
        }
        let Some(rate) = &self.rate else {
            return GuardVerdict::Pass;
        };
        let in_dialog = message.first("to").is_some_and(|to| to.contains(";tag="));
        if !matches!(method, "INVITE" | "REGISTER") || in_dialog {
            return GuardVerdict::Pass;
        }
        match rate.check(source, now) {
            RateVerdict::Allowed => GuardVerdict::Pass,
            RateVerdict::Limited { retry_after, first } => {
                RATE_LIMITED.fetch_add(1, Ordering::Relaxed);
                if first {
                    warn!(%source, method, "source over the SIP request rate limit; answering 503 until it slows down");
                }
                let seconds = retry_after.as_secs_f64().ceil().max(1.0) as u64;
                GuardVerdict::Refuse(render_refusal(
                    &message,
                    503,
                    "Service Unavailable",
                    vec![format!("Retry-After: {seconds}")],
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::source_rate_limit::RequestRate;

    const SOURCE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7));

    fn request(method: &str, to_tag: bool, user_agent: Option<&str>) -> Vec<u8> {
        let tag = if to_tag { ";tag=b1" } else { "" };
        let agent = user_agent.map_or(String::new(), |a| format!("User-Agent: {a}\r\n"));
        format!(
            "{method} sip:hotline@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK1\r\n\
             Max-Forwards: 70\r\nTo: <sip:hotline@192.0.2.1>{tag}\r\nFrom: <sip:a@192.0.2.7>;tag=a1\r\n\
             Call-ID: c1\r\nCSeq: 1 {method}\r\n{agent}Content-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    fn guard(burst: u32) -> RequestGuard {
        RequestGuard::new(&BridgeConfig {
            request_rate: Some(RequestRate {
                per_second: 1.0,
                burst,
            }),
            ..BridgeConfig::default()
        })
    }

    #[test]
    fn scanners_are_dropped_whatever_the_method() {
        let guard = guard(10);
        let now = Instant::now();
        for method in ["OPTIONS", "REGISTER", "INVITE"] {
            let scan = request(method, false, Some("friendly-scanner"));
            assert_eq!(
                guard.check(&scan, SOURCE, now),
                GuardVerdict::Drop,
                "{method}"
            );
        }
        let phone = request("OPTIONS", false, Some("baresip v3.10"));
        assert_eq!(guard.check(&phone, SOURCE, now), GuardVerdict::Pass);
        assert_eq!(
            guard.check(&request("OPTIONS", false, None), SOURCE, now),
            GuardVerdict::Pass
        );
    }

    #[test]
    fn invite_and_register_over_the_rate_get_503_with_retry_after() {
        let guard = guard(2);
        let now = Instant::now();
        assert_eq!(
            guard.check(&request("INVITE", false, None), SOURCE, now),
            GuardVerdict::Pass
        );
        assert_eq!(
            guard.check(&request("REGISTER", false, None), SOURCE, now),
            GuardVerdict::Pass
        );
        let GuardVerdict::Refuse(answer) =
            guard.check(&request("INVITE", false, None), SOURCE, now)
        else {
            panic!("the third is over the burst of 2");
        };
        let answer = String::from_utf8(answer).unwrap();
        assert!(
            answer.starts_with("SIP/2.0 503 Service Unavailable\r\n"),
            "{answer}"
        );
        assert!(answer.contains("\r\nRetry-After: 1\r\n"), "{answer}");
        assert!(
            answer.contains("\r\nCall-ID: c1\r\n") && answer.contains("CSeq: 1 INVITE"),
            "{answer}"
        );
        // Neither in-dialog requests nor other methods count or are stopped.
        assert_eq!(
            guard.check(&request("INVITE", true, None), SOURCE, now),
            GuardVerdict::Pass
        );
        assert_eq!(
            guard.check(&request("OPTIONS", false, None), SOURCE, now),
            GuardVerdict::Pass
        );
        let later = now + Duration::from_secs(1);
        assert_eq!(
            guard.check(&request("INVITE", false, None), SOURCE, later),
            GuardVerdict::Pass
        );
    }

    #[test]
    fn without_a_rate_only_scanners_are_stopped() {
        let guard = RequestGuard::new(&BridgeConfig::default());
        let now = Instant::now();
        for _ in 0..100 {
            assert_eq!(
                guard.check(&request("INVITE", false, None), SOURCE, now),
                GuardVerdict::Pass
            );
        }
        let scan = request("INVITE", false, Some("sipvicious"));
        assert_eq!(guard.check(&scan, SOURCE, now), GuardVerdict::Drop);
    }
}
