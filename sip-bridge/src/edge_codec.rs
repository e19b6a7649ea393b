//! The one place where the line's codec meets the engine's 16 kHz [`Frame`]s: G.711 at 8 kHz
//! (resampled, see [`crate::g711_edge`]) or Opus (coded at 16 kHz by libopus itself, no
//! resampler). The media task holds one decoder and one encoder per leg and swaps them when a
//! re-INVITE changes the codec.
//!
//! Inbound, a lost packet is concealed: G.711 repeats the last frame once at half level; Opus
//! rebuilds it from the next packet's in-band FEC when that one is already here, else uses
//! libopus's concealment. A malformed Opus packet is treated as lost. Outbound, one frame (or
//! silence) becomes one payload of the codec's size: 160 bytes of G.711, or an Opus packet of
//! whatever length the encoder chose.

use hotline_audio::Frame;
use hotline_audio::g711::G711Law;
use hotline_audio::opus::{OpusEncoderSettings, OpusFrameDecoder, OpusFrameEncoder};

use crate::error::EdgeCodecError;
use crate::g711_edge::{G711Inbound, G711Outbound, NARROWBAND_FRAME_SAMPLES};
use crate::opus_fmtp::OpusFmtp;
use crate::sdp::AudioCodec;

/// Room for any payload we send (an Opus packet at the most; G.711 uses 160 bytes of it).
pub const MAX_PAYLOAD_BYTES: usize = hotline_audio::opus::MAX_PACKET_BYTES;

const _: () = assert!(MAX_PAYLOAD_BYTES >= NARROWBAND_FRAME_SAMPLES);

/// Our Opus bitrate: wideband speech with room to spare (RFC 7587 §3.1.1 puts wideband
/// speech at 16-28 kbit/s).
pub const OPUS_BITRATE: u32 = 24_000;

/// The loss we plan FEC for when the peer asks for FEC but has not reported any loss yet.
const INITIAL_FEC_LOSS_PERCENT: u8 = 3;

fn law(codec: AudioCodec) -> Option<G711Law> {
    match codec {
        AudioCodec::Pcmu => Some(G711Law::MuLaw),
        AudioCodec::Pcma => Some(G711Law::ALaw),
        AudioCodec::Opus => None,
    }
}

/// How we encode Opus for a peer that wrote `peer` on its fmtp line.
pub fn opus_settings(peer: &OpusFmtp) -> OpusEncoderSettings {
    OpusEncoderSettings {
        bitrate: peer
            .max_average_bitrate
            .map_or(OPUS_BITRATE, |max| max.min(OPUS_BITRATE)),
        constant_bitrate: peer.cbr,
        inband_fec: peer.use_inband_fec,
        expected_loss_percent: if peer.use_inband_fec {
            INITIAL_FEC_LOSS_PERCENT
        } else {
            0
        },
        ..OpusEncoderSettings::default()
    }
}

/// Payloads of the negotiated codec → engine frames.
// One per leg, built at call start or codec change and never moved per packet: boxing the
// larger variant would only add an indirection to every decode.
#[allow(clippy::large_enum_variant)]
pub enum InboundDecoder {
    G711(G711Inbound),
    Opus(OpusFrameDecoder),
}

impl InboundDecoder {
    pub fn new(codec: AudioCodec) -> Result<InboundDecoder, EdgeCodecError> {
        Ok(match law(codec) {
            Some(law) => InboundDecoder::G711(G711Inbound::new(law)?),
            None => InboundDecoder::Opus(OpusFrameDecoder::new()?),
        })
    }

    /// Decodes one packet's payload, calling `on_frame` for each complete 20 ms frame. On an
    /// error nothing was delivered: conceal the packet instead.
    pub fn decode(
        &mut self,
        payload: &[u8],
        on_frame: impl FnMut(Frame),
    ) -> Result<(), EdgeCodecError> {
        match self {
            InboundDecoder::G711(g711) => g711.decode(payload, on_frame)?,
            InboundDecoder::Opus(opus) => {
                opus.decode(payload, on_frame)?;
            }
        }
        Ok(())
    }

