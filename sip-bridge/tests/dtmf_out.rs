//! DTMF to the caller (RFC 4733) against sipp callers, with the test's socket as the phone's
//! media: the engine's `send_dtmf_digits` comes out as telephone-events at the negotiated
//! payload type and clock (8 kHz with G.711, 48 kHz with Opus): a start packet with the marker,
//! updates every 20 ms, three end packets, one timestamp per press, queued audio held back
//! (not lost), and the bridge's own RFC 4733 detector reads the keys back. A caller without
//! telephone-event gets no events and the engine a typed refusal.

mod support;

use std::time::Duration;

use sip_bridge::dtmf_event::{DtmfDetector, TelephoneEvent};
use sip_bridge::{AudioCodec, DtmfSendError};
use support::engine::{KeyPlan, Script, Seen, loopback_config, start};
use support::rtp_peer::{Heard, RtpPeer};
use support::sipp::SippRun;
use support::sipp::run_sipp_full;

fn keys_script(frames: usize) -> Script {
    Script::Play {
        hz: 600.0,
        amplitude: 8000.0,
        frames,
        keys: Some(KeyPlan {
            digits: "1#",
            duration: Duration::from_millis(100),
            after: Duration::from_millis(300),
        }),
    }
}

/// One key press as heard: its packets in order.
fn presses(heard: &[Heard], event_pt: u8) -> Vec<Vec<&Heard>> {
    let mut presses: Vec<Vec<&Heard>> = Vec::new();
    for h in heard.iter().filter(|h| h.payload_type == event_pt) {
        match presses.last_mut() {
            Some(press) if press[0].timestamp == h.timestamp => press.push(h),
            _ => presses.push(vec![h]),
        }
    }
    presses
}

