//! Transfers against real SIP peers (sipp): blind REFER accepted (NOTIFY 100 then 200, tel:
//! target unchanged), refused (501), target busy (NOTIFY 486); a bridged transfer with two
//! sipp instances (caller and agent) whose media is played by the test's RTP peers, checking
//! each side hears the other, the agent hears the briefing, and a second request is refused;
//! and an agent dialled for a caller outside the bridge (`AgentDialer`, as for a browser call).

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use hotline_audio::{FRAME_SAMPLES, Frame};
use sip_bridge::{
    AgentDial, HangUpReason, HoldAudio, HoldSink, SipBridge, TransferCompleted, TransferError,
    TransferMode, TransferRequest,
};
use support::engine::{Script, Seen, loopback_config, start};
use support::rtp_peer::{RtpPeer, tone_share, tone_share_at};
use support::sipp::{
    SippRun, SippTransport, free_port, run_sipp, run_sipp_full, start_agent_then_caller,
};

const LIMIT: Duration = Duration::from_secs(20);

fn request(target: &str, mode: TransferMode) -> TransferRequest {
    TransferRequest {
        mode,
        ring_timeout: Duration::from_secs(5),
        ..TransferRequest::new(target)
    }
}

fn transferred(seen: &[Seen]) -> Option<&sip_bridge::TransferResult> {
    seen.iter().find_map(|s| match s {
        Seen::Transferred(result) => Some(result),
        _ => None,
    })
}

