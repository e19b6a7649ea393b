//! The JSON messages of the Twilio Media Streams WebSocket protocol (bidirectional streams):
//! what the telephony side sends (`connected`, `start`, `media`, `dtmf`, `mark`, `stop`) and
//! what we send back (`media`, `clear`). Only the fields the engine uses are read;
//! unknown fields are ignored, as Twilio adds some over time.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// One message from the telephony side.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum InboundMessage {
    /// The WebSocket is up (first message).
    Connected {
        #[serde(default)]
        protocol: Option<String>,
    },
    /// The stream starts: ids, audio format and the parameters given in TwiML.
    Start {
        #[serde(rename = "streamSid", default)]
        stream_sid: Option<String>,
        start: StreamStart,
    },
    /// 20 ms (usually) of the caller's audio.
    Media {
        #[serde(rename = "streamSid", default)]
        stream_sid: Option<String>,
        media: MediaPayload,
    },
    /// The caller pressed a key.
    Dtmf { dtmf: DtmfDigit },
    /// A mark we sent has been played out.
    Mark { mark: MarkName },
    /// The stream is over (the call ended or the stream was stopped).
    Stop {},
}

/// The `start` block.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StreamStart {
    #[serde(rename = "streamSid")]
    pub stream_sid: String,
    #[serde(rename = "callSid", default)]
    pub call_sid: Option<String>,
    #[serde(rename = "accountSid", default)]
    pub account_sid: Option<String>,
    #[serde(rename = "mediaFormat", default)]
    pub media_format: Option<MediaFormat>,
    /// `<Parameter>`s from the TwiML; `lang` (zh, yue, en) and `from` are used.
    #[serde(rename = "customParameters", default)]
    pub custom_parameters: HashMap<String, String>,
}

/// The audio format of the stream (Twilio: always `audio/x-mulaw`, 8000 Hz, mono).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MediaFormat {
    pub encoding: String,
    #[serde(rename = "sampleRate")]
    pub sample_rate: u32,
    #[serde(default = "one_channel")]
    pub channels: u32,
}

fn one_channel() -> u32 {
    1
}

/// The `media` block of an inbound message.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MediaPayload {
    /// Base64 μ-law bytes.
    pub payload: String,
    #[serde(default)]
    pub track: Option<String>,
}

/// The `dtmf` block.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DtmfDigit {
    pub digit: String,
}

/// The `mark` block: a label we would have sent, echoed back once played.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MarkName {
    pub name: String,
}

/// One message to the telephony side.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum OutboundMessage<'a> {
    /// Audio to play: base64 μ-law 8 kHz.
    Media {
        #[serde(rename = "streamSid")]
        stream_sid: &'a str,
        media: OutboundMedia,
    },
    /// Drop all audio sent and not yet played (barge-in).
    Clear {
        #[serde(rename = "streamSid")]
        stream_sid: &'a str,
    },
    /// A label after the audio sent so far; echoed back as an inbound `mark` once played.
    Mark {
        #[serde(rename = "streamSid")]
        stream_sid: &'a str,
        mark: OutboundMark<'a>,
    },
}

/// The `mark` block of an outbound message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboundMark<'a> {
    pub name: &'a str,
}

/// The `media` block of an outbound message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboundMedia {
    pub payload: String,
}

impl OutboundMessage<'_> {
    /// The message as JSON text.
    pub fn to_json(&self) -> String {
        // Serialising these plain structs cannot fail (string keys, no maps of other keys).
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_twilio_messages() {
        let start = r#"{"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},"customParameters":{"lang":"yue"}},"streamSid":"MZ1"}"#;
        let InboundMessage::Start { start, .. } = serde_json::from_str(start).unwrap() else {
            panic!("not a start");
        };
        assert_eq!(start.stream_sid, "MZ1");
        assert_eq!(start.call_sid.as_deref(), Some("CA1"));
        assert_eq!(start.custom_parameters["lang"], "yue");
        assert_eq!(start.media_format.unwrap().sample_rate, 8000);

        let media = r#"{"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"//8="},"streamSid":"MZ1"}"#;
        let InboundMessage::Media { media, .. } = serde_json::from_str(media).unwrap() else {
            panic!("not media");
        };
        assert_eq!(media.payload, "//8=");

        let dtmf = r#"{"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"0"}}"#;
        assert_eq!(
            serde_json::from_str::<InboundMessage>(dtmf).unwrap(),
            InboundMessage::Dtmf {
                dtmf: DtmfDigit {
                    digit: "0".to_string()
                }
            }
        );
        let stop = r#"{"event":"stop","sequenceNumber":"9","streamSid":"MZ1","stop":{"accountSid":"AC1","callSid":"CA1"}}"#;
        assert_eq!(
            serde_json::from_str::<InboundMessage>(stop).unwrap(),
            InboundMessage::Stop {}
        );
        assert!(serde_json::from_str::<InboundMessage>(r#"{"event":"media"}"#).is_err());
    }

    #[test]
    fn writes_twilio_messages() {
        let clear = OutboundMessage::Clear { stream_sid: "MZ1" }.to_json();
        assert_eq!(clear, r#"{"event":"clear","streamSid":"MZ1"}"#);
        let media = OutboundMessage::Media {
            stream_sid: "MZ1",
            media: OutboundMedia {
                payload: "AA==".to_string(),
            },
        }
        .to_json();
        assert_eq!(
            media,
            r#"{"event":"media","streamSid":"MZ1","media":{"payload":"AA=="}}"#
        );
        let mark = OutboundMessage::Mark {
            stream_sid: "MZ1",
            mark: OutboundMark { name: "turn2-s5" },
        }
        .to_json();
        assert_eq!(
            mark,
            r#"{"event":"mark","streamSid":"MZ1","mark":{"name":"turn2-s5"}}"#
        );
    }
}
