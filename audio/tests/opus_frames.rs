//! Opus at the engine's edge: tones keep their pitch and level through encode → decode,
//! packets a phone makes (48 kHz, stereo, 10 or 60 ms) become 16 kHz mono frames, a lost packet
//! is rebuilt (FEC) or concealed, a malformed one is refused without harming the stream, and
//! the per-frame path allocates nothing. `opus_frame_cost` (ignored) measures CPU per frame.

use hotline_audio::allocation_count::{CountingAllocator, allocations_during};
use hotline_audio::opus::{
    MAX_PACKET_BYTES, OpusEncoderSettings, OpusError, OpusFrameDecoder, OpusFrameEncoder,
};
use hotline_audio::{FRAME_SAMPLES, Frame};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// `len` samples of a sine at `hz`, sampled at `rate`, starting at sample `from`.
fn tone(rate: u32, hz: f64, amplitude: f64, from: usize, len: usize) -> Vec<i16> {
    (from..from + len)
        .map(|n| {
            let t = n as f64 / f64::from(rate);
            (amplitude * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16
        })
        .collect()
}

/// `len` samples at `rate` of a voiced vowel: harmonics of a gliding 140 Hz pitch shaped by
/// three formants, syllable-rate loudness. Opus's voice detector takes it for speech (a pure
/// tone it does not, and spends no FEC on).
fn vowel(rate: u32, from: usize, len: usize) -> Vec<i16> {
    (from..from + len)
        .map(|n| {
            let t = n as f64 / f64::from(rate);
            let f0 = 140.0 + 20.0 * (2.0 * std::f64::consts::PI * 3.0 * t).sin();
            let mut x = 0.0;
            for h in 1..50 {
                let f = f0 * f64::from(h);
                if f > 7000.0 {
                    break;
                }
                let formants = (-((f - 700.0) / 300.0).powi(2)).exp()
                    + 0.6 * (-((f - 1200.0) / 400.0).powi(2)).exp()
                    + 0.3 * (-((f - 2500.0) / 500.0).powi(2)).exp();
                x += formants * (2.0 * std::f64::consts::PI * f * t + f64::from(h)).sin();
            }
            let loudness = 0.6 + 0.4 * (2.0 * std::f64::consts::PI * 4.0 * t).sin();
            (4000.0 * loudness * x) as i16
        })
        .collect()
}

fn rms_error(a: &Frame, b: &Frame) -> f64 {
    let sum: f64 = a
        .as_slice()
        .iter()
        .zip(b.as_slice())
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    (sum / FRAME_SAMPLES as f64).sqrt()
}

fn tone_frame(hz: f64, amplitude: f64, index: usize) -> Frame {
    Frame::from_slice(&tone(
        16_000,
        hz,
        amplitude,
        index * FRAME_SAMPLES,
        FRAME_SAMPLES,
    ))
    .unwrap()
}

/// Share of the power of 16 kHz `samples` at `hz` (Goertzel), 0-1.
fn tone_share(samples: &[i16], hz: f64) -> f64 {
    hotline_audio::tone::tone_share(samples, hz, 16_000)
}

fn encode_all(encoder: &mut OpusFrameEncoder, frames: &[Frame]) -> Vec<Vec<u8>> {
    let mut packet = [0u8; MAX_PACKET_BYTES];
    frames
        .iter()
        .map(|frame| {
            let len = encoder.encode(frame, &mut packet).unwrap();
            packet[..len].to_vec()
        })
        .collect()
}

#[test]
fn a_tone_keeps_its_pitch_and_level_through_encode_and_decode() {
    let mut encoder = OpusFrameEncoder::new(OpusEncoderSettings::default()).unwrap();
    let mut decoder = OpusFrameDecoder::new().unwrap();
    let frames: Vec<Frame> = (0..50).map(|i| tone_frame(600.0, 8000.0, i)).collect();
    let packets = encode_all(&mut encoder, &frames);
    // 24 kbit/s is 60 bytes per 20 ms on average; VBR varies around it.
    let bytes: usize = packets.iter().map(Vec::len).sum();
    assert!((1500..=4500).contains(&bytes), "{bytes} bytes for 1 s");
    let mut out = Vec::new();
    for packet in &packets {
        assert_eq!(decoder.decode(packet, |f| out.push(f)).unwrap(), 1);
    }
    assert_eq!(out.len(), 50);
    // After the codec's start-up (look-ahead), every frame is the tone at about its level.
    for frame in &out[5..] {
        let share = tone_share(frame.as_slice(), 600.0);
        assert!(share > 0.9, "600 Hz share {share}");
        let rms = f64::from(frame.rms());
        assert!((4500.0..7000.0).contains(&rms), "rms {rms} (sent 5657)");
    }
}

#[test]
fn a_phones_48k_stereo_packets_decode_to_16k_mono_frames() {
    // What a softphone sends for opus/48000/2: 48 kHz, here stereo, 20 ms per packet.
    let mut phone =
        opus::Encoder::new(48_000, opus::Channels::Stereo, opus::Application::Voip).unwrap();
    let mut decoder = OpusFrameDecoder::new().unwrap();
    let mut out = Vec::new();
    let mut packet = [0u8; MAX_PACKET_BYTES];
    for n in 0..25 {
        let mono = tone(48_000, 1000.0, 9000.0, n * 960, 960);
        let stereo: Vec<i16> = mono.iter().flat_map(|&s| [s, s]).collect();
        let len = phone.encode(&stereo, &mut packet).unwrap();
        decoder.decode(&packet[..len], |f| out.push(f)).unwrap();
    }
    assert_eq!(out.len(), 25, "one 16 kHz frame per 20 ms packet");
    let tail: Vec<i16> = out[5..].iter().flat_map(|f| f.samples().to_vec()).collect();
    assert!(tone_share(&tail, 1000.0) > 0.9);
    let rms = f64::from(hotline_audio::level::rms(&tail));
    assert!((5000.0..8000.0).contains(&rms), "rms {rms} (sent 6364)");
}

#[test]
fn short_and_long_packets_are_cut_into_20_ms_frames() {
    let mut decoder = OpusFrameDecoder::new().unwrap();
    let mut out = 0;
    // 10 ms packets: two make one frame.
    let mut ten =
        opus::Encoder::new(16_000, opus::Channels::Mono, opus::Application::Voip).unwrap();
    let mut packet = [0u8; MAX_PACKET_BYTES];
    for n in 0..6 {
        let len = ten
            .encode(&tone(16_000, 500.0, 6000.0, n * 160, 160), &mut packet)
            .unwrap();
        out += decoder.decode(&packet[..len], |_| {}).unwrap();
    }
    assert_eq!(out, 3);
    // A 60 ms packet: three frames at once.
    let len = ten
        .encode(&tone(16_000, 500.0, 6000.0, 960, 960), &mut packet)
        .unwrap();
    assert_eq!(decoder.decode(&packet[..len], |_| {}).unwrap(), 3);
}

#[test]
fn a_lost_packet_is_rebuilt_from_the_next_ones_fec_better_than_concealed() {
    // A phone's 48 kHz packets with FEC, of a voiced sound; packet 20 is lost.
    let mut phone =
        opus::Encoder::new(48_000, opus::Channels::Mono, opus::Application::Voip).unwrap();
    phone.set_bitrate(opus::Bitrate::Bits(32_000)).unwrap();
    phone.set_inband_fec(true).unwrap();
    phone.set_packet_loss_perc(10).unwrap();
    let mut packet = [0u8; MAX_PACKET_BYTES];
    let packets: Vec<Vec<u8>> = (0..40)
        .map(|n| {
            let len = phone
                .encode(&vowel(48_000, n * 960, 960), &mut packet)
                .unwrap();
            packet[..len].to_vec()
        })
        .collect();
    let decode = |lost: Option<bool>| {
        let mut decoder = OpusFrameDecoder::new().unwrap();
        let mut out = Vec::new();
        for (i, packet) in packets.iter().enumerate() {
            match lost {
                Some(use_fec) if i == 20 => {
                    let next = use_fec.then_some(packets[21].as_slice());
                    assert_eq!(decoder.conceal(next, |f| out.push(f)).unwrap(), 1);
                }
                _ => {
                    decoder.decode(packet, |f| out.push(f)).unwrap();
                }
            }
        }
        assert_eq!(out.len(), 40, "the lost packet still gives its frame");
        out
    };
    let clean = decode(None);
    let fec = decode(Some(true));
    let plc = decode(Some(false));
    let level = f64::from(clean[20].rms());
    let (fec_error, plc_error) = (
        rms_error(&fec[20], &clean[20]),
        rms_error(&plc[20], &clean[20]),
    );
    assert!(
        fec_error < 0.6 * plc_error && fec_error < 0.6 * level,
        "rebuilt frame off by rms {fec_error:.0}, concealed by {plc_error:.0} (signal {level:.0})"
    );
    assert!(
        f64::from(plc[20].rms()) > 0.2 * level,
        "concealment is not silence"
    );
    for (i, (f, c)) in fec.iter().zip(&clean).enumerate().skip(24) {
        let error = rms_error(f, c);
        assert!(
            error < 0.15 * level,
            "frame {i} after the loss off by rms {error:.0}"
        );
    }
}

#[test]
fn malformed_and_empty_packets_are_refused_and_the_stream_goes_on() {
    let mut encoder = OpusFrameEncoder::new(OpusEncoderSettings::default()).unwrap();
    let frames: Vec<Frame> = (0..20).map(|i| tone_frame(600.0, 8000.0, i)).collect();
    let packets = encode_all(&mut encoder, &frames);
    let mut decoder = OpusFrameDecoder::new().unwrap();
    let mut out = Vec::new();
    for packet in &packets[..10] {
        decoder.decode(packet, |f| out.push(f)).unwrap();
    }
    // Code 3 (several frames) announcing zero frames; code 2 with a length past the end.
    for junk in [&[0x03u8, 0x00][..], &[0x02, 0xff, 0x01], &[0x03, 0xff]] {
        match decoder.decode(junk, |f| out.push(f)) {
            Err(OpusError::BadPacket { len, .. }) => assert_eq!(len, junk.len()),
            other => panic!("{junk:?} decoded as {other:?}"),
        }
    }
    assert!(matches!(
        decoder.decode(&[], |_| {}),
        Err(OpusError::EmptyPacket)
    ));
    assert_eq!(out.len(), 10, "refused packets add no frames");
    for packet in &packets[10..] {
        decoder.decode(packet, |f| out.push(f)).unwrap();
    }
    assert_eq!(out.len(), 20);
    assert!(tone_share(out[15].as_slice(), 600.0) > 0.9);
    let message = OpusError::EmptyPacket.to_string();
    assert!(message.contains("conceal"), "{message}");
}

#[test]
fn settled_silence_repeats_its_packet_and_the_next_sound_decodes_cleanly() {
    let mut encoder = OpusFrameEncoder::new(OpusEncoderSettings::default()).unwrap();
    let mut decoder = OpusFrameDecoder::new().unwrap();
    let mut packet = [0u8; MAX_PACKET_BYTES];
    let mut silent_packets = Vec::new();
    let mut out = Vec::new();
    for i in 0..80 {
        let frame = if (20..50).contains(&i) {
            Frame::silence()
        } else {
            tone_frame(600.0, 8000.0, i)
        };
        let len = encoder.encode(&frame, &mut packet).unwrap();
        if (20..50).contains(&i) {
            silent_packets.push(packet[..len].to_vec());
        }
        decoder.decode(&packet[..len], |f| out.push(f)).unwrap();
    }
    assert!(silent_packets[4..].iter().all(|p| *p == silent_packets[3]));
    assert!(
        silent_packets[3].len() < 16,
        "{} bytes",
        silent_packets[3].len()
    );
    for frame in &out[25..50] {
        assert!(
            frame.rms() < 10.0,
            "rest decodes as silence (rms {})",
            frame.rms()
        );
    }
    for (i, frame) in out.iter().enumerate().skip(52) {
        let share = tone_share(frame.as_slice(), 600.0);
        let rms = f64::from(frame.rms());
        assert!(
            share > 0.9 && (4500.0..7000.0).contains(&rms),
            "frame {i}: share {share}, rms {rms}"
        );
    }
}

#[test]
fn reset_and_bad_settings() {
    let mut encoder = OpusFrameEncoder::new(OpusEncoderSettings::default()).unwrap();
    let mut packet = [0u8; MAX_PACKET_BYTES];
    encoder
        .encode(&tone_frame(600.0, 8000.0, 0), &mut packet)
        .unwrap();
    encoder.reset().unwrap();
    encoder.set_expected_loss(7).unwrap();
    assert_eq!(encoder.settings().expected_loss_percent, 7);
    assert_eq!(
        encoder.settings().bitrate,
        24_000,
        "reset keeps the settings"
    );
    let too_fast = OpusEncoderSettings {
        complexity: 11,
        ..OpusEncoderSettings::default()
    };
    match OpusFrameEncoder::new(too_fast) {
        Err(
            error @ OpusError::Configure {
                setting: "complexity",
                ..
            },
        ) => {
            assert!(error.to_string().contains("0-10"), "{error}");
        }
        Err(other) => panic!("unexpected {other}"),
        Ok(_) => panic!("complexity 11 accepted"),
    }
}

#[test]
fn encoding_and_decoding_frames_allocates_nothing() {
    let mut encoder = OpusFrameEncoder::new(OpusEncoderSettings::default()).unwrap();
    let mut decoder = OpusFrameDecoder::new().unwrap();
    let frames: Vec<Frame> = (0..10).map(|i| tone_frame(600.0, 8000.0, i)).collect();
    let mut packet = [0u8; MAX_PACKET_BYTES];
    let mut level = 0.0f32;
    let allocations = allocations_during(|| {
        for frame in &frames {
            let len = encoder.encode(frame, &mut packet).unwrap();
            decoder
                .decode(&packet[..len], |f| level += f.rms())
                .unwrap();
        }
        decoder.conceal(None, |f| level += f.rms()).unwrap();
        encoder.encode(&Frame::silence(), &mut packet).unwrap();
    });
    assert_eq!(allocations, 0);
    assert!(level > 0.0);
}

/// CPU per 20 ms frame, the figure that says how many Opus calls one pacing thread carries:
/// `cargo test --release -p hotline-audio --test opus_frames -- --ignored --nocapture`
#[test]
#[ignore = "measurement; run with --ignored --release --nocapture"]
fn opus_frame_cost() {
    let speechlike: Vec<Frame> = (0..500)
        .map(|i| {
            // A 150 Hz pulse train with a 600 Hz formant-ish tone, rising and falling.
            let envelope = 0.5 + 0.5 * (i as f64 / 25.0).sin();
            let mut a = tone(
                16_000,
                600.0,
                6000.0 * envelope,
                i * FRAME_SAMPLES,
                FRAME_SAMPLES,
            );
            let b = tone(16_000, 150.0, 3000.0, i * FRAME_SAMPLES, FRAME_SAMPLES);
            for (x, y) in a.iter_mut().zip(b) {
                *x = x.saturating_add(y);
            }
            Frame::from_slice(&a).unwrap()
        })
        .collect();
    let mut packet = [0u8; MAX_PACKET_BYTES];
    for complexity in [0u8, 1, 2, 3, 5, 10] {
        let mut encoder = OpusFrameEncoder::new(OpusEncoderSettings {
            complexity,
            ..OpusEncoderSettings::default()
        })
        .unwrap();
        let mut decoder = OpusFrameDecoder::new().unwrap();
        let mut packets = Vec::new();
        let start = std::time::Instant::now();
        for frame in &speechlike {
            let len = encoder.encode(frame, &mut packet).unwrap();
            packets.push(packet[..len].to_vec());
        }
        let encode = start.elapsed() / speechlike.len() as u32;
        // Silence through the encoder proper: each silent frame follows a sound, so the
        // encoder never settles.
        let mut silence = std::time::Duration::ZERO;
        for frame in &speechlike[..100] {
            encoder.encode(frame, &mut packet).unwrap();
            let start = std::time::Instant::now();
            encoder.encode(&Frame::silence(), &mut packet).unwrap();
            silence += start.elapsed();
        }
        let silence = silence / 100;
        let start = std::time::Instant::now();
        for _ in 0..speechlike.len() {
            encoder.encode(&Frame::silence(), &mut packet).unwrap();
        }
        let settled = start.elapsed() / speechlike.len() as u32;
        let start = std::time::Instant::now();
        let mut frames = 0;
        for p in &packets {
            frames += decoder.decode(p, |_| {}).unwrap();
        }
        let decode = start.elapsed() / frames as u32;
        let start = std::time::Instant::now();
        for _ in 0..100 {
            decoder.conceal(None, |_| {}).unwrap();
        }
        let conceal = start.elapsed() / 100;
        println!(
            "complexity {complexity:>2}: encode {encode:?}/frame, silence {silence:?}/frame \
             (settled: {settled:?}), decode {decode:?}/frame, conceal {conceal:?}/frame"
        );
    }
}
