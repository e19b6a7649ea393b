//! One text frame on the Twilio media-stream WebSocket: the JSON message, and for `media` the
//! base64 μ-law payload through the inbound audio path (every whole 20 ms is one frame, no
//! more, no fewer); a label echoed back in `mark` survives our JSON writer.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::engine_parsers::twilio_media_stream_audio::InboundAudio;
use crate::engine_parsers::twilio_media_stream_messages::{
    InboundMessage, OutboundMark, OutboundMessage,
};

/// μ-law bytes in 20 ms at 8 kHz.
const CHUNK_8K: usize = 160;

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(message) = serde_json::from_str::<InboundMessage>(text) else {
        return;
    };
    match message {
        InboundMessage::Media { media, .. } => {
            let mut audio = InboundAudio::new().expect("the 8 kHz resampler builds");
            let mut frames = 0usize;
            match audio.push_payload(&media.payload, |_| frames += 1) {
                Ok(()) => {
                    let bytes = BASE64
                        .decode(media.payload.trim())
                        .expect("accepted payload decodes");
                    assert_eq!(frames, bytes.len() / CHUNK_8K);
                }
                Err(error) => assert_eq!(frames, 0, "frames before the error: {error}"),
            }
        }
        InboundMessage::Mark { mark } => {
            let json = OutboundMessage::Mark {
                stream_sid: "MZ1",
                mark: OutboundMark { name: &mark.name },
            }
            .to_json();
            let back: serde_json::Value = serde_json::from_str(&json).expect("our JSON parses");
            assert_eq!(back["mark"]["name"].as_str(), Some(mark.name.as_str()));
        }
        InboundMessage::Start { start, .. } => {
            let _ = start.custom_parameters.get("lang");
        }
        InboundMessage::Connected { .. }
        | InboundMessage::Dtmf { .. }
        | InboundMessage::Stop {} => {}
    }
}