fn second(seen: &[Seen]) -> Option<&sip_bridge::TransferResult> {
    seen.iter().find_map(|s| match s {
        Seen::SecondTransfer(result) => Some(result),
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blind_refer_with_tel_target_completes_on_notify_200() {
    let script = Script::Transfer {
        after: Duration::from_millis(300),
        request: request("tel:+85299990000", TransferMode::Blind),
    };
    let mut bridge = start(loopback_config("127.0.0.1"), script).await;
    let outcome = run_sipp(
        "uac_refer_accepted.xml",
        bridge.udp,
        SippTransport::Udp,
        vec![("rtp_port", "40000".into())],
        LIMIT,
    )
    .await;
    outcome.assert_passed("uac_refer_accepted.xml");
    // The leg ends (BYE after NOTIFY 200) and the transfer returns at about the same time,
    // in either order.
    let mut seen = bridge
        .collect_until(Duration::from_secs(5), |s| matches!(s, Seen::HangUp(_)))
        .await;
    if transferred(&seen).is_none() {
        seen.extend(
            bridge
                .collect_until(Duration::from_secs(5), |s| {
                    matches!(s, Seen::Transferred(_))
                })
                .await,
        );
    }
    assert_eq!(
        transferred(&seen),
        Some(&Ok(TransferCompleted::Referred)),
        "{seen:?}"
    );
    assert_eq!(
        second(&seen),
        Some(&Err(TransferError::AlreadyInProgress)),
        "no double dial: {seen:?}"
    );
    assert!(
        seen.contains(&Seen::HangUp(HangUpReason::Transferred)),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_refer_leaves_the_caller_with_the_bot() {
    let script = Script::Transfer {
        after: Duration::from_millis(300),
        request: request("sip:agent@192.0.2.9", TransferMode::Blind),
    };
    let mut bridge = start(loopback_config("127.0.0.1"), script).await;
    run_sipp(
        "uac_refer_refused.xml",
        bridge.udp,
        SippTransport::Udp,
        vec![("rtp_port", "40000".into())],
        LIMIT,
    )
    .await
    .assert_passed("uac_refer_refused.xml");
    let seen = bridge
        .collect_until(Duration::from_secs(5), |s| matches!(s, Seen::HangUp(_)))
        .await;
    assert_eq!(
        transferred(&seen),
        Some(&Err(TransferError::ReferRefused(501))),
        "{seen:?}"
    );
    // The caller was never cut off: they hung up themselves later.
    assert_eq!(
        seen.last(),
        Some(&Seen::HangUp(HangUpReason::RemoteBye)),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refer_to_a_busy_target_fails_and_the_call_goes_on() {
    let script = Script::Transfer {
        after: Duration::from_millis(300),
        request: request("sip:agent@192.0.2.9", TransferMode::Blind),
    };
    let mut bridge = start(loopback_config("127.0.0.1"), script).await;
    run_sipp(
        "uac_refer_target_busy.xml",
        bridge.udp,
        SippTransport::Udp,
        vec![("rtp_port", "40000".into())],
        LIMIT,
    )
    .await
    .assert_passed("uac_refer_target_busy.xml");
    let seen = bridge
        .collect_until(Duration::from_secs(5), |s| matches!(s, Seen::HangUp(_)))
        .await;
    assert_eq!(
        transferred(&seen),
        Some(&Err(TransferError::ReferTargetFailed(486))),
        "{seen:?}"
    );
    assert_eq!(
        seen.last(),
        Some(&Seen::HangUp(HangUpReason::RemoteBye)),
        "{seen:?}"
    );
}

fn tone_frames(hz: f64, frames: usize) -> Arc<[Frame]> {
    (0..frames)
        .map(|i| {
            let samples: Vec<i16> = (0..FRAME_SAMPLES)
                .map(|n| {
                    let t = (i * FRAME_SAMPLES + n) as f64 / 16000.0;
                    (8000.0 * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16
                })
                .collect();
            Frame::from_slice(&samples).expect("frame length")
        })
        .collect()
}

/// Packets in which `hz` carries most of the power (and the packet is not quiet).
fn packets_with_tone(heard: &[support::rtp_peer::Heard], hz: f64) -> usize {
    heard
        .iter()
        .filter(|h| h.rms > 1500.0 && tone_share(&h.samples, hz) > 0.6)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridged_transfer_relays_audio_both_ways() {
    support::test_logs::capture_bridge_logs();
    let agent_port = free_port(SippTransport::Udp);
    let agent_target = format!("sip:agent@127.0.0.1:{agent_port}");
    let script = Script::Transfer {
        after: Duration::from_millis(300),
        request: TransferRequest {
            agent_briefing: Some(tone_frames(400.0, 25).into()),
            hold_audio: HoldAudio::SoftChime,
            ..request(&agent_target, TransferMode::Bridged)
        },
    };
    let mut bridge = start(loopback_config("127.0.0.1"), script).await;
    let caller = RtpPeer::bind().await;
    let agent = RtpPeer::bind().await;

    // The agent (sipp UAS) waits first; then the caller (sipp UAC) calls in.
    let (agent_sipp, caller_sipp) =
        start_agent_then_caller(agent_port, agent.port, bridge.udp, caller.port, 5000, LIMIT).await;
    let info = bridge.next_answered(Duration::from_secs(10)).await;
    let bridge_caller_rtp = SocketAddr::from(([127, 0, 0, 1], info.local_rtp_port));
    let caller_heard = caller.listen(Duration::from_millis(4800));
    let caller_talks = {
        let caller_peer = caller;
        tokio::spawn(async move {
            caller_peer
                .send_tone_hz(bridge_caller_rtp, 220, 1000.0)
                .await;
            caller_peer
        })
    };
    // The agent learns the bridge's agent-leg port from its first packet (symmetric RTP).
    let Some(bridge_agent_rtp) = agent.first_source_within(Duration::from_secs(8)).await else {
        // Once failed on CI only (not reproduced here): say what each side did.
        let seen = bridge
            .collect_until(Duration::from_secs(3), |s| matches!(s, Seen::HangUp(_)))
            .await;
        let agent_sipp = tokio::time::timeout(Duration::from_secs(3), agent_sipp).await;
        let caller_sipp = tokio::time::timeout(Duration::from_secs(3), caller_sipp).await;
        panic!(
            "no RTP from the bridge reached the agent in 8 s.\nbridge events: {seen:?}\n\
             agent sipp: {agent_sipp:?}\ncaller sipp: {caller_sipp:?}"
        );
    };
    let agent_heard = agent.listen(Duration::from_millis(3000));
    agent.send_tone_hz(bridge_agent_rtp, 120, 600.0).await;

    let caller_heard = caller_heard.await.expect("caller listener");
    let agent_heard = agent_heard.await.expect("agent listener");
    caller_talks.await.expect("caller sender");
    caller_sipp
        .await
        .expect("caller sipp")
        .assert_passed("uac_call_long.xml");
    agent_sipp
        .await
        .expect("agent sipp")
        .assert_passed("uas_agent.xml (the bridge must BYE the agent when the caller leaves)");

    let seen = bridge
        .collect_until(Duration::from_secs(5), |s| matches!(s, Seen::HangUp(_)))
        .await;
    let result = transferred(&seen).cloned();
    assert!(
        matches!(result, Some(Ok(TransferCompleted::Bridged))),
        "{seen:?}"
    );
    assert_eq!(
        second(&seen),
        Some(&Err(TransferError::AlreadyInProgress)),
        "{seen:?}"
    );
    let chime = caller_heard
        .iter()
        .filter(|h| h.rms > 300.0 && tone_share(&h.samples, 523.25) > 0.6)
        .count();
    let agent_tone_at_caller = packets_with_tone(&caller_heard, 600.0);
    let caller_tone_at_agent = packets_with_tone(&agent_heard, 1000.0);
    let briefing_at_agent = packets_with_tone(&agent_heard, 400.0);
    println!(
        "chime={chime} agent→caller={agent_tone_at_caller} caller→agent={caller_tone_at_agent} briefing={briefing_at_agent}"
    );
    assert!(
        chime >= 5,
        "caller heard no hold chime while the agent rang"
    );
    assert!(
        briefing_at_agent >= 15,
        "agent heard {briefing_at_agent} packets of the 25-frame briefing"
    );
    assert!(
        agent_tone_at_caller >= 60,
        "caller heard only {agent_tone_at_caller} packets of the agent's 120"
    );
    assert!(
        caller_tone_at_agent >= 40,
        "agent heard only {caller_tone_at_agent} packets of the caller's tone"
    );
    let agent_frames = seen
        .iter()
        .find_map(|s| match s {
            Seen::LoudFrames { agent, .. } => Some(*agent),
            _ => None,
        })
        .unwrap_or(0);
    assert!(
        agent_frames >= 60,
        "engine tap got {agent_frames} agent frames"
    );
    assert_eq!(
        seen.last(),
        Some(&Seen::HangUp(HangUpReason::RemoteBye)),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_agent_fails_the_bridged_transfer_and_the_bot_keeps_the_caller() {
    let agent_port = free_port(SippTransport::Udp);
    let script = Script::Transfer {
        after: Duration::from_millis(300),
        request: request(
            &format!("sip:agent@127.0.0.1:{agent_port}"),
            TransferMode::Bridged,
        ),
    };
    let mut bridge = start(loopback_config("127.0.0.1"), script).await;
    let agent_sipp = tokio::spawn(run_sipp_full(SippRun {
        local_port: Some(agent_port),
        ..SippRun::new("uas_agent_busy.xml", None)
    }));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let caller = RtpPeer::bind().await;
    let caller_sipp = tokio::spawn(run_sipp_full(SippRun {
        keys: vec![("rtp_port", caller.port.to_string())],
        extra_args: vec!["-d".into(), "2500".into()],
        ..SippRun::new("uac_call_long.xml", Some(bridge.udp))
    }));
    let seen = bridge
        .collect_until(Duration::from_secs(10), |s| matches!(s, Seen::HangUp(_)))
        .await;
    agent_sipp
        .await
        .expect("agent sipp")
        .assert_passed("uas_agent_busy.xml");
    caller_sipp
        .await
        .expect("caller sipp")
        .assert_passed("uac_call_long.xml");
    assert_eq!(
        transferred(&seen),
        Some(&Err(TransferError::AgentBusy(486))),
        "{seen:?}"
    );
    assert_eq!(
        seen.last(),
        Some(&Seen::HangUp(HangUpReason::RemoteBye)),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_hanging_up_during_the_briefing_hangs_up_the_agent() {
    let agent_port = free_port(SippTransport::Udp);
    // The engine drops its transfer when the caller hangs up (as the call driver does); the
    // bridge must still end the agent's leg it has already answered.
    let script = Script::TransferDroppedOnHangUp {
        after: Duration::from_millis(300),
        request: TransferRequest {
            agent_briefing: Some(tone_frames(400.0, 200).into()),
            ..request(
                &format!("sip:agent@127.0.0.1:{agent_port}"),
                TransferMode::Bridged,
            )
        },
    };
    let mut bridge = start(loopback_config("127.0.0.1"), script).await;
    let agent = RtpPeer::bind().await;
    let caller = RtpPeer::bind().await;
    // Up 1.8 s: the agent answers at about 0.8 s and the 4 s briefing is still playing.
    let (agent_sipp, caller_sipp) =
        start_agent_then_caller(agent_port, agent.port, bridge.udp, caller.port, 1800, LIMIT).await;
    let seen = bridge
        .collect_until(Duration::from_secs(10), |s| matches!(s, Seen::HangUp(_)))
        .await;
    caller_sipp
        .await
        .expect("caller sipp")
        .assert_passed("uac_call_long.xml");
    agent_sipp.await.expect("agent sipp").assert_passed(
        "uas_agent.xml (the bridge must BYE an agent whose briefing the caller left)",
    );
    assert_eq!(
        seen.last(),
        Some(&Seen::HangUp(HangUpReason::RemoteBye)),
        "{seen:?}"
    );
}

/// Hold audio of a caller outside the bridge, counted (it sends at once, like a browser track).
#[derive(Default)]
struct CountedHold {
    frames: AtomicUsize,
    cleared: AtomicBool,
}

impl HoldSink for CountedHold {
    fn frames_wanted(&self) -> usize {
        1
    }

    fn push_hold_frame(&self, _frame: Frame) {
        self.frames.fetch_add(1, Ordering::Relaxed);
    }

    fn clear_hold(&self) {
        self.cleared.store(true, Ordering::Relaxed);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_dialled_for_a_caller_outside_the_bridge_hears_it_and_is_hung_up() {
    let agent_port = free_port(SippTransport::Udp);
    let bridge = SipBridge::start(loopback_config("127.0.0.1"))
        .await
        .expect("bridge starts");
    let agent = RtpPeer::bind().await;
    let agent_sipp = tokio::spawn(run_sipp_full(SippRun {
        keys: vec![("rtp_port", agent.port.to_string())],
        local_port: Some(agent_port),
        limit: LIMIT,
        ..SippRun::new("uas_agent.xml", None)
    }));
    tokio::time::sleep(Duration::from_millis(300)).await;

    let hold = Arc::new(CountedHold::default());
    let mut leg = bridge
        .agent_dialer()
        .dial(AgentDial {
            transfer: TransferRequest {
                agent_briefing: Some(tone_frames(400.0, 25).into()),
                ..request(
                    &format!("sip:agent@127.0.0.1:{agent_port}"),
                    TransferMode::Bridged,
                )
            },
            caller_id: "browser-1".into(),
            caller_hold: hold.clone(),
        })
        .await
        .expect("the agent answers");
    // Rang 500 ms, then 500 ms of briefing: about 50 ticks of hold audio, one frame each.
    let held = hold.frames.load(Ordering::Relaxed);
    assert!(
        (30..=120).contains(&held),
        "{held} hold frames while the agent rang and was briefed"
    );
    assert!(
        hold.cleared.load(Ordering::Relaxed),
        "hold audio must stop once the agent is briefed"
    );
    assert_eq!(leg.end_reason(), None);

    let bridge_agent_rtp = agent.first_source(Duration::from_secs(5)).await;
    let agent_heard = agent.listen(Duration::from_millis(3000));
    let caller_audio = leg.caller_audio();
    let caller_talks = tokio::spawn(async move {
        let start = tokio::time::Instant::now();
        for (n, frame) in tone_frames(1000.0, 120).iter().enumerate() {
            caller_audio.send(frame.clone());
            tokio::time::sleep_until(start + Duration::from_millis(20) * (n as u32 + 1)).await;
        }
    });
    let from_agent = async {
        let mut frames = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_millis(3000);
        while let Ok(Some(frame)) = tokio::time::timeout_at(deadline, leg.recv()).await {
            frames.push(frame);
        }
        frames
    };
    let ((), from_agent) =
        tokio::join!(agent.send_tone_hz(bridge_agent_rtp, 120, 600.0), from_agent);
    caller_talks.await.expect("caller frames sent");
    let agent_heard = agent_heard.await.expect("agent listener");
    let caller_tone_at_agent = packets_with_tone(&agent_heard, 1000.0);
    let agent_tone_from_leg = from_agent
        .iter()
        .filter(|f| f.rms() > 1500.0 && tone_share_at(f.as_slice(), 600.0, 16_000) > 0.6)
        .count();
    println!("caller→agent={caller_tone_at_agent} agent→caller={agent_tone_from_leg}");
    assert!(
        caller_tone_at_agent >= 60,
        "agent heard only {caller_tone_at_agent} packets of the caller's 120"
    );
    assert!(
        agent_tone_from_leg >= 60,
        "the leg gave only {agent_tone_from_leg} frames of the agent's 120"
    );

    leg.hang_up();
    let over = tokio::time::timeout(Duration::from_secs(5), async {
        while leg.recv().await.is_some() {}
    })
    .await;
    assert!(over.is_ok(), "the agent's frames must end after hang_up");
    assert_eq!(leg.end_reason(), Some(HangUpReason::LocalHangUp));
    agent_sipp
        .await
        .expect("agent sipp")
        .assert_passed("uas_agent.xml (hang_up must send the agent BYE)");
}