    /// Stands in for one lost packet. `next_payload` is the packet right after the loss when
    /// it is already here (Opus rebuilds the lost one from its FEC data).
    pub fn conceal(&mut self, next_payload: Option<&[u8]>, mut on_frame: impl FnMut(Frame)) {
        match self {
            InboundDecoder::G711(g711) => on_frame(g711.conceal()),
            InboundDecoder::Opus(opus) => {
                if opus.conceal(next_payload, &mut on_frame).is_err() {
                    // libopus's concealment does not fail on a valid decoder; if it ever did,
                    // silence keeps the engine's 20 ms clock whole.
                    on_frame(Frame::silence());
                }
            }
        }
    }
}

/// Engine frames → payloads of the negotiated codec.
// One per leg, like the decoder: no boxing in the per-packet path.
#[allow(clippy::large_enum_variant)]
pub enum OutboundEncoder {
    G711(G711Outbound),
    Opus(OpusFrameEncoder),
}

impl OutboundEncoder {
    /// An encoder for `codec`; `peer` are the peer's Opus wishes (ignored for G.711).
    pub fn new(codec: AudioCodec, peer: &OpusFmtp) -> Result<OutboundEncoder, EdgeCodecError> {
        Ok(match law(codec) {
            Some(law) => OutboundEncoder::G711(G711Outbound::new(law)?),
            None => OutboundEncoder::Opus(OpusFrameEncoder::new(opus_settings(peer))?),
        })
    }

    /// Encodes `frame`, or silence when there is none, into `payload`; returns the length.
    pub fn encode(
        &mut self,
        frame: Option<&Frame>,
        payload: &mut [u8; MAX_PAYLOAD_BYTES],
    ) -> Result<usize, EdgeCodecError> {
        match self {
            OutboundEncoder::G711(g711) => {
                let narrow: &mut [u8; NARROWBAND_FRAME_SAMPLES] = payload
                    .first_chunk_mut()
                    .expect("MAX_PAYLOAD_BYTES >= 160, asserted at compile time");
                match frame {
                    Some(frame) => {
                        if let Err(error) = g711.encode(frame, narrow) {
                            g711.silence_payload(narrow);
                            return Err(error.into());
                        }
                    }
                    None => g711.silence_payload(narrow),
                }
                Ok(NARROWBAND_FRAME_SAMPLES)
            }
            OutboundEncoder::Opus(opus) => {
                const SILENCE: Frame = Frame::silence();
                Ok(opus.encode(frame.unwrap_or(&SILENCE), payload)?)
            }
        }
    }

    /// Forget signal history (after a flush the next audio is unrelated to what was queued).
    pub fn reset(&mut self) {
        match self {
            OutboundEncoder::G711(g711) => g711.reset(),
            OutboundEncoder::Opus(opus) => {
                // Resetting a valid encoder cannot fail; the old state would only blend a few
                // milliseconds into the next sentence.
                let _ = opus.reset();
            }
        }
    }

