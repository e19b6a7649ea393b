//! The Opus side of a phone, for tests: encodes tones at 48 kHz (mono or stereo, in-band FEC
//! on) the way a softphone does, wraps them in RTP, and decodes what the bridge sends at
//! 48 kHz. Uses libopus through the `opus` crate directly, not the bridge's own edge code.

use opus::{Application, Channels, Decoder, Encoder};
use sip_bridge::rtp_packet::RtpPacket;

/// RTP timestamp units per 20 ms at Opus's 48 kHz clock.
pub const OPUS_STEP: u32 = 960;

/// Sample `n` (at 48 kHz) of a voiced vowel: harmonics of a gliding 140 Hz pitch shaped by
/// three formants, syllable-rate loudness. Opus's voice detector takes it for speech (a pure
/// tone it does not, and sends no FEC for).
pub fn vowel_sample(n: usize) -> i16 {
    let t = n as f64 / 48_000.0;
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
}

/// `tone` × 20 ms of a sine at `hz` with peak `amplitude`, then `voiced` × 20 ms of a vowel,
/// encoded like a phone: one 48 kHz encoder, 32 kbit/s, in-band FEC for 10 % loss.
pub fn tone_then_vowel_packets(
    hz: f64,
    amplitude: f64,
    tone: usize,
    voiced: usize,
    stereo: bool,
) -> Vec<Vec<u8>> {
    let channels = if stereo {
        Channels::Stereo
    } else {
        Channels::Mono
    };
    let mut encoder = Encoder::new(48_000, channels, Application::Voip).expect("Opus encoder");
    encoder
        .set_bitrate(opus::Bitrate::Bits(32_000))
        .expect("bitrate");
    encoder.set_inband_fec(true).expect("fec");
    encoder.set_packet_loss_perc(10).expect("loss");
    let mut out = vec![0u8; 1500];
    (0..tone + voiced)
        .map(|n| {
            let mono: Vec<i16> = (n * 960..(n + 1) * 960)
                .map(|i| {
                    if n < tone {
                        let t = i as f64 / 48_000.0;
                        (amplitude * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16
                    } else {
                        vowel_sample(i)
                    }
                })
                .collect();
            let input: Vec<i16> = if stereo {
                mono.iter().flat_map(|&s| [s, s]).collect()
            } else {
                mono
            };
            let len = encoder.encode(&input, &mut out).expect("encode");
            out[..len].to_vec()
        })
        .collect()
}

/// What a plain libopus decoder at 16 kHz mono makes of `payloads`, 320 samples a packet,
/// with libopus's own concealment for the packets in `lost`.
pub fn reference_16k(payloads: &[Vec<u8>], lost: &[usize]) -> Vec<Vec<i16>> {
    let mut decoder = Decoder::new(16_000, Channels::Mono).expect("Opus decoder");
    payloads
        .iter()
        .enumerate()
        .map(|(n, payload)| {
            let mut pcm = vec![0i16; 1920];
            let input: &[u8] = if lost.contains(&n) { &[] } else { payload };
            let len = decoder
                .decode(
                    input,
                    &mut pcm[..if input.is_empty() { 320 } else { 1920 }],
                    false,
                )
                .expect("reference decode");
            pcm.truncate(len);
            pcm
        })
        .collect()
}

/// RTP datagrams carrying `payloads` (payload type `pt`), 20 ms apart on the 48 kHz clock.
pub fn rtp_datagrams(payloads: &[Vec<u8>], pt: u8, first_sequence: u16) -> Vec<Vec<u8>> {
    payloads
        .iter()
        .enumerate()
        .map(|(n, payload)| {
            let mut datagram = Vec::new();
            RtpPacket {
                marker: n == 0,
                payload_type: pt,
                sequence: first_sequence.wrapping_add(n as u16),
                timestamp: 7_000 + n as u32 * OPUS_STEP,
                ssrc: 0x0abc_def0,
                payload,
            }
            .write_to(&mut datagram);
            datagram
        })
        .collect()
}

/// A phone's Opus decoder at 48 kHz mono.
pub struct PhoneEar {
    decoder: Decoder,
}

impl Default for PhoneEar {
    fn default() -> PhoneEar {
        PhoneEar::new()
    }
}

impl PhoneEar {
    pub fn new() -> PhoneEar {
        PhoneEar {
            decoder: Decoder::new(48_000, Channels::Mono).expect("Opus decoder"),
        }
    }

    /// Decodes one payload the bridge sent; panics on a packet libopus cannot read.
    pub fn decode(&mut self, payload: &[u8]) -> Vec<i16> {
        let mut pcm = vec![0i16; 5760];
        let n = self
            .decoder
            .decode(payload, &mut pcm, false)
            .expect("the bridge sent a valid Opus packet");
        pcm.truncate(n);
        pcm
    }
}

pub fn rms(samples: &[i16]) -> f64 {
    let energy: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (energy / samples.len().max(1) as f64).sqrt()
}
