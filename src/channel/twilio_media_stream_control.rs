//! The outbound half of a media-stream leg: bot frames become `media` messages, a flush becomes
//! `clear`, the end of a bot sentence a `mark`, hanging up closes the socket. Messages go to the socket's writer through a bounded
//! queue and are never awaited on the driver's clock: a stalled socket loses frames, not time.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use hotline_audio::Frame;
use tokio::sync::mpsc;

use super::media_leg::{LegControl, LegFuture, TransferOutcome, TransferTarget};
use super::twilio_media_stream_audio::OutboundAudio;
use super::twilio_media_stream_messages::{OutboundMark, OutboundMedia, OutboundMessage};

/// What the socket writer is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketOutput {
    /// Send this text message.
    Text(String),
    /// Close the WebSocket (the bot hung up).
    Close,
    /// Close the WebSocket with a policy-violation frame saying why the stream was refused
    /// (sent by the web layer before any call started, e.g. a wrong token).
    Refuse(String),
}

/// Why a transfer cannot happen on this channel.
pub const TRANSFER_UNSUPPORTED: &str = "transfer is not supported on media streams: hand the call over in the telephony provider (e.g. a TwiML <Dial> after the stream), or call in over SIP";

/// [`LegControl`] of one media stream.
pub struct MediaStreamControl {
    stream_sid: String,
    outbound: mpsc::Sender<SocketOutput>,
    audio: Mutex<OutboundAudio>,
    dropped_frames: AtomicU64,
}

impl MediaStreamControl {
    pub fn new(
        stream_sid: String,
        outbound: mpsc::Sender<SocketOutput>,
        audio: OutboundAudio,
    ) -> Self {
        Self {
            stream_sid,
            outbound,
            audio: Mutex::new(audio),
            dropped_frames: AtomicU64::new(0),
        }
    }

    fn queue(&self, text: String) {
        match self.outbound.try_send(SocketOutput::Text(text)) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                let dropped = self.dropped_frames.fetch_add(1, Ordering::Relaxed) + 1;
                if dropped.is_power_of_two() {
                    tracing::warn!(stream = %self.stream_sid, dropped, "media stream socket is not keeping up; outbound messages dropped");
                }
            }
        }
    }
}

impl LegControl for MediaStreamControl {
    fn send_frame(&self, frame: Frame) {
        let payload = match self.audio.lock() {
            Ok(mut audio) => audio.encode(&frame),
            Err(poisoned) => poisoned.into_inner().encode(&frame),
        };
        match payload {
            Ok(payload) => self.queue(
                OutboundMessage::Media {
                    stream_sid: &self.stream_sid,
                    media: OutboundMedia { payload },
                }
                .to_json(),
            ),
            Err(error) => {
                tracing::error!(stream = %self.stream_sid, %error, "cannot encode a bot frame")
            }
        }
    }

    fn flush(&self) {
        self.queue(
            OutboundMessage::Clear {
                stream_sid: &self.stream_sid,
            }
            .to_json(),
        );
    }

    fn mark(&self, name: &str) {
        self.queue(
            OutboundMessage::Mark {
                stream_sid: &self.stream_sid,
                mark: OutboundMark { name },
            }
            .to_json(),
        );
    }

    fn transfer<'a>(
        &'a self,
        _target: &'a TransferTarget,
        _summary: &'a str,
    ) -> LegFuture<'a, TransferOutcome> {
        Box::pin(async { TransferOutcome::Failed(TRANSFER_UNSUPPORTED.to_string()) })
    }

    fn hang_up(&self) -> LegFuture<'_, ()> {
        Box::pin(async {
            let _ = self.outbound.send(SocketOutput::Close).await;
        })
    }
}
