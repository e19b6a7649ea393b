//! The Twilio Media Streams channel: a WebSocket carrying JSON messages with base64 μ-law
//! audio at 8 kHz (`connected`, `start`, `media`, `dtmf`, `mark`, `stop` in; `media`, `mark`,
//! `clear` out). Each stream becomes a [`MediaLeg`].
//!
//! [`TwilioMediaStream`] is the connection's state, independent of the WebSocket library: the
//! web layer hands it every text message and sends what arrives on its [`SocketOutput`] queue.
//! A malformed message is an error for that message only; the call goes on.

use std::str::FromStr;

use tokio::sync::mpsc;

use super::media_leg::{LegEvent, MediaLeg};
pub use super::twilio_media_stream_audio::{InboundAudio, MediaPayloadError, OutboundAudio};
pub use super::twilio_media_stream_control::{
    MediaStreamControl, SocketOutput, TRANSFER_UNSUPPORTED,
};
use super::twilio_media_stream_messages::{InboundMessage, StreamStart};
use crate::lang::Lang;

/// Caller frames queued for the driver (10 s): beyond that the driver is stuck and frames drop.
const LEG_EVENT_QUEUE: usize = 500;
/// Outbound messages queued for the socket writer (10 s of audio).
pub const SOCKET_OUTPUT_QUEUE: usize = 500;

