//! The bridge against a real SIP peer (sipp): calls, CANCEL, OPTIONS, 488, 403, malformed
//! input, bridge-side hang-up, over UDP and TCP. Media is played by the test's own RTP peer
//! (its port is written into sipp's SDP with `-key rtp_port`).

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use sip_bridge::{AudioCodec, HangUpReason};
use support::engine::{Script, Seen, TestBridge, loopback_config, start};
use support::rtp_peer::RtpPeer;
use support::sipp::{SippTransport, run_sipp};

const LIMIT: Duration = Duration::from_secs(20);

fn rtp_addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Full call: INVITE/200/ACK, tone in, echo out (not silence), DTMF, BYE from the caller.
async fn echo_call(
    bridge: &mut TestBridge,
    target: SocketAddr,
    transport: SippTransport,
    scenario: &'static str,
) {
    let peer = RtpPeer::bind().await;
    let sipp = tokio::spawn(run_sipp(
        scenario,
        target,
        transport,
        vec![("rtp_port", peer.port.to_string())],
        LIMIT,
    ));
    let info = bridge.next_answered(Duration::from_secs(10)).await;
    assert_eq!(info.codec, AudioCodec::Pcmu, "caller offered PCMU first");
    assert!(
        info.caller.contains("+85212345678"),
        "caller URI: {}",
        info.caller
    );
    let bridge_rtp = rtp_addr(info.local_rtp_port);
    let listening = peer.listen(Duration::from_millis(1800));
    peer.send_tone(bridge_rtp, 60).await;
    peer.send_dtmf(bridge_rtp, 101, 5, 2000).await;
    let heard = listening.await.expect("listener task");

    let outcome = sipp.await.expect("sipp task");
    outcome.assert_passed(scenario);
    let seen = bridge
        .collect_until(Duration::from_secs(5), |s| matches!(s, Seen::HangUp(_)))
        .await;
    assert!(
        seen.contains(&Seen::Dtmf('5')),
        "DTMF 5 not delivered exactly: {seen:?}"
    );
    assert_eq!(
        seen.iter().filter(|s| matches!(s, Seen::Dtmf(_))).count(),
        1,
        "{seen:?}"
    );
    assert_eq!(
        seen.last(),
        Some(&Seen::HangUp(HangUpReason::RemoteBye)),
        "{seen:?}"
    );
    let frames = seen
        .iter()
        .find_map(|s| match s {
            Seen::AudioFrames(n) => Some(*n),
            _ => None,
        })
        .unwrap_or(0);
    assert!(
        (55..=62).contains(&frames),
        "60 tone packets should give ~60 frames, got {frames}"
    );

    // The bridge sends from the start (silence) and echoes the tone once it arrives.
    assert!(
        heard.len() >= 70,
        "only {} RTP packets came back in 1.8 s",
        heard.len()
    );
    assert!(
        heard.iter().all(|h| h.payload_type == 0),
        "answer codec is PCMU"
    );
    let loud = heard.iter().filter(|h| h.rms > 2000.0).count();
    assert!(
        loud >= 40,
        "echoed tone missing: {loud} loud packets of {}",
        heard.len()
    );
    for pair in heard.windows(2) {
        assert_eq!(
            pair[1].sequence,
            pair[0].sequence.wrapping_add(1),
            "sequence gap"
        );
        assert_eq!(
            pair[1].timestamp,
            pair[0].timestamp.wrapping_add(160),
            "timestamp step"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_call_echoes_audio_and_delivers_dtmf() {
    let mut bridge = start(loopback_config("127.0.0.1"), Script::Echo).await;
    let target = bridge.udp;
    echo_call(&mut bridge, target, SippTransport::Udp, "uac_call.xml").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_call_echoes_audio_and_delivers_dtmf() {
    let mut bridge = start(loopback_config("127.0.0.1"), Script::Echo).await;
    let target = bridge.tcp;
    echo_call(&mut bridge, target, SippTransport::Tcp, "uac_call.xml").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_do_not_stop_the_next_call() {
    let mut bridge = start(loopback_config("127.0.0.1"), Script::Echo).await;
    // Raw junk first: binary, a request line only, an oversized datagram, a huge header.
    let junk = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut oversized = b"INVITE sip:x@127.0.0.1 SIP/2.0\r\nX-Pad: ".to_vec();
    oversized.extend(std::iter::repeat_n(b'a', 60_000));
    oversized.extend_from_slice(b"\r\n\r\n");
    let messages: Vec<Vec<u8>> = vec![
        vec![0xff, 0x00, 0x13, 0x37],
        b"INVITE sip:x SIP/2.0\r\n\r\n".to_vec(),
        b"SIP/2.0 200 OK\r\nCSeq: x\r\n\r\n".to_vec(),
        b"\r\n\r\n".to_vec(),
        oversized,
        b"OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKa\r\n\
          Content-Length: 18446744073709551615\r\n\r\n"
            .to_vec(),
    ];
    for message in &messages {
        junk.send_to(message, bridge.udp).unwrap();
    }
    // And the same junk over TCP, which must not take the listener down either.
    if let Ok(mut tcp) = std::net::TcpStream::connect(bridge.tcp) {
        use std::io::Write;
        for message in &messages {
            tcp.write_all(message).ok();
        }
    }
    let target = bridge.udp;
    echo_call(
        &mut bridge,
        target,
        SippTransport::Udp,
        "uac_malformed_then_call.xml",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_while_ringing_gets_487() {
    let mut bridge = start(loopback_config("127.0.0.1"), Script::LetItRing).await;
    let outcome = run_sipp(
        "uac_cancel.xml",
        bridge.udp,
        SippTransport::Udp,
        vec![("rtp_port", "40000".to_string())],
        LIMIT,
    )
    .await;
    outcome.assert_passed("uac_cancel.xml");
    let seen = bridge
        .collect_until(Duration::from_secs(3), |s| {
            *s == Seen::CancelledWhileRinging
        })
        .await;
    assert_eq!(seen.last(), Some(&Seen::CancelledWhileRinging), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_keepalive_gets_200() {
    let bridge = start(loopback_config("127.0.0.1"), Script::Echo).await;
    run_sipp("options.xml", bridge.udp, SippTransport::Udp, vec![], LIMIT)
        .await
        .assert_passed("options.xml");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_codecs_only_gets_488_and_never_rings_the_engine() {
    let mut bridge = start(loopback_config("127.0.0.1"), Script::Echo).await;
    run_sipp(
        "uac_unknown_codec.xml",
        bridge.udp,
        SippTransport::Udp,
        vec![("rtp_port", "40000".to_string())],
        LIMIT,
    )
    .await
    .assert_passed("uac_unknown_codec.xml");
    let seen = bridge
        .collect_until(Duration::from_millis(300), |_| true)
        .await;
    assert!(
        seen.is_empty(),
        "engine should not see a 488'd call: {seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_outside_the_allowlist_gets_403() {
    let mut bridge = start(loopback_config("192.0.2.1"), Script::Echo).await;
    run_sipp(
        "uac_forbidden.xml",
        bridge.udp,
        SippTransport::Udp,
        vec![("rtp_port", "40000".to_string())],
        LIMIT,
    )
    .await
    .assert_passed("uac_forbidden.xml");
    let seen = bridge
        .collect_until(Duration::from_millis(300), |_| true)
        .await;
    assert!(
        seen.is_empty(),
        "engine should not see a forbidden call: {seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_hangs_up_with_bye() {
    let mut bridge = start(
        loopback_config("127.0.0.1"),
        Script::HangUpAfter(Duration::from_millis(500)),
    )
    .await;
    let peer = RtpPeer::bind().await;
    let outcome = run_sipp(
        "uac_remote_hangup.xml",
        bridge.udp,
        SippTransport::Udp,
        vec![("rtp_port", peer.port.to_string())],
        LIMIT,
    )
    .await;
    outcome.assert_passed("uac_remote_hangup.xml");
    let seen = bridge
        .collect_until(Duration::from_secs(3), |s| matches!(s, Seen::HangUp(_)))
        .await;
    let answered = seen.iter().find_map(|s| match s {
        Seen::Answered(info) => Some(info.codec),
        _ => None,
    });
    assert_eq!(
        answered,
        Some(AudioCodec::Pcma),
        "PCMA offered first: {seen:?}"
    );
    assert_eq!(
        seen.last(),
        Some(&Seen::HangUp(HangUpReason::LocalHangUp)),
        "{seen:?}"
    );
}
