//! Opus calls against a real SIP peer (sipp) with the test playing the phone's media: an
//! offer with Opus is answered Opus (also when PCMU comes first), a phone's 48 kHz stereo Opus
//! reaches the engine as 16 kHz frames identical to a plain libopus decode (a 1 kHz tone keeps
//! its pitch and level), a malformed packet is concealed, a lost one rebuilt from the next
//! one's FEC, the engine's tone comes back as Opus that a phone's decoder plays at the right
//! pitch and level, and re-INVITEs switch Opus → PCMU → Opus with the right payload types,
//! clocks and audio.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use hotline_audio::g711::G711Law;
use sip_bridge::AudioCodec;
use support::engine::{Script, Seen, loopback_config, start};
use support::opus_phone::{
    OPUS_STEP, PhoneEar, reference_16k, rms, rtp_datagrams, tone_then_vowel_packets,
};
use support::rtp_peer::{Heard, RtpPeer, tone_share, tone_share_at};
use support::sipp::{SippRun, run_sipp_full};

fn rtp_addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn opus_caller(peer: &RtpPeer, formats: &str, stay_ms: u64) -> SippRun {
    SippRun {
        keys: vec![
            ("rtp_port", peer.port.to_string()),
            ("formats", formats.to_string()),
        ],
        extra_args: vec!["-d".into(), stay_ms.to_string()],
        ..SippRun::new("uac_opus_call.xml", None)
    }
}

