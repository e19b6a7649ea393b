//! `CallChannel`: which way a call came in (SIP, a media stream WebSocket, the browser widget),
//! named by whoever starts the call's driver and carried on every notice, so the call store
//! can say where each call came from without `call/` knowing any channel.

use serde::{Deserialize, Serialize};

/// Where a call came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallChannel {
    /// A SIP trunk or PBX (`[sip]`).
    Sip,
    /// The Twilio Media Streams WebSocket (`/media`).
    MediaStream,
    /// The browser widget over WebRTC.
    Browser,
    /// Not said by whoever started the call (tests, benches).
    #[default]
    Unknown,
}

impl CallChannel {
    /// The name used in the store, the JSON API and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            CallChannel::Sip => "sip",
            CallChannel::MediaStream => "media_stream",
            CallChannel::Browser => "browser",
            CallChannel::Unknown => "unknown",
        }
    }

    /// Whether the caller sees live captions of their own words (worth partial transcripts).
    pub fn shows_live_captions(self) -> bool {
        matches!(self, CallChannel::Browser)
    }

    /// The channel named `name` (as [`CallChannel::as_str`] writes it).
    pub fn from_name(name: &str) -> Option<Self> {
        [
            CallChannel::Sip,
            CallChannel::MediaStream,
            CallChannel::Browser,
            CallChannel::Unknown,
        ]
        .into_iter()
        .find(|channel| channel.as_str() == name)
    }
}

impl std::fmt::Display for CallChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back() {
        for channel in [
            CallChannel::Sip,
            CallChannel::MediaStream,
            CallChannel::Browser,
            CallChannel::Unknown,
        ] {
            assert_eq!(CallChannel::from_name(channel.as_str()), Some(channel));
        }
        assert_eq!(CallChannel::from_name("fax"), None);
    }
}
