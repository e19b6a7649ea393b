//! Engine frames → Opus packets: one 20 ms, 16 kHz mono frame per packet, tuned for speech.
//!
//! A call's outbound stream is mostly silence (the bot listens), and encoding silence costs
//! nearly as much CPU as speech. Once the encoder has settled on digital silence (a few frames
//! in), its silent packets only differ in noise bits, so the last one is sent again instead of
//! running the encoder; the first sound after the rest is encoded from the state the decoder
//! also has (the settled silence).

use ::opus::{Application, Bitrate, Channels, Encoder, Signal};

use super::error::OpusError;
use crate::{Frame, SAMPLE_RATE};

/// How the encoder spends its bits. [`Default`] is wideband speech at 24 kbit/s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusEncoderSettings {
    /// Target bitrate in bit/s (6000-510000).
    pub bitrate: u32,
    /// Constant instead of variable bitrate (a peer's `cbr=1`).
    pub constant_bitrate: bool,
    /// Carry in-band forward error correction, so a receiver rebuilds a lost packet from the
    /// next one (a peer's `useinbandfec=1`). libopus spends bits on it only while
    /// `expected_loss_percent` is above 0.
    pub inband_fec: bool,
    /// Packet loss the encoder should plan for, 0-100 %.
    pub expected_loss_percent: u8,
    /// CPU against quality, 0-10. Every call's encoder runs on the one pacing thread, so this
    /// stays low: on the 2-core dev machine a 20 ms frame costs ≈ 37 µs at 1, 120 µs at 5 and
    /// 170 µs at 10 (`opus_frame_cost` in `tests/opus_frames.rs`).
    pub complexity: u8,
}

impl Default for OpusEncoderSettings {
    fn default() -> Self {
        OpusEncoderSettings {
            bitrate: 24_000,
            constant_bitrate: false,
            inband_fec: false,
            expected_loss_percent: 0,
            complexity: 1,
        }
    }
}

/// Silent frames encoded for real before the encoder counts as settled.
const SETTLE_FRAMES: u32 = 3;
/// Longest settled-silence packet kept for repeating (they are 3-10 bytes).
const REST_PACKET_BYTES: usize = 32;

/// Encodes 20 ms frames; keeps its state between frames like any speech codec.
pub struct OpusFrameEncoder {
    encoder: Encoder,
    settings: OpusEncoderSettings,
    /// Digital-silence frames in a row so far.
    silent_run: u32,
    /// The packet the settled encoder made for silence, repeated while the silence lasts.
    rest_packet: [u8; REST_PACKET_BYTES],
    rest_len: usize,
}

fn configure(
    setting: &'static str,
    value: i64,
    result: ::opus::Result<()>,
) -> Result<(), OpusError> {
    result.map_err(|source| OpusError::Configure {
        setting,
        value,
        source,
    })
}

impl OpusFrameEncoder {
    /// A mono VoIP encoder at 16 kHz with `settings`.
    pub fn new(settings: OpusEncoderSettings) -> Result<OpusFrameEncoder, OpusError> {
        let encoder =
            Encoder::new(SAMPLE_RATE, Channels::Mono, Application::Voip).map_err(|source| {
                OpusError::Create {
                    what: "encoder",
                    source,
                }
            })?;
        let mut this = OpusFrameEncoder {
            encoder,
            settings,
            silent_run: 0,
            rest_packet: [0; REST_PACKET_BYTES],
            rest_len: 0,
        };
        this.apply()?;
        Ok(this)
    }

    fn apply(&mut self) -> Result<(), OpusError> {
        let s = self.settings;
        let bitrate = i32::try_from(s.bitrate).unwrap_or(i32::MAX);
        configure(
            "bitrate",
            i64::from(s.bitrate),
            self.encoder.set_bitrate(Bitrate::Bits(bitrate)),
        )?;
        configure(
            "vbr",
            i64::from(!s.constant_bitrate),
            self.encoder.set_vbr(!s.constant_bitrate),
        )?;
        configure(
            "inband_fec",
            i64::from(s.inband_fec),
            self.encoder.set_inband_fec(s.inband_fec),
        )?;
        configure(
            "packet_loss_perc",
            i64::from(s.expected_loss_percent),
            self.encoder
                .set_packet_loss_perc(i32::from(s.expected_loss_percent)),
        )?;
        configure(
            "complexity",
            i64::from(s.complexity),
            self.encoder.set_complexity(i32::from(s.complexity)),
        )?;
        configure("signal", 0, self.encoder.set_signal(Signal::Voice))
    }

    /// The settings in force.
    pub fn settings(&self) -> OpusEncoderSettings {
        self.settings
    }

    /// Plans for a new loss rate (from the peer's RTCP reports); only matters with in-band FEC.
    pub fn set_expected_loss(&mut self, percent: u8) -> Result<(), OpusError> {
        let percent = percent.min(100);
        if percent == self.settings.expected_loss_percent {
            return Ok(());
        }
        configure(
            "packet_loss_perc",
            i64::from(percent),
            self.encoder.set_packet_loss_perc(i32::from(percent)),
        )?;
        self.settings.expected_loss_percent = percent;
        Ok(())
    }

    /// Encodes one frame into `packet` (at least [`super::MAX_PACKET_BYTES`] long is always
    /// enough); returns the packet's length. Digital silence goes through
    /// [`Self::encode_silence`].
    pub fn encode(&mut self, frame: &Frame, packet: &mut [u8]) -> Result<usize, OpusError> {
        if frame.samples().iter().all(|&s| s == 0) {
            return self.encode_silence(packet);
        }
        self.silent_run = 0;
        self.encoder
            .encode(frame.as_slice(), packet)
            .map_err(OpusError::Encode)
    }

    /// Encodes 20 ms of digital silence (what an idle line sends); once the encoder has
    /// settled, by repeating its last silent packet without running it.
    pub fn encode_silence(&mut self, packet: &mut [u8]) -> Result<usize, OpusError> {
        if self.silent_run >= SETTLE_FRAMES
            && self.rest_len > 0
            && let Some(out) = packet.get_mut(..self.rest_len)
        {
            out.copy_from_slice(&self.rest_packet[..self.rest_len]);
            return Ok(self.rest_len);
        }
        const SILENCE: Frame = Frame::silence();
        let len = self
            .encoder
            .encode(SILENCE.as_slice(), packet)
            .map_err(OpusError::Encode)?;
        self.silent_run = self.silent_run.saturating_add(1);
        self.rest_len = 0;
        if let (Some(made), Some(keep)) = (packet.get(..len), self.rest_packet.get_mut(..len)) {
            keep.copy_from_slice(made);
            self.rest_len = len;
        }
        Ok(len)
    }

    /// Forgets the signal history (the next frame is unrelated to the last: barge-in).
    pub fn reset(&mut self) -> Result<(), OpusError> {
        self.silent_run = 0;
        configure("reset_state", 0, self.encoder.reset_state())
    }
}