/// Packets in a row with the given payload type, in arrival order.
fn runs(heard: &[Heard]) -> Vec<(u8, Vec<&Heard>)> {
    let mut runs: Vec<(u8, Vec<&Heard>)> = Vec::new();
    for h in heard {
        match runs.last_mut() {
            Some((pt, run)) if *pt == h.payload_type => run.push(h),
            _ => runs.push((h.payload_type, vec![h])),
        }
    }
    runs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opus_call_carries_tones_both_ways_and_conceals_lost_and_malformed_packets() {
    // The engine plays 2 s of a 600 Hz tone (peak 8000, rms 5657) as soon as it answers.
    let mut bridge = start(
        loopback_config("127.0.0.1"),
        Script::Play {
            hz: 600.0,
            amplitude: 8000.0,
            frames: 100,
            keys: None,
        },
    )
    .await;
    let peer = RtpPeer::bind().await;
    let sipp = tokio::spawn(run_sipp_full(SippRun {
        target: Some(bridge.udp),
        ..opus_caller(&peer, "111 101", 3000)
    }));
    let info = bridge.next_answered(Duration::from_secs(10)).await;
    assert_eq!(info.codec, AudioCodec::Opus);
    let listening = peer.listen(Duration::from_millis(2700));

    // The phone: 1 s of a 1 kHz tone (peak 9000, rms 6364), then 1 s of a vowel, 48 kHz
    // stereo Opus with FEC. Packet 30 arrives mangled, packet 75 is lost on the way.
    const MANGLED: usize = 30;
    const LOST: usize = 75;
    let payloads = tone_then_vowel_packets(1000.0, 9000.0, 50, 50, true);
    let mut datagrams: Vec<Option<Vec<u8>>> = rtp_datagrams(&payloads, 111, 500)
        .into_iter()
        .map(Some)
        .collect();
    datagrams[LOST] = None;
    let mangled = rtp_datagrams(&[vec![0x03, 0x00]], 111, 500 + MANGLED as u16);
    let mut mangled = mangled.into_iter().next();
    if let Some(datagram) = mangled.as_mut() {
        // Same timestamp as the packet it replaces; no marker.
        datagram[1] = 111;
        datagram[4..8].copy_from_slice(&(7_000 + MANGLED as u32 * OPUS_STEP).to_be_bytes());
    }
    datagrams[MANGLED] = mangled;
    peer.send_paced(rtp_addr(info.local_rtp_port), &datagrams)
        .await;
    let heard = listening.await.expect("listener");
    sipp.await.expect("sipp").assert_passed("uac_opus_call.xml");

    // Engine side: one 16 kHz frame per 20 ms, the lost and the mangled packet included.
    let seen = bridge
        .collect_until(Duration::from_secs(5), |s| matches!(s, Seen::HangUp(_)))
        .await;
    let frames = seen
        .iter()
        .find_map(|s| match s {
            Seen::CallerFrames(frames) => Some(frames.clone()),
            _ => None,
        })
        .expect("the engine reports the caller's frames");
    assert_eq!(
        frames.len(),
        100,
        "100 packets (one lost, one mangled): one frame each"
    );
    // Up to the loss, the frames are exactly what a plain libopus decoder at 16 kHz makes of
    // the phone's packets, the mangled one concealed by libopus.
    let concealed = reference_16k(&payloads, &[MANGLED, LOST]);
    for (i, (frame, reference)) in frames.iter().zip(&concealed).enumerate().take(LOST) {
        assert_eq!(
            frame.as_slice(),
            &reference[..],
            "frame {i} differs from libopus's"
        );
    }
    // The tone: 1 kHz at its level; concealment (30) and the few frames after it, while the
    // predictor of a pure tone re-converges, keep the pitch with a wavering level.
    for (i, frame) in frames.iter().enumerate().take(50).skip(3) {
        let share = tone_share_at(frame.as_slice(), 1000.0, 16_000);
        let level = f64::from(frame.rms());
        let recovering = (MANGLED..MANGLED + 10).contains(&i);
        let (min_share, min_level) = if recovering {
            (0.5, 1000.0)
        } else {
            (0.9, 5000.0)
        };
        assert!(
            share > min_share && level > min_level && level < 9000.0,
            "frame {i}: 1 kHz share {share:.2}, rms {level:.0} (sent rms 6364)"
        );
    }
    // The lost packet is rebuilt from the next one's FEC: much closer to the packet's own
    // audio than libopus's concealment gets.
    let clean = reference_16k(&payloads, &[MANGLED]);
    let error = |a: &[i16], b: &[i16]| {
        let sum: f64 = a
            .iter()
            .zip(b)
            .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
            .sum();
        (sum / a.len() as f64).sqrt()
    };
    let rebuilt = error(frames[LOST].as_slice(), &clean[LOST]);
    let guessed = error(&concealed[LOST], &clean[LOST]);
    let level = rms(&clean[LOST]);
    assert!(
        rebuilt < 0.6 * guessed && rebuilt < 0.6 * level,
        "lost frame off by rms {rebuilt:.0}; concealment would be off by {guessed:.0} (level {level:.0})"
    );
    for i in LOST + 5..100 {
        let off = error(frames[i].as_slice(), &clean[i]);
        assert!(
            off < 0.2 * level,
            "frame {i} after the loss off by rms {off:.0}"
        );
    }

    // Caller side: Opus on payload type 111, 48 kHz clock, variable sizes, the tone at level.
    assert!(heard.len() >= 120, "only {} packets in 2.7 s", heard.len());
    assert!(heard.iter().all(|h| h.payload_type == 111), "all Opus");
    for pair in heard.windows(2) {
        assert_eq!(pair[1].sequence, pair[0].sequence.wrapping_add(1));
        assert_eq!(pair[1].timestamp, pair[0].timestamp.wrapping_add(OPUS_STEP));
    }
    let mut ear = PhoneEar::new();
    let decoded: Vec<Vec<i16>> = heard.iter().map(|h| ear.decode(&h.payload)).collect();
    assert!(
        decoded.iter().all(|pcm| pcm.len() == 960),
        "20 ms per packet"
    );
    let loud: Vec<usize> = (0..decoded.len())
        .filter(|&i| rms(&decoded[i]) > 2000.0)
        .collect();
    assert!(
        (95..=101).contains(&loud.len()),
        "the 100 tone frames: {} loud packets",
        loud.len()
    );
    for &i in &loud[3..loud.len() - 3] {
        let share = tone_share_at(&decoded[i], 600.0, 48_000);
        let level = rms(&decoded[i]);
        assert!(
            share > 0.9 && (4500.0..7000.0).contains(&level),
            "packet {i}: 600 Hz share {share:.2}, rms {level:.0} (queued rms 5657)"
        );
    }
    let quiet_after = decoded[loud[loud.len() - 1] + 3..]
        .iter()
        .all(|pcm| rms(pcm) < 100.0);
    assert!(quiet_after, "silence after the tone");
    let sizes: Vec<usize> = heard.iter().map(|h| h.payload.len()).collect();
    assert!(
        sizes.iter().any(|&s| s > 30) && sizes.iter().any(|&s| s < 10),
        "tone and silence packets differ in size: {sizes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opus_is_chosen_even_when_pcmu_is_offered_first() {
    let mut bridge = start(loopback_config("127.0.0.1"), Script::Listen).await;
    let peer = RtpPeer::bind().await;
    let sipp = tokio::spawn(run_sipp_full(SippRun {
        target: Some(bridge.udp),
        ..opus_caller(&peer, "0 8 111 101", 800)
    }));
    let info = bridge.next_answered(Duration::from_secs(10)).await;
    assert_eq!(info.codec, AudioCodec::Opus);
    let listening = peer.listen(Duration::from_millis(900));
    sipp.await.expect("sipp").assert_passed("uac_opus_call.xml");
    let heard = listening.await.expect("listener");
    assert!(heard.len() >= 20, "{} packets", heard.len());
    assert!(heard.iter().all(|h| h.payload_type == 111));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reinvites_switch_opus_to_pcmu_and_back_with_clock_and_audio_intact() {
    let mut bridge = start(
        loopback_config("127.0.0.1"),
        Script::Play {
            hz: 600.0,
            amplitude: 8000.0,
            frames: 250,
            keys: None,
        },
    )
    .await;
    let peer = RtpPeer::bind().await;
    let sipp = tokio::spawn(run_sipp_full(SippRun {
        keys: vec![("rtp_port", peer.port.to_string())],
        ..SippRun::new("uac_opus_reinvite.xml", Some(bridge.udp))
    }));
    let info = bridge.next_answered(Duration::from_secs(10)).await;
    assert_eq!(info.codec, AudioCodec::Opus);
    // From the answer on (the socket holds what came before) until after the BYE.
    let listening = peer.listen(Duration::from_millis(4200));
    sipp.await
        .expect("sipp")
        .assert_passed("uac_opus_reinvite.xml");
    let heard = listening.await.expect("listener");

    let runs = runs(&heard);
    let kinds: Vec<u8> = runs.iter().map(|(pt, _)| *pt).collect();
    assert_eq!(kinds, [111, 0, 111], "Opus, PCMU, Opus again");
    for (pt, run) in &runs {
        assert!(run.len() >= 40, "pt {pt}: only {} packets", run.len());
        let step = if *pt == 0 { 160 } else { OPUS_STEP };
        for pair in run.windows(2) {
            assert_eq!(
                pair[1].timestamp,
                pair[0].timestamp.wrapping_add(step),
                "pt {pt}"
            );
        }
        let middle = &run[5..run.len() - 5];
        if *pt == 0 {
            for h in middle {
                let mut samples = vec![0i16; h.payload.len()];
                G711Law::MuLaw.decode_slice(&h.payload, &mut samples);
                let share = tone_share(&samples, 600.0);
                assert!(
                    share > 0.9 && h.rms > 4000.0,
                    "PCMU: share {share:.2}, rms {}",
                    h.rms
                );
            }
        } else {
            let mut ear = PhoneEar::new();
            for h in run {
                let pcm = ear.decode(&h.payload);
                if middle.iter().any(|m| m.sequence == h.sequence) {
                    let share = tone_share_at(&pcm, 600.0, 48_000);
                    assert!(share > 0.9 && rms(&pcm) > 4500.0, "Opus: share {share:.2}");
                }
            }
        }
    }
    // Sequence numbers run on across the switches; each switch starts a talkspurt.
    for pair in heard.windows(2) {
        assert_eq!(pair[1].sequence, pair[0].sequence.wrapping_add(1));
    }
    assert!(runs.iter().all(|(_, run)| run[0].marker));
}
