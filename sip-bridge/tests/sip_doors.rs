//! The bridge's doors, over real sockets: OPTIONS and new INVITEs answered 503 with
//! `Retry-After` while the engine's gate is closed (full or draining) and 200/ringing again when
//! it opens; scanners' requests dropped unanswered over UDP and TCP (the connection stays
//! usable); INVITE and REGISTER over a source's rate answered 503 with `Retry-After`.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use sip_bridge::{Availability, CallGate, RequestRate};
use support::engine::{Script, loopback_config, start};
use support::sip_probe::{TcpProbe, header, status_of, udp};

const ANSWER: Duration = Duration::from_secs(3);
/// Long enough to be sure a dropped request got no answer.
const SILENCE: Duration = Duration::from_millis(700);

fn status(reply: &Option<String>) -> Option<u16> {
    reply.as_deref().and_then(status_of)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_and_invites_get_503_while_the_gate_is_closed() {
    let gate_state = Arc::new(AtomicU8::new(0));
    let mut config = loopback_config("127.0.0.1");
    config.call_gate = {
        let gate_state = Arc::clone(&gate_state);
        CallGate::new(move || match gate_state.load(Ordering::Relaxed) {
            0 => Availability::Open,
            1 => Availability::Full,
            _ => Availability::Draining,
        })
    };
    config.busy_retry_after = Duration::from_secs(7);
    let mut bridge = start(config, Script::LetItRing).await;
    let target = bridge.udp;
    let probe = move |method: &'static str| {
        tokio::task::spawn_blocking(move || udp(method, target, None, ANSWER))
    };

    let open = probe("OPTIONS").await.unwrap();
    assert_eq!(status(&open), Some(200), "{open:?}");

    for (state, word) in [(1, "busy"), (2, "draining")] {
        gate_state.store(state, Ordering::Relaxed);
        for method in ["OPTIONS", "INVITE"] {
            let reply = probe(method).await.unwrap();
            assert_eq!(
                status(&reply),
                Some(503),
                "{method} while {word}: {reply:?}"
            );
            let reply = reply.unwrap();
            assert_eq!(header(&reply, "Retry-After"), Some("7"), "{reply}");
            assert!(
                header(&reply, "Warning").is_some_and(|w| w.contains(word)),
                "{reply}"
            );
        }
    }
    assert!(
        bridge.seen.try_recv().is_err(),
        "no INVITE reached the engine while the gate was closed"
    );

    gate_state.store(0, Ordering::Relaxed);
    let reopened = probe("OPTIONS").await.unwrap();
    assert_eq!(status(&reopened), Some(200), "{reopened:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scanners_get_no_answer_over_udp_and_tcp() {
    let bridge = start(loopback_config("127.0.0.1"), Script::Listen).await;
    let (udp_target, tcp_target) = (bridge.udp, bridge.tcp);
    tokio::task::spawn_blocking(move || {
        for agent in ["friendly-scanner", "sipvicious", "VaxSIPUserAgent/3.1"] {
            let reply = udp("OPTIONS", udp_target, Some(agent), SILENCE);
            assert_eq!(reply, None, "{agent} was answered");
        }
        let phone = udp("OPTIONS", udp_target, Some("baresip v3.10"), ANSWER);
        assert_eq!(status(&phone), Some(200), "{phone:?}");

        let mut connection = TcpProbe::connect(tcp_target);
        assert_eq!(
            connection.send("REGISTER", Some("sipcli/v1.8"), SILENCE),
            None
        );
        let after = connection.send("OPTIONS", None, ANSWER);
        assert_eq!(
            status(&after),
            Some(200),
            "the connection is still served: {after:?}"
        );
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_and_register_over_a_sources_rate_get_503() {
    let mut config = loopback_config("127.0.0.1");
    config.request_rate = Some(RequestRate {
        per_second: 0.2,
        burst: 2,
    });
    let bridge = start(config, Script::Listen).await;
    let target = bridge.udp;
    tokio::task::spawn_blocking(move || {
        // REGISTER is not served (405), but it counts: the limit runs before anything else.
        for _ in 0..2 {
            let reply = udp("REGISTER", target, None, ANSWER);
            assert_eq!(status(&reply), Some(405), "{reply:?}");
        }
        let limited = udp("REGISTER", target, None, ANSWER).expect("an answer");
        assert_eq!(status_of(&limited), Some(503), "{limited}");
        let wait: u64 = header(&limited, "Retry-After")
            .and_then(|v| v.parse().ok())
            .expect("a Retry-After in seconds");
        assert!((1..=5).contains(&wait), "{limited}");
        let invite = udp("INVITE", target, None, ANSWER).expect("an answer");
        assert_eq!(status_of(&invite), Some(503), "{invite}");
        // OPTIONS (health probes) are never limited.
        let options = udp("OPTIONS", target, None, ANSWER);
        assert_eq!(status(&options), Some(200), "{options:?}");
    })
    .await
    .unwrap();
}