/// What was wrong with one inbound message.
#[derive(Debug, thiserror::Error)]
pub enum MediaStreamError {
    #[error(
        "malformed media stream message ({0}): expected Twilio Media Streams JSON with an `event` of connected, start, media, dtmf, mark or stop"
    )]
    Malformed(#[from] serde_json::Error),
    #[error("`media` before `start`: send the `start` message first")]
    MediaBeforeStart,
    #[error("a second `start` on the same stream: open a new WebSocket for each call")]
    SecondStart,
    #[error(
        "unsupported media format {encoding} at {sample_rate} Hz, {channels} channel(s): only audio/x-mulaw at 8000 Hz mono is accepted"
    )]
    UnsupportedFormat {
        encoding: String,
        sample_rate: u32,
        channels: u32,
    },
    #[error(transparent)]
    Payload(#[from] MediaPayloadError),
    #[error("cannot set up the audio converters: {0}")]
    Resampler(#[from] hotline_audio::resample::ResampleError),
    #[error("DTMF digit {0:?} is not one of 0-9, *, #, A-D")]
    BadDigit(String),
}

/// A stream that has started: its leg, for the call driver, and what the caller side told us.
pub struct StartedStream {
    pub leg: MediaLeg,
    /// From the `lang` custom parameter (zh, yue, en), if given and valid.
    pub lang: Option<Lang>,
    pub call_sid: Option<String>,
}

enum StreamState {
    AwaitingStart,
    Streaming {
        stream_sid: String,
        audio: Box<InboundAudio>,
        leg_events: mpsc::Sender<LegEvent>,
        dropped_frames: u64,
    },
    Stopped,
}

/// One media stream connection.
pub struct TwilioMediaStream {
    outbound: mpsc::Sender<SocketOutput>,
    state: StreamState,
}

impl TwilioMediaStream {
    /// A connection whose outbound messages go to `outbound` (see [`SOCKET_OUTPUT_QUEUE`]).
    pub fn new(outbound: mpsc::Sender<SocketOutput>) -> Self {
        Self {
            outbound,
            state: StreamState::AwaitingStart,
        }
    }

    /// Handles one text message; returns the leg when it was the `start`.
    pub fn on_text(&mut self, text: &str) -> Result<Option<StartedStream>, MediaStreamError> {
        let message: InboundMessage = serde_json::from_str(text)?;
        match message {
            InboundMessage::Connected { protocol } => {
                tracing::debug!(?protocol, "media stream connected");
                Ok(None)
            }
            InboundMessage::Start { start, .. } => self.start(start).map(Some),
            InboundMessage::Media { media, .. } => {
                let StreamState::Streaming {
                    audio,
                    leg_events,
                    dropped_frames,
                    stream_sid,
                } = &mut self.state
                else {
                    return match self.state {
                        StreamState::Stopped => Ok(None),
                        _ => Err(MediaStreamError::MediaBeforeStart),
                    };
                };
                let mut closed = false;
                audio.push_payload(&media.payload, |frame| {
                    match leg_events.try_send(LegEvent::Audio(frame)) {
                        Ok(()) => {}
                        Err(mpsc::error::TrySendError::Full(_)) => {
                            *dropped_frames += 1;
                            if dropped_frames.is_power_of_two() {
                                tracing::warn!(stream = %stream_sid, dropped = *dropped_frames, "call driver is not keeping up; caller frames dropped");
                            }
                        }
                        Err(mpsc::error::TrySendError::Closed(_)) => closed = true,
                    }
                })?;
                if closed {
                    // The driver finished (the bot hung up): later audio has nowhere to go.
                    self.state = StreamState::Stopped;
                }
                Ok(None)
            }
            InboundMessage::Dtmf { dtmf } => {
                let digit = parse_digit(&dtmf.digit)?;
                if let StreamState::Streaming { leg_events, .. } = &self.state {
                    let _ = leg_events.try_send(LegEvent::Dtmf(digit));
                }
                Ok(None)
            }
            InboundMessage::Mark { mark } => {
                tracing::debug!(name = %mark.name, "media stream mark played");
                Ok(None)
            }
            InboundMessage::Stop {} => {
                self.on_closed();
                Ok(None)
            }
        }
    }

    /// The socket closed or the stream stopped: the caller is gone.
    pub fn on_closed(&mut self) {
        if let StreamState::Streaming {
            leg_events,
            stream_sid,
            ..
        } = std::mem::replace(&mut self.state, StreamState::Stopped)
        {
            tracing::info!(stream = %stream_sid, "media stream stopped");
            // If the queue is full the driver still ends: dropping the sender closes it.
            let _ = leg_events.try_send(LegEvent::HangUp);
        }
    }

    fn start(&mut self, start: StreamStart) -> Result<StartedStream, MediaStreamError> {
        if !matches!(self.state, StreamState::AwaitingStart) {
            return Err(MediaStreamError::SecondStart);
        }
        if let Some(format) = &start.media_format {
            let mulaw = format.encoding.eq_ignore_ascii_case("audio/x-mulaw");
            if !mulaw || format.sample_rate != 8000 || format.channels != 1 {
                return Err(MediaStreamError::UnsupportedFormat {
                    encoding: format.encoding.clone(),
                    sample_rate: format.sample_rate,
                    channels: format.channels,
                });
            }
        }
        let params = &start.custom_parameters;
        let lang = params
            .get("lang")
            .and_then(|code| match Lang::from_str(code) {
                Ok(lang) => Some(lang),
                Err(error) => {
                    tracing::warn!(%error, "ignoring the `lang` parameter of the media stream");
                    None
                }
            });
        let caller = ["from", "From", "caller"]
            .iter()
            .find_map(|key| params.get(*key))
            .cloned();
        let (leg_events, events) = mpsc::channel(LEG_EVENT_QUEUE);
        let control = MediaStreamControl::new(
            start.stream_sid.clone(),
            self.outbound.clone(),
            OutboundAudio::new()?,
        );
        tracing::info!(stream = %start.stream_sid, call_sid = ?start.call_sid, ?lang, "media stream started");
        self.state = StreamState::Streaming {
            stream_sid: start.stream_sid.clone(),
            audio: Box::new(InboundAudio::new()?),
            leg_events,
            dropped_frames: 0,
        };
        Ok(StartedStream {
            leg: MediaLeg {
                id: start.stream_sid,
                caller,
                events,
                control: Box::new(control),
            },
            lang,
            call_sid: start.call_sid,
        })
    }
}

fn parse_digit(digit: &str) -> Result<char, MediaStreamError> {
    let mut chars = digit.trim().chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D') => Ok(c),
        _ => Err(MediaStreamError::BadDigit(digit.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;

    fn start_message(lang: &str) -> String {
        format!(
            r#"{{"event":"start","sequenceNumber":"1","start":{{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"mediaFormat":{{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"customParameters":{{"lang":"{lang}","from":"+85212345678"}}}},"streamSid":"MZ1"}}"#
        )
    }

    fn media_message(codes: &[u8]) -> String {
        let payload = base64::engine::general_purpose::STANDARD.encode(codes);
        format!(
            r#"{{"event":"media","streamSid":"MZ1","media":{{"track":"inbound","payload":"{payload}"}}}}"#
        )
    }

    #[tokio::test]
    async fn a_stream_becomes_a_leg() {
        let (outbound, mut socket) = mpsc::channel(SOCKET_OUTPUT_QUEUE);
        let mut stream = TwilioMediaStream::new(outbound);
        assert!(
            stream
                .on_text(r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#)
                .unwrap()
                .is_none()
        );
        assert!(matches!(
            stream.on_text(&media_message(&[0xFF; 160])),
            Err(MediaStreamError::MediaBeforeStart)
        ));
        let started = stream.on_text(&start_message("yue")).unwrap().unwrap();
        assert_eq!(started.lang, Some(Lang::Yue));
        assert_eq!(started.call_sid.as_deref(), Some("CA1"));
        let mut leg = started.leg;
        assert_eq!(leg.id, "MZ1");
        assert_eq!(leg.caller.as_deref(), Some("+85212345678"));

        // 30 ms then 10 ms of μ-law: two 20 ms frames.
        stream.on_text(&media_message(&[0xFF; 240])).unwrap();
        stream.on_text(&media_message(&[0xFF; 80])).unwrap();
        // Malformed messages are errors for themselves only.
        assert!(matches!(
            stream.on_text("{not json"),
            Err(MediaStreamError::Malformed(_))
        ));
        assert!(
            stream
                .on_text(r#"{"event":"media","media":{"payload":"@@"}}"#)
                .is_err()
        );
        assert!(matches!(
            stream.on_text(r#"{"event":"dtmf","dtmf":{"digit":"12"}}"#),
            Err(MediaStreamError::BadDigit(_))
        ));
        stream
            .on_text(r#"{"event":"dtmf","dtmf":{"track":"inbound_track","digit":"5"}}"#)
            .unwrap();
        stream
            .on_text(r#"{"event":"stop","stop":{"callSid":"CA1"}}"#)
            .unwrap();
        let mut events = Vec::new();
        while let Some(event) = leg.events.recv().await {
            events.push(event);
        }
        assert_eq!(events.len(), 4, "{events:?}");
        assert!(matches!(events[0], LegEvent::Audio(_)));
        assert!(matches!(events[1], LegEvent::Audio(_)));
        assert_eq!(events[2], LegEvent::Dtmf('5'));
        assert_eq!(events[3], LegEvent::HangUp);

        // The control speaks the outbound protocol.
        leg.control.send_frame(hotline_audio::Frame::silence());
        leg.control.mark("turn2-s5");
        leg.control.flush();
        let target = crate::channel::TransferTarget {
            uri: "sip:agent@example.com".to_string(),
        };
        assert!(matches!(
            leg.control.transfer(&target, "summary").await,
            crate::channel::TransferOutcome::Failed(_)
        ));
        leg.control.hang_up().await;
        let SocketOutput::Text(media) = socket.recv().await.unwrap() else {
            panic!("expected media");
        };
        let media: serde_json::Value = serde_json::from_str(&media).unwrap();
        assert_eq!(media["event"], "media");
        assert_eq!(media["streamSid"], "MZ1");
        let payload = media["media"]["payload"].as_str().unwrap();
        let codes = base64::engine::general_purpose::STANDARD
            .decode(payload)
            .unwrap();
        assert_eq!(codes.len(), 160);
        assert_eq!(
            socket.recv().await.unwrap(),
            SocketOutput::Text(
                r#"{"event":"mark","streamSid":"MZ1","mark":{"name":"turn2-s5"}}"#.to_string()
            )
        );
        assert_eq!(
            socket.recv().await.unwrap(),
            SocketOutput::Text(r#"{"event":"clear","streamSid":"MZ1"}"#.to_string())
        );
        assert_eq!(socket.recv().await.unwrap(), SocketOutput::Close);
    }

    #[test]
    fn other_formats_are_refused() {
        let (outbound, _socket) = mpsc::channel(4);
        let mut stream = TwilioMediaStream::new(outbound);
        let start = start_message("zh").replace("audio/x-mulaw", "audio/x-alaw");
        assert!(matches!(
            stream.on_text(&start),
            Err(MediaStreamError::UnsupportedFormat { .. })
        ));
    }
}
