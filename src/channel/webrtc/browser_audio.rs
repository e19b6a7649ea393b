//! Audio of a browser call at the channel's edge: the browser's Opus RTP decoded straight to
//! the engine's 20 ms, 16 kHz frames (libopus decodes at 16 kHz, so nothing is resampled) and
//! handed to the conversation (or to the agent, once a transfer has bridged them), and the
//! bot's frames encoded back to Opus and written to the call's track as they come (the call
//! driver's 20 ms clock is the pacer; during a transfer, the hold audio's and the agent's).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hotline_audio::opus::{
    MAX_PACKET_BYTES, OpusEncoderSettings, OpusFrameDecoder, OpusFrameEncoder,
};
use hotline_audio::{FRAME_MS, Frame};
use rtc::media::Sample;
use tokio::sync::mpsc;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};

use super::visitor_line::{VisitorAudio, VisitorLine};
use crate::channel::LegEvent;

/// Longest gap (in packets) rebuilt by concealment; a longer one is a pause, not a loss.
const MAX_CONCEALED_PACKETS: u16 = 5;

/// Reads the browser's audio track until it ends, sending frames to the leg (or where `line`
/// says they go).
pub async fn receive_browser_audio(
    call_id: Arc<str>,
    track: Arc<dyn TrackRemote>,
    events: mpsc::Sender<LegEvent>,
    line: Arc<VisitorLine>,
) {
    let mut decoder = match OpusFrameDecoder::new() {
        Ok(decoder) => decoder,
        Err(error) => {
            tracing::error!(call = %call_id, %error, "cannot create the Opus decoder; the caller will not be heard");
            return;
        }
    };
    let mut last_sequence: Option<u16> = None;
    let mut dropped = 0u64;
    let mut send = |frame: Frame| {
        match line.visitor_audio() {
            VisitorAudio::ToConversation => {}
            VisitorAudio::ToAgent(agent) => {
                // To the agent, and to the driver for the call's recording (dropped, never
                // waited for, when the driver falls behind).
                let _ = events.try_send(LegEvent::BridgedCaller(frame.clone()));
                return agent.send(frame);
            }
            VisitorAudio::Dropped => return,
        }
        if events.try_send(LegEvent::Audio(frame)).is_err() {
            dropped += 1;
            if dropped.is_power_of_two() {
                tracing::warn!(call = %call_id, dropped, "the call is not keeping up with the browser's audio; frames dropped");
            }
        }
    };
    while let Some(event) = track.poll().await {
        let packet = match event {
            TrackRemoteEvent::OnRtpPacket(packet) => packet,
            TrackRemoteEvent::OnEnded => break,
            _ => continue,
        };
        // Chromium sends padding-only packets to probe bandwidth; libopus would take an empty
        // packet for a lost one and invent audio.
        if packet.payload.is_empty() {
            continue;
        }
        let sequence = packet.header.sequence_number;
        if let Some(last) = last_sequence {
            let ahead = sequence.wrapping_sub(last);
            if ahead == 0 || ahead > u16::MAX / 2 {
                continue; // a duplicate or a late packet: its time has been played
            }
            let lost = ahead - 1;
            if (1..=MAX_CONCEALED_PACKETS).contains(&lost) {
                for n in 0..lost {
                    // The packet right before this one can be rebuilt from its in-band FEC.
                    let next = (n + 1 == lost).then_some(&packet.payload[..]);
                    let _ = decoder.conceal(next, &mut send);
                }
            }
        }
        last_sequence = Some(sequence);
        if let Err(error) = decoder.decode(&packet.payload, &mut send) {
            tracing::debug!(call = %call_id, %error, "undecodable Opus packet from the browser; concealed");
            let _ = decoder.conceal(None, &mut send);
        }
    }
}

/// What the track writer is asked to send.
pub struct OutboundFrame {
    frame: Frame,
    generation: u64,
}

/// The sending half: frames queued by the driver, dropped at a flush.
pub struct BrowserAudioOut {
    queue: mpsc::Sender<OutboundFrame>,
    generation: Arc<AtomicU64>,
    dropped: AtomicU64,
    call_id: Arc<str>,
}

/// Frames that may wait for the writer (a stalled track loses frames, not time).
const OUTBOUND_QUEUE: usize = 50;

impl BrowserAudioOut {
    /// Starts the writer task for `track` (Opus payload type `payload_type`, SSRC `ssrc`).
    pub fn start(
        call_id: Arc<str>,
        track: Arc<TrackLocalStaticSample>,
        ssrc: u32,
        payload_type: u8,
    ) -> Self {
        let (queue, frames) = mpsc::channel(OUTBOUND_QUEUE);
        let generation = Arc::new(AtomicU64::new(0));
        tokio::spawn(write_track(
            Arc::clone(&call_id),
            track,
            ssrc,
            payload_type,
            frames,
            Arc::clone(&generation),
        ));
        Self {
            queue,
            generation,
            dropped: AtomicU64::new(0),
            call_id,
        }
    }

    /// Queues one bot frame.
    pub fn send(&self, frame: Frame) {
        let generation = self.generation.load(Ordering::Acquire);
        if let Err(mpsc::error::TrySendError::Full(_)) =
            self.queue.try_send(OutboundFrame { frame, generation })
        {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(call = %self.call_id, dropped, "browser audio track is not keeping up; bot frames dropped");
            }
        }
    }

    /// Drops every queued frame (barge-in).
    pub fn flush(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

async fn write_track(
    call_id: Arc<str>,
    track: Arc<TrackLocalStaticSample>,
    ssrc: u32,
    payload_type: u8,
    mut frames: mpsc::Receiver<OutboundFrame>,
    generation: Arc<AtomicU64>,
) {
    let settings = OpusEncoderSettings {
        bitrate: 32_000,
        inband_fec: true,
        expected_loss_percent: 5,
        ..OpusEncoderSettings::default()
    };
    let mut encoder = match OpusFrameEncoder::new(settings) {
        Ok(encoder) => encoder,
        Err(error) => {
            tracing::error!(call = %call_id, %error, "cannot create the Opus encoder; the caller will not hear the bot");
            return;
        }
    };
    let mut packet = [0u8; MAX_PACKET_BYTES];
    let duration = Duration::from_millis(u64::from(FRAME_MS));
    while let Some(out) = frames.recv().await {
        if out.generation != generation.load(Ordering::Acquire) {
            continue; // flushed by a barge-in
        }
        let len = match encoder.encode(&out.frame, &mut packet) {
            Ok(len) => len,
            Err(error) => {
                tracing::warn!(call = %call_id, %error, "cannot encode a bot frame");
                continue;
            }
        };
        let mut sample = Sample::new(Instant::now());
        sample.data = Bytes::copy_from_slice(&packet[..len]);
        sample.duration = duration;
        if let Err(error) = track
            .sample_writer(ssrc, payload_type)
            .write_sample(&sample)
            .await
        {
            tracing::debug!(call = %call_id, %error, "bot audio not written to the browser track");
        }
    }
}