    /// The peer reported `fraction` (0-1) of our packets lost: Opus plans its FEC for that.
    pub fn on_peer_loss(&mut self, fraction: f64) {
        if let OutboundEncoder::Opus(opus) = self
            && opus.settings().inband_fec
        {
            let percent = (fraction * 100.0).round().clamp(0.0, 25.0) as u8;
            let _ = opus.set_expected_loss(percent);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone_frame(hz: f64, amplitude: f64, index: usize) -> Frame {
        let n0 = index * hotline_audio::FRAME_SAMPLES;
        let samples: Vec<i16> = (n0..n0 + hotline_audio::FRAME_SAMPLES)
            .map(|n| {
                let t = n as f64 / 16_000.0;
                (amplitude * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16
            })
            .collect();
        Frame::from_slice(&samples).unwrap()
    }

    #[test]
    fn both_codecs_carry_a_tone_through_the_edge() {
        for codec in [AudioCodec::Pcmu, AudioCodec::Pcma, AudioCodec::Opus] {
            let mut encoder = OutboundEncoder::new(codec, &OpusFmtp::default()).unwrap();
            let mut decoder = InboundDecoder::new(codec).unwrap();
            let mut payload = [0u8; MAX_PAYLOAD_BYTES];
            let mut out = Vec::new();
            let mut sizes = Vec::new();
            for i in 0..30 {
                let len = encoder
                    .encode(Some(&tone_frame(500.0, 6000.0, i)), &mut payload)
                    .unwrap();
                sizes.push(len);
                decoder.decode(&payload[..len], |f| out.push(f)).unwrap();
            }
            assert_eq!(out.len(), 30, "{codec:?}");
            let rms = out[29].rms();
            assert!((3000.0..5500.0).contains(&rms), "{codec:?} rms {rms}");
            if codec == AudioCodec::Opus {
                // Variable size around 60 bytes (24 kbit/s), never G.711's fixed 160.
                assert!(sizes.iter().all(|&s| (10..=150).contains(&s)), "{sizes:?}");
            } else {
                assert!(sizes.iter().all(|&s| s == 160));
            }
        }
    }

    #[test]
    fn silence_is_small_for_opus_and_the_idle_code_for_g711() {
        let mut payload = [0u8; MAX_PAYLOAD_BYTES];
        let mut pcmu = OutboundEncoder::new(AudioCodec::Pcmu, &OpusFmtp::default()).unwrap();
        assert_eq!(pcmu.encode(None, &mut payload).unwrap(), 160);
        assert!(payload[..160].iter().all(|&b| b == 0xff));
        let mut opus = OutboundEncoder::new(AudioCodec::Opus, &OpusFmtp::default()).unwrap();
        let mut decoder = InboundDecoder::new(AudioCodec::Opus).unwrap();
        for _ in 0..5 {
            let len = opus.encode(None, &mut payload).unwrap();
            assert!((1..=20).contains(&len), "silence took {len} bytes");
            decoder
                .decode(&payload[..len], |f| assert!(f.rms() < 10.0))
                .unwrap();
        }
    }

    #[test]
    fn a_malformed_opus_payload_is_an_error_and_concealment_keeps_the_clock() {
        let mut decoder = InboundDecoder::new(AudioCodec::Opus).unwrap();
        let mut frames = 0;
        assert!(decoder.decode(&[0x03, 0x00], |_| frames += 1).is_err());
        assert_eq!(frames, 0);
        decoder.conceal(None, |_| frames += 1);
        assert_eq!(frames, 1);
        let mut g711 = InboundDecoder::new(AudioCodec::Pcma).unwrap();
        g711.conceal(Some(&[1, 2, 3]), |f| {
            assert_eq!(f, Frame::silence());
            frames += 1;
        });
        assert_eq!(frames, 2);
    }

    #[test]
    fn the_peers_opus_wishes_set_our_encoder() {
        let plain = opus_settings(&OpusFmtp::default());
        assert_eq!(plain.bitrate, OPUS_BITRATE);
        assert!(!plain.inband_fec && plain.expected_loss_percent == 0);
        let asked = opus_settings(&OpusFmtp {
            use_inband_fec: true,
            cbr: true,
            max_average_bitrate: Some(12_000),
            ..OpusFmtp::default()
        });
        assert_eq!(asked.bitrate, 12_000);
        assert!(asked.constant_bitrate && asked.inband_fec);
        assert_eq!(asked.expected_loss_percent, INITIAL_FEC_LOSS_PERCENT);
        let generous = opus_settings(&OpusFmtp {
            max_average_bitrate: Some(64_000),
            ..OpusFmtp::default()
        });
        assert_eq!(generous.bitrate, OPUS_BITRATE, "never above our own target");
        let mut encoder = OutboundEncoder::new(
            AudioCodec::Opus,
            &OpusFmtp {
                use_inband_fec: true,
                ..OpusFmtp::default()
            },
        )
        .unwrap();
        encoder.on_peer_loss(0.12);
        match &encoder {
            OutboundEncoder::Opus(opus) => assert_eq!(opus.settings().expected_loss_percent, 12),
            OutboundEncoder::G711(_) => panic!("Opus expected"),
        }
    }
}
