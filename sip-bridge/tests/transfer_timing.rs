//! Measures the bridged-transfer targets on the wire, over several calls between two sipp
//! peers whose media the test plays: the time from the transfer decision (the engine calling
//! `transfer`) to the first hold-chime packet the caller receives (target ≤ 300 ms), and the
//! largest gap in RTP to the caller once the agent answers, both between packets and in the
//! agent's audio as the caller hears it (target ≤ 60 ms). Prints each run and the medians;
//! asserts the medians against the targets with a margin for a shared 2-core machine.
//!
//! `cargo test --release -p sip-bridge --test transfer_timing -- --nocapture`

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sip_bridge::{HoldAudio, TransferCompleted, TransferMode, TransferRequest};
use support::engine::{Script, Seen, loopback_config, start};
use support::rtp_peer::{Heard, RtpPeer, tone_share};
use support::sipp::{SippTransport, free_port, start_agent_then_caller};

const RUNS: usize = 5;
const LIMIT: Duration = Duration::from_secs(20);
/// The hold chime's first note (C5).
const CHIME_HZ: f64 = 523.25;
const AGENT_HZ: f64 = 600.0;
/// Leeway over the targets for scheduling noise on a loaded 2-core machine (the
/// test's own RTP senders are paced by tokio timers too).
const HOLD_LIMIT: Duration = Duration::from_millis(300);
const GAP_LIMIT: Duration = Duration::from_millis(120);

/// One transfer's figures.
#[derive(Debug)]
struct Timing {
    decision_to_hold: Duration,
    /// Largest inter-arrival gap of RTP to the caller from the agent's answer on.
    packet_gap: Duration,
    /// Largest gap between packets carrying the agent's voice (tone) at the caller.
    agent_audio_gap: Duration,
    /// From the agent starting to talk to the caller hearing it (relay path, one way).
    agent_to_caller: Duration,
}

fn carries(heard: &Heard, hz: f64, min_rms: f64) -> bool {
    heard.rms > min_rms && tone_share(&heard.samples, hz) > 0.6
}

fn largest_gap(times: impl IntoIterator<Item = Instant>) -> Duration {
    let times: Vec<Instant> = times.into_iter().collect();
    times
        .windows(2)
        .map(|w| w[1].saturating_duration_since(w[0]))
        .max()
        .unwrap_or_default()
}

