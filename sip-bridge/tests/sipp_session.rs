//! Session features against sipp: digest authentication of inbound INVITEs (401 then 200, and
//! a wrong password never getting in), re-INVITE hold/resume with a codec change, SIP INFO
//! DTMF, ending a dead call (no RTP) with BYE, RTCP reports on the odd port, and REGISTER with
//! digest auth and refresh against a sipp registrar.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use sip_bridge::rtcp_report::parse_report;
use sip_bridge::{
    BridgeConfig, HangUpReason, InboundAuth, RegistrationState, SipBridge, SipUser,
    TrunkRegistration,
};
use support::engine::{Script, Seen, loopback_config, start};
use support::rtp_peer::RtpPeer;
use support::sipp::{SippRun, SippTransport, free_port, run_sipp_full};

fn with_digest(mut config: BridgeConfig) -> BridgeConfig {
    // Nobody is on the allowlist: only digest credentials get in.
    config.trunk_allowlist = vec!["192.0.2.1".parse().unwrap()];
    config.inbound_auth = Some(InboundAuth {
        realm: "hotline".into(),
        users: vec![SipUser {
            username: "pbx".into(),
            password: "s3cret".into(),
        }],
    });
    config
}

fn auth_args(password: &str) -> Vec<String> {
    ["-au", "pbx", "-ap", password]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_invite_is_challenged_then_answered_with_digest() {
    let mut bridge = start(with_digest(loopback_config("127.0.0.1")), Script::Echo).await;
    run_sipp_full(SippRun {
        keys: vec![("rtp_port", "40000".into())],
        extra_args: auth_args("s3cret"),
        ..SippRun::new("uac_auth_call.xml", Some(bridge.udp))
    })
    .await
    .assert_passed("uac_auth_call.xml");
    let seen = bridge
        .collect_until(Duration::from_secs(3), |s| matches!(s, Seen::HangUp(_)))
        .await;
    assert!(
        seen.iter().any(|s| matches!(s, Seen::Answered(_))),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_never_reaches_the_engine() {
    let mut bridge = start(with_digest(loopback_config("127.0.0.1")), Script::Echo).await;
    run_sipp_full(SippRun {
        keys: vec![("rtp_port", "40000".into())],
        extra_args: auth_args("guess"),
        ..SippRun::new("uac_auth_wrong.xml", Some(bridge.udp))
    })
    .await
    .assert_passed("uac_auth_wrong.xml");
    let seen = bridge
        .collect_until(Duration::from_millis(300), |_| true)
        .await;
    assert!(seen.is_empty(), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_stops_sending_resume_restarts_with_new_codec_and_info_dtmf_arrives() {
    let mut bridge = start(loopback_config("127.0.0.1"), Script::Listen).await;
    let peer = RtpPeer::bind().await;
    let listening = peer.listen(Duration::from_millis(4800));
    run_sipp_full(SippRun {
        keys: vec![("rtp_port", peer.port.to_string())],
        ..SippRun::new("uac_hold_resume.xml", Some(bridge.udp))
    })
    .await
    .assert_passed("uac_hold_resume.xml");
    let heard = listening.await.expect("listener");
    let seen = bridge
        .collect_until(Duration::from_secs(3), |s| matches!(s, Seen::HangUp(_)))
        .await;
    assert!(seen.contains(&Seen::Dtmf('7')), "SIP INFO digit: {seen:?}");

    // Before hold: PCMU; a silent gap of about the 1.5 s hold; after resume: PCMA only.
    let (gap_at, gap) = heard
        .windows(2)
        .enumerate()
        .map(|(i, w)| (i, w[1].at.duration_since(w[0].at)))
        .max_by_key(|(_, gap)| *gap)
        .expect("packets heard");
    assert!(
        gap >= Duration::from_millis(1300) && gap <= Duration::from_millis(2000),
        "hold gap {gap:?}"
    );
    let (before, after) = heard.split_at(gap_at + 1);
    assert!(before.len() >= 40, "{} packets before hold", before.len());
    assert!(after.len() >= 40, "{} packets after resume", after.len());
    assert!(before.iter().all(|h| h.payload_type == 0));
    assert!(
        after.iter().all(|h| h.payload_type == 8),
        "resume offered PCMA only"
    );
    assert_eq!(
        seen.last(),
        Some(&Seen::HangUp(HangUpReason::RemoteBye)),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_call_without_rtp_is_ended_with_bye() {
    let mut config = loopback_config("127.0.0.1");
    config.rtp_timeout = Some(Duration::from_millis(1500));
    let mut bridge = start(config, Script::Listen).await;
    run_sipp_full(SippRun {
        keys: vec![("rtp_port", "40000".into())],
        ..SippRun::new("uac_silent_call.xml", Some(bridge.udp))
    })
    .await
    .assert_passed("uac_silent_call.xml");
    let seen = bridge
        .collect_until(Duration::from_secs(3), |s| matches!(s, Seen::HangUp(_)))
        .await;
    assert_eq!(
        seen.last(),
        Some(&Seen::HangUp(HangUpReason::RtpTimeout)),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rtcp_sender_reports_go_to_the_odd_port() {
    let mut bridge = start(loopback_config("127.0.0.1"), Script::Echo).await;
    let (peer, rtcp) = RtpPeer::bind_pair().await;
    let sipp = tokio::spawn(run_sipp_full(SippRun {
        keys: vec![("rtp_port", peer.port.to_string())],
        extra_args: vec!["-d".into(), "6500".into()],
        ..SippRun::new("uac_call_long.xml", Some(bridge.udp))
    }));
    let info = bridge.next_answered(Duration::from_secs(10)).await;
    let bridge_rtp = SocketAddr::from(([127, 0, 0, 1], info.local_rtp_port));
    let talking = tokio::spawn(async move {
        peer.send_tone(bridge_rtp, 300).await;
    });
    let mut buf = [0u8; 1500];
    let (len, from) = tokio::time::timeout(Duration::from_secs(7), rtcp.recv_from(&mut buf))
        .await
        .expect("an RTCP report within 7 s")
        .expect("RTCP receive");
    assert_eq!(
        from.port(),
        info.local_rtp_port + 1,
        "RTCP from the odd port"
    );
    let report = parse_report(&buf[..len]).expect("a valid SR/RR");
    assert!(report.sr_ntp_middle.is_some(), "we send, so it is an SR");
    let block = report.block.expect("a report block about our tone stream");
    assert_eq!(block.ssrc, 0x1234_5678);
    assert!(block.fraction_lost < 0.05, "{block:?}");
    talking.abort();
    sipp.await.expect("sipp").assert_passed("uac_call_long.xml");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_with_digest_and_refreshes_before_expiry() {
    let registrar_port = free_port(SippTransport::Udp);
    let registrar = tokio::spawn(run_sipp_full(SippRun {
        local_port: Some(registrar_port),
        ..SippRun::new("uas_registrar.xml", None)
    }));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut config = loopback_config("127.0.0.1");
    config.registration = Some(TrunkRegistration {
        registrar: format!("sip:127.0.0.1:{registrar_port}"),
        username: "hotline".into(),
        password: "s3cret".into(),
        auth_username: None,
        realm: None,
        expires: 2,
    });
    let bridge = SipBridge::start(config).await.expect("bridge starts");
    let mut state = bridge.registration();
    let registered_twice = tokio::time::timeout(
        Duration::from_secs(8),
        state.wait_for(
            |s| matches!(s, RegistrationState::Registered { refreshes, .. } if *refreshes >= 2),
        ),
    )
    .await
    .map(|r| r.is_ok());
    let last = state.borrow().clone();
    assert!(
        registered_twice == Ok(true),
        "not refreshed in time; last state {last:?}"
    );
    registrar
        .await
        .expect("registrar sipp")
        .assert_passed("uas_registrar.xml");
}