/// Checks the RFC 4733 shape of each press and that nothing else is sent during one;
/// returns what the bridge's own detector reads.
fn check_presses(heard: &[Heard], event_pt: u8, unit: u16) -> String {
    let presses = presses(heard, event_pt);
    let kinds: String = heard
        .iter()
        .map(|h| if h.payload_type == event_pt { 'e' } else { 'a' })
        .collect();
    assert_eq!(presses.len(), 2, "two key presses: {kinds}");
    for press in &presses {
        let events: Vec<TelephoneEvent> = press
            .iter()
            .map(|h| TelephoneEvent::parse(&h.payload).expect("a telephone-event payload"))
            .collect();
        let durations: Vec<u16> = events.iter().map(|e| e.duration).collect();
        let expected: Vec<u16> = [1, 2, 3, 4, 5, 5, 5].iter().map(|n| n * unit).collect();
        assert_eq!(durations, expected, "100 ms press in {unit}-unit slots");
        let ends: Vec<bool> = events.iter().map(|e| e.end).collect();
        assert_eq!(ends, [false, false, false, false, true, true, true]);
        assert!(press[0].marker && press[1..].iter().all(|h| !h.marker));
        assert!(
            events
                .iter()
                .all(|e| e.event == events[0].event && e.volume == 10)
        );
        // The press owns its slots: consecutive sequence numbers, no audio in between.
        for pair in press.windows(2) {
            assert_eq!(pair[1].sequence, pair[0].sequence.wrapping_add(1));
        }
        let gap = press[press.len() - 1].at.duration_since(press[0].at);
        assert!(
            gap >= Duration::from_millis(90) && gap <= Duration::from_millis(200),
            "7 packets 20 ms apart, took {gap:?}"
        );
    }
    for pair in heard.windows(2) {
        assert_eq!(
            pair[1].sequence,
            pair[0].sequence.wrapping_add(1),
            "one stream"
        );
    }
    let mut detector = DtmfDetector::new();
    presses
        .iter()
        .flatten()
        .flat_map(|h| detector.on_packet(h.timestamp, &h.payload))
        .flatten()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_go_out_as_telephone_events_at_8_khz_on_a_g711_call() {
    let mut bridge = start(loopback_config("127.0.0.1"), keys_script(40)).await;
    let peer = RtpPeer::bind().await;
    let sipp = tokio::spawn(run_sipp_full(SippRun {
        keys: vec![("rtp_port", peer.port.to_string())],
        extra_args: vec!["-d".into(), "1600".into()],
        ..SippRun::new("uac_call_long.xml", Some(bridge.udp))
    }));
    // Listen from the answer on (the socket holds what came before).
    let answered = bridge.next_answered(Duration::from_secs(10)).await;
    let listening = peer.listen(Duration::from_millis(1800));
    sipp.await.expect("sipp").assert_passed("uac_call_long.xml");
    let heard = listening.await.expect("listener");
    assert_eq!(answered.codec, AudioCodec::Pcmu);
    let seen = bridge
        .collect_until(Duration::from_secs(3), |s| matches!(s, Seen::HangUp(_)))
        .await;
    assert!(seen.contains(&Seen::KeysSent(Ok(()))), "{seen:?}");

    // telephone-event/8000 is payload type 101 in uac_call_long.xml's offer.
    assert_eq!(check_presses(&heard, 101, 160), "1#");
    // The 40 tone frames all went out: held back during the presses, not dropped.
    let loud = heard
        .iter()
        .filter(|h| h.payload_type == 0 && h.rms > 3000.0)
        .count();
    assert!(
        (39..=41).contains(&loud),
        "{loud} loud PCMU packets for 40 tone frames"
    );
    // The first press starts about 300 ms in, in the middle of the tone.
    let first = heard
        .iter()
        .position(|h| h.payload_type == 101)
        .unwrap_or(0);
    assert!(heard[..first].iter().filter(|h| h.rms > 3000.0).count() >= 10);
    assert!(
        heard[first..]
            .iter()
            .any(|h| h.payload_type == 0 && h.rms > 3000.0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_on_an_opus_call_count_the_48_khz_event_clock() {
    let mut bridge = start(loopback_config("127.0.0.1"), keys_script(10)).await;
    let peer = RtpPeer::bind().await;
    let sipp = tokio::spawn(run_sipp_full(SippRun {
        keys: vec![
            ("rtp_port", peer.port.to_string()),
            ("formats", "111 101".to_string()),
        ],
        extra_args: vec!["-d".into(), "1300".into()],
        ..SippRun::new("uac_opus_call.xml", Some(bridge.udp))
    }));
    // Listen from the answer on (the socket holds what came before).
    let answered = bridge.next_answered(Duration::from_secs(10)).await;
    let listening = peer.listen(Duration::from_millis(1500));
    sipp.await.expect("sipp").assert_passed("uac_opus_call.xml");
    let heard = listening.await.expect("listener");
    let seen = bridge
        .collect_until(Duration::from_secs(3), |s| matches!(s, Seen::HangUp(_)))
        .await;
    assert_eq!(answered.codec, AudioCodec::Opus);
    assert!(seen.contains(&Seen::KeysSent(Ok(()))), "{seen:?}");
    // telephone-event/48000 is payload type 101 in uac_opus_call.xml's offer.
    assert_eq!(check_presses(&heard, 101, 960), "1#");
    assert!(
        heard
            .iter()
            .all(|h| h.payload_type == 101 || h.payload_type == 111)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_without_telephone_event_gets_no_events_and_the_engine_a_typed_refusal() {
    let mut bridge = start(loopback_config("127.0.0.1"), keys_script(5)).await;
    let peer = RtpPeer::bind().await;
    let sipp = tokio::spawn(run_sipp_full(SippRun {
        keys: vec![
            ("rtp_port", peer.port.to_string()),
            ("formats", "111".to_string()),
        ],
        extra_args: vec!["-d".into(), "800".into()],
        ..SippRun::new("uac_opus_call.xml", Some(bridge.udp))
    }));
    // Listen from the answer on (the socket holds what came before).
    let answered = bridge.next_answered(Duration::from_secs(10)).await;
    let listening = peer.listen(Duration::from_millis(1000));
    sipp.await.expect("sipp").assert_passed("uac_opus_call.xml");
    let heard = listening.await.expect("listener");
    assert_eq!(answered.codec, AudioCodec::Opus);
    let seen = bridge
        .collect_until(Duration::from_secs(3), |s| matches!(s, Seen::HangUp(_)))
        .await;
    assert!(
        seen.contains(&Seen::KeysSent(Err(DtmfSendError::NoTelephoneEvent))),
        "{seen:?}"
    );
    let kinds: Vec<u8> = heard.iter().map(|h| h.payload_type).collect();
    assert!(
        !heard.is_empty() && kinds.iter().all(|&pt| pt == 111),
        "{kinds:?}"
    );
    let message = DtmfSendError::NoTelephoneEvent.to_string();
    assert!(message.contains("RFC 2833/4733"), "{message}");
}