async fn one_bridged_transfer() -> Timing {
    let agent_port = free_port(SippTransport::Udp);
    let script = Script::Transfer {
        after: Duration::from_millis(300),
        request: TransferRequest {
            mode: TransferMode::Bridged,
            hold_audio: HoldAudio::SoftChime,
            ring_timeout: Duration::from_secs(5),
            ..TransferRequest::new(format!("sip:agent@127.0.0.1:{agent_port}"))
        },
    };
    let mut bridge = start(loopback_config("127.0.0.1"), script).await;
    let caller = RtpPeer::bind().await;
    let agent = RtpPeer::bind().await;
    let (agent_sipp, caller_sipp) =
        start_agent_then_caller(agent_port, agent.port, bridge.udp, caller.port, 4000, LIMIT).await;
    let info = bridge.next_answered(Duration::from_secs(10)).await;
    let bridge_caller_rtp = SocketAddr::from(([127, 0, 0, 1], info.local_rtp_port));
    let caller_heard = caller.listen(Duration::from_millis(3800));
    let caller_talks = tokio::spawn(async move {
        caller.send_tone_hz(bridge_caller_rtp, 180, 1000.0).await;
    });
    // The agent's first packet from the bridge: the agent has answered (200 OK) and the
    // media is bridged (no briefing here).
    let bridge_agent_rtp = agent.first_source(Duration::from_secs(8)).await;
    let answered_at = Instant::now();
    agent.send_tone_hz(bridge_agent_rtp, 100, AGENT_HZ).await;

    let caller_heard = caller_heard.await.expect("caller listener");
    caller_talks.await.expect("caller sender");
    caller_sipp
        .await
        .expect("caller sipp")
        .assert_passed("uac_call_long.xml");
    agent_sipp
        .await
        .expect("agent sipp")
        .assert_passed("uas_agent.xml");
    let seen = bridge
        .collect_until(Duration::from_secs(5), |s| matches!(s, Seen::HangUp(_)))
        .await;
    assert!(
        seen.iter()
            .any(|s| matches!(s, Seen::Transferred(Ok(TransferCompleted::Bridged)))),
        "the transfer did not bridge: {seen:?}"
    );
    let decided_at = seen
        .iter()
        .find_map(|s| match s {
            Seen::TransferStarted(at) => Some(*at),
            _ => None,
        })
        .expect("the engine reported when it decided to transfer");

    let first_chime = caller_heard
        .iter()
        .find(|h| h.at >= decided_at && carries(h, CHIME_HZ, 300.0))
        .unwrap_or_else(|| panic!("the caller heard no hold chime after the transfer decision"));
    let after_answer: Vec<&Heard> = caller_heard
        .iter()
        .filter(|h| h.at >= answered_at)
        .collect();
    let agent_voice: Vec<Instant> = after_answer
        .iter()
        .filter(|h| carries(h, AGENT_HZ, 1500.0))
        .map(|h| h.at)
        .collect();
    assert!(
        agent_voice.len() >= 50,
        "the caller heard only {} packets of the agent's 100",
        agent_voice.len()
    );
    Timing {
        decision_to_hold: first_chime.at.duration_since(decided_at),
        packet_gap: largest_gap(after_answer.iter().map(|h| h.at)),
        agent_to_caller: agent_voice[0].saturating_duration_since(answered_at),
        agent_audio_gap: largest_gap(agent_voice),
    }
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridged_transfer_hold_latency_and_media_gaps() {
    support::sipp::require_sipp();
    let mut runs = Vec::new();
    for run in 1..=RUNS {
        let timing = one_bridged_transfer().await;
        println!(
            "run {run}: decision → first hold packet {:.1} ms; after the agent answered: largest RTP gap to the caller {:.1} ms, largest gap in the agent's audio {:.1} ms, agent's first words at the caller after {:.1} ms",
            ms(timing.decision_to_hold),
            ms(timing.packet_gap),
            ms(timing.agent_audio_gap),
            ms(timing.agent_to_caller)
        );
        runs.push(timing);
    }
    let hold = median(runs.iter().map(|t| t.decision_to_hold).collect());
    let packet_gap = median(runs.iter().map(|t| t.packet_gap).collect());
    let audio_gap = median(runs.iter().map(|t| t.agent_audio_gap).collect());
    let worst_packet_gap = runs.iter().map(|t| t.packet_gap).max().unwrap_or_default();
    let agent_to_caller = median(runs.iter().map(|t| t.agent_to_caller).collect());
    println!(
        "medians over {RUNS} bridged transfers: decision → hold audio {:.1} ms (target ≤ 300); largest RTP gap to the caller after answer {:.1} ms (worst {:.1}); largest gap in the agent's audio {:.1} ms (target ≤ 60); agent → caller {:.1} ms",
        ms(hold),
        ms(packet_gap),
        ms(worst_packet_gap),
        ms(audio_gap),
        ms(agent_to_caller)
    );
    assert!(
        hold <= HOLD_LIMIT,
        "median time to hold audio {hold:?} > {HOLD_LIMIT:?}"
    );
    assert!(
        packet_gap <= GAP_LIMIT,
        "median largest RTP gap {packet_gap:?} > {GAP_LIMIT:?}"
    );
    assert!(
        audio_gap <= GAP_LIMIT,
        "median largest gap in the agent's audio {audio_gap:?} > {GAP_LIMIT:?}"
    );
}
