//! SDP offer/answer for one audio stream (RFC 3264), without I/O.
//!
//! A trunk's INVITE carries an offer; we answer Opus (RFC 7587) when it is offered (wideband
//! audio helps the ASR), else the first G.711 codec in the caller's order, keep
//! telephone-event if offered (at the rate the offer gives it), and render an answer. Parsing is
//! deliberately small and tolerant: only what a telephone call needs, and never a panic on odd
//! input.

use std::net::IpAddr;

use crate::error::SdpError;
use crate::opus_fmtp::OpusFmtp;
pub use crate::sdp_render::{OFFERED_TELEPHONE_EVENT_PT, render_answer, render_offer};

/// A codec we can speak on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioCodec {
    /// G.711 μ-law (static payload type 0).
    Pcmu,
    /// G.711 A-law (static payload type 8).
    Pcma,
    /// Opus (RFC 7587; dynamic payload type, `opus/48000/2`).
    Opus,
}

impl AudioCodec {
    /// The encoding name as it appears in `a=rtpmap`.
    pub fn encoding_name(self) -> &'static str {
        match self {
            AudioCodec::Pcmu => "PCMU",
            AudioCodec::Pcma => "PCMA",
            AudioCodec::Opus => "opus",
        }
    }

    /// The RTP clock rate: 8000 for G.711, 48000 for Opus whatever rate it codes at.
    pub fn clock_rate(self) -> u32 {
        match self {
            AudioCodec::Pcmu | AudioCodec::Pcma => 8000,
            AudioCodec::Opus => 48_000,
        }
    }

    /// RTP timestamp units in one 20 ms packet.
    pub fn timestamp_step(self) -> u32 {
        self.clock_rate() / 50
    }

    /// The `a=rtpmap` value: `PCMU/8000`, `opus/48000/2` (RFC 7587 always writes 2 channels).
    pub(crate) fn rtpmap(self) -> &'static str {
        match self {
            AudioCodec::Pcmu => "PCMU/8000",
            AudioCodec::Pcma => "PCMA/8000",
            AudioCodec::Opus => "opus/48000/2",
        }
    }
}

/// The telephone-event format (RFC 4733) agreed for the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEventFormat {
    pub payload_type: u8,
    /// Its RTP clock rate as offered: 8000 with G.711, usually 48000 with Opus.
    pub clock_rate: u32,
}

/// Which way media flows, from the offerer's point of view as written in the SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaDirection {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl MediaDirection {
    /// The direction we answer with (RFC 3264 §6.1: sendonly ↔ recvonly).
    pub fn answer(self) -> MediaDirection {
        match self {
            MediaDirection::SendRecv => MediaDirection::SendRecv,
            MediaDirection::SendOnly => MediaDirection::RecvOnly,
            MediaDirection::RecvOnly => MediaDirection::SendOnly,
            MediaDirection::Inactive => MediaDirection::Inactive,
        }
    }

    /// Whether we send RTP in this direction (our point of view).
    pub fn sends(self) -> bool {
        matches!(self, MediaDirection::SendRecv | MediaDirection::SendOnly)
    }

    /// Whether we expect RTP from the peer (our point of view).
    pub fn receives(self) -> bool {
        matches!(self, MediaDirection::SendRecv | MediaDirection::RecvOnly)
    }

    pub(crate) fn attribute(self) -> &'static str {
        match self {
            MediaDirection::SendRecv => "sendrecv",
            MediaDirection::SendOnly => "sendonly",
            MediaDirection::RecvOnly => "recvonly",
            MediaDirection::Inactive => "inactive",
        }
    }
}

/// One payload type offered on the audio m-line, in the caller's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedFormat {
    pub payload_type: u8,
    /// Encoding name from `a=rtpmap` (upper-cased), or the static name for 0..=34.
    pub encoding: Option<String>,
    pub clock_rate: Option<u32>,
    /// The `a=fmtp` parameters for this payload type, if any.
    pub fmtp: Option<String>,
}

impl OfferedFormat {
    fn is(&self, encoding: &str, clock_rate: u32) -> bool {
        self.encoding.as_deref() == Some(encoding) && self.clock_rate == Some(clock_rate)
    }
}

/// The parts of an SDP offer that matter for a telephone call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdpOffer {
    /// Where the caller wants RTP sent (media-level `c=` wins over session-level).
    pub connection_address: IpAddr,
    pub audio_port: u16,
    pub formats: Vec<OfferedFormat>,
    pub direction: MediaDirection,
    pub ptime_ms: Option<u32>,
}

/// The outcome of negotiation: what both sides will use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegotiatedMedia {
    pub codec: AudioCodec,
    /// Payload type the caller used for the codec (the static one for G.711, the offer's
    /// dynamic one for Opus).
    pub codec_payload_type: u8,
    /// The peer's Opus parameters (defaults unless the codec is Opus).
    pub opus: OpusFmtp,
    /// telephone-event, when the caller offered it.
    pub telephone_event: Option<TelephoneEventFormat>,
    pub remote_rtp: std::net::SocketAddr,
    pub direction: MediaDirection,
}

fn static_encoding(pt: u8) -> Option<(&'static str, u32)> {
    match pt {
        0 => Some(("PCMU", 8000)),
        8 => Some(("PCMA", 8000)),
        9 => Some(("G722", 8000)),
        18 => Some(("G729", 8000)),
        3 => Some(("GSM", 8000)),
        _ => None,
    }
}

impl SdpOffer {
    /// Parses an SDP body. Lines may end with CRLF or LF; unknown lines are ignored.
    pub fn parse(body: &[u8]) -> Result<SdpOffer, SdpError> {
        let text = std::str::from_utf8(body).map_err(|_| SdpError::NotUtf8)?;
        let mut session_addr: Option<IpAddr> = None;
        let mut media_addr: Option<IpAddr> = None;
        let mut audio: Option<(u16, Vec<u8>)> = None;
        let mut in_audio = false;
        let mut seen_audio = false;
        let mut rtpmaps: Vec<(u8, String, u32)> = Vec::new();
        let mut fmtps: Vec<(u8, String)> = Vec::new();
        let mut direction_session = MediaDirection::SendRecv;
        let mut direction_media: Option<MediaDirection> = None;
        let mut ptime = None;

        for raw in text.lines() {
            let line = raw.trim_end_matches('\r');
            let Some((kind, value)) = line.split_once('=') else {
                continue;
            };
            match kind {
                "m" => {
                    in_audio = false;
                    let mut parts = value.split_ascii_whitespace();
                    let media = parts.next().unwrap_or("");
                    if media != "audio" || seen_audio {
                        continue;
                    }
                    seen_audio = true;
                    in_audio = true;
                    let port_text = parts.next().ok_or(SdpError::BadMediaLine)?;
                    let port_text = port_text.split('/').next().unwrap_or(port_text);
                    let port: u16 = port_text.parse().map_err(|_| SdpError::BadMediaLine)?;
                    let proto = parts.next().ok_or(SdpError::BadMediaLine)?;
                    if proto != "RTP/AVP" {
                        return Err(SdpError::UnsupportedProfile(proto.to_string()));
                    }
                    let pts = parts
                        .filter_map(|p| p.parse::<u8>().ok())
                        .filter(|p| *p < 128)
                        .collect();
                    audio = Some((port, pts));
                }
                "c" => {
                    let addr = parse_connection(value)?;
                    if in_audio {
                        media_addr = Some(addr);
                    } else if !seen_audio {
                        session_addr = Some(addr);
                    }
                }
                "a" if in_audio || !seen_audio => {
                    let (name, arg) = value.split_once(':').unwrap_or((value, ""));
                    let direction = match name {
                        "sendrecv" => Some(MediaDirection::SendRecv),
                        "sendonly" => Some(MediaDirection::SendOnly),
                        "recvonly" => Some(MediaDirection::RecvOnly),
                        "inactive" => Some(MediaDirection::Inactive),
                        _ => None,
                    };
                    if let Some(direction) = direction {
                        if in_audio {
                            direction_media = Some(direction);
                        } else {
                            direction_session = direction;
                        }
                        continue;
                    }
                    match name {
                        "rtpmap" if in_audio => {
                            if let Some(map) = parse_rtpmap(arg) {
                                rtpmaps.push(map);
                            }
                        }
                        "fmtp" if in_audio => {
                            if let Some((pt, parameters)) =
                                arg.trim().split_once(char::is_whitespace)
                                && let Ok(pt) = pt.parse::<u8>()
                            {
                                fmtps.push((pt, parameters.trim().to_string()));
                            }
                        }
                        "ptime" if in_audio => ptime = arg.trim().parse().ok(),
                        _ => {}
                    }
                }
                _ => {}
            }
        }

        let (audio_port, pts) = audio.ok_or(SdpError::NoAudio)?;
        let connection_address = media_addr
            .or(session_addr)
            .ok_or(SdpError::NoConnectionAddress)?;
        let formats = pts
            .into_iter()
            .map(|pt| {
                let mapped = rtpmaps.iter().find(|(p, _, _)| *p == pt);
                let (encoding, clock_rate) = match (mapped, static_encoding(pt)) {
                    (Some((_, name, rate)), _) => (Some(name.clone()), Some(*rate)),
                    (None, Some((name, rate))) => (Some(name.to_string()), Some(rate)),
                    (None, None) => (None, None),
                };
                OfferedFormat {
                    payload_type: pt,
                    encoding,
                    clock_rate,
                    fmtp: fmtps
                        .iter()
                        .find(|(p, _)| *p == pt)
                        .map(|(_, parameters)| parameters.clone()),
                }
            })
            .collect();
        Ok(SdpOffer {
            connection_address,
            audio_port,
            formats,
            direction: direction_media.unwrap_or(direction_session),
            ptime_ms: ptime,
        })
    }

    /// Picks Opus when offered (wherever it is in the list: wideband audio is worth more to
    /// the ASR than the caller's order), else the first G.711 codec in the caller's order; and
    /// telephone-event if offered, at the codec's clock rate when the offer has that one.
    pub fn negotiate(&self) -> Result<NegotiatedMedia, SdpError> {
        if self.audio_port == 0 {
            return Err(SdpError::AudioRejectedByOfferer);
        }
        let opus = self.formats.iter().find(|f| f.is("OPUS", 48_000)).map(|f| {
            let fmtp = f.fmtp.as_deref().map(OpusFmtp::parse).unwrap_or_default();
            (AudioCodec::Opus, f.payload_type, fmtp)
        });
        let g711 = || {
            self.formats.iter().find_map(|f| {
                let codec = if f.is("PCMU", 8000) {
                    AudioCodec::Pcmu
                } else if f.is("PCMA", 8000) {
                    AudioCodec::Pcma
                } else {
                    return None;
                };
                Some((codec, f.payload_type, OpusFmtp::default()))
            })
        };
        let Some((codec, codec_payload_type, opus)) = opus.or_else(g711) else {
            let offered = self
                .formats
                .iter()
                .map(|f| match &f.encoding {
                    Some(name) => format!("{name}/{}", f.clock_rate.unwrap_or(0)),
                    None => format!("pt {}", f.payload_type),
                })
                .collect::<Vec<_>>()
                .join(", ");
            return Err(SdpError::NoCommonCodec { offered });
        };
        let events = || {
            self.formats.iter().filter(|f| {
                f.encoding.as_deref() == Some("TELEPHONE-EVENT")
                    && f.clock_rate
                        .is_some_and(|rate| (8000..=48_000).contains(&rate))
            })
        };
        // RFC 4733 events share the audio's timestamps: the codec's own rate is the right one;
        // a peer that offers only another rate still gets events at the rate it asked for.
        let telephone_event = events()
            .find(|f| f.clock_rate == Some(codec.clock_rate()))
            .or_else(|| events().next())
            .map(|f| TelephoneEventFormat {
                payload_type: f.payload_type,
                clock_rate: f.clock_rate.unwrap_or(8000),
            });
        Ok(NegotiatedMedia {
            codec,
            codec_payload_type,
            opus,
            telephone_event,
            remote_rtp: std::net::SocketAddr::new(self.connection_address, self.audio_port),
            direction: self.direction.answer(),
        })
    }
}

fn parse_connection(value: &str) -> Result<IpAddr, SdpError> {
    let mut parts = value.split_ascii_whitespace();
    let (net, _addr_type, addr) = (parts.next(), parts.next(), parts.next());
    if net != Some("IN") {
        return Err(SdpError::BadConnectionLine(value.to_string()));
    }
    let addr = addr.ok_or_else(|| SdpError::BadConnectionLine(value.to_string()))?;
    // Multicast TTL suffix ("/127") is not for us, but strip it rather than fail.
    let addr = addr.split('/').next().unwrap_or(addr);
    addr.parse()
        .map_err(|_| SdpError::BadConnectionLine(value.to_string()))
}

fn parse_rtpmap(arg: &str) -> Option<(u8, String, u32)> {
    let (pt, rest) = arg.trim().split_once(char::is_whitespace)?;
    let pt: u8 = pt.parse().ok()?;
    let mut fields = rest.trim().split('/');
    let name = fields.next()?.to_ascii_uppercase();
    let rate = fields.next()?.parse().ok()?;
    Some((pt, name, rate))
}

/// Offers and helpers shared by the SDP parsing and rendering tests.
#[cfg(test)]
pub(crate) mod test_offers {
    use super::NegotiatedMedia;

    /// What a softphone such as linphone offers: Opus first, G.711, RFC 4733 at 8 kHz.
    pub(crate) const LINPHONE_LIKE: &str = "v=0\r\no=alice 1 1 IN IP4 192.0.2.10\r\ns=call\r\n\
        c=IN IP4 192.0.2.10\r\nt=0 0\r\n\
        m=audio 40000 RTP/AVP 96 8 0 101\r\n\
        a=rtpmap:96 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n\
        a=fmtp:101 0-16\r\na=ptime:20\r\n";

    pub(crate) fn event_pt(media: &NegotiatedMedia) -> Option<u8> {
        media.telephone_event.map(|te| te.payload_type)
    }
}

#[cfg(test)]
mod tests {
    use super::test_offers::{LINPHONE_LIKE, event_pt};
    use super::*;

    #[test]
    fn opus_wins_and_the_only_telephone_event_keeps_its_rate() {
        let offer = SdpOffer::parse(LINPHONE_LIKE.as_bytes()).unwrap();
        assert_eq!(offer.formats.len(), 4);
        let media = offer.negotiate().unwrap();
        assert_eq!(media.codec, AudioCodec::Opus);
        assert_eq!(media.codec_payload_type, 96);
        assert_eq!(media.opus, OpusFmtp::default(), "no fmtp for 96");
        assert_eq!(
            media.telephone_event,
            Some(TelephoneEventFormat {
                payload_type: 101,
                clock_rate: 8000
            })
        );
        assert_eq!(media.remote_rtp, "192.0.2.10:40000".parse().unwrap());
        assert_eq!(offer.ptime_ms, Some(20));
    }

    #[test]
    fn opus_offered_after_g711_still_wins_with_its_fmtp_and_48k_events() {
        // A softphone's order: PCMU first, Opus later, events at both rates.
        let sdp = "v=0\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
                   m=audio 7078 RTP/AVP 0 8 111 101 102\r\n\
                   a=rtpmap:111 opus/48000/2\r\n\
                   a=fmtp:111 useinbandfec=1; maxaveragebitrate=20000\r\n\
                   a=rtpmap:101 telephone-event/8000\r\na=rtpmap:102 telephone-event/48000\r\n";
        let offer = SdpOffer::parse(sdp.as_bytes()).unwrap();
        assert_eq!(
            offer.formats[2].fmtp.as_deref(),
            Some("useinbandfec=1; maxaveragebitrate=20000")
        );
        let media = offer.negotiate().unwrap();
        assert_eq!(
            (media.codec, media.codec_payload_type),
            (AudioCodec::Opus, 111)
        );
        assert!(media.opus.use_inband_fec);
        assert_eq!(media.opus.max_average_bitrate, Some(20_000));
        assert_eq!(
            media.telephone_event,
            Some(TelephoneEventFormat {
                payload_type: 102,
                clock_rate: 48_000
            }),
            "events at Opus's own clock rate"
        );
        // Without Opus the same offer gives PCMU with events at 8 kHz.
        let g711 = sdp.replace(" 111 101 102", " 101 102");
        let media = SdpOffer::parse(g711.as_bytes())
            .unwrap()
            .negotiate()
            .unwrap();
        assert_eq!(media.codec, AudioCodec::Pcmu);
        assert_eq!(media.opus, OpusFmtp::default());
        assert_eq!(event_pt(&media), Some(101));
        // Only 48 kHz events offered with G.711: we use what was offered.
        let only_48k = sdp.replace(" 111 101 102", " 102");
        let media = SdpOffer::parse(only_48k.as_bytes())
            .unwrap()
            .negotiate()
            .unwrap();
        assert_eq!(media.telephone_event.map(|te| te.clock_rate), Some(48_000));
    }

    #[test]
    fn opus_alone_is_enough_and_a_wrong_opus_rate_is_not_opus() {
        let sdp = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 5004 RTP/AVP 98\r\n\
                   a=rtpmap:98 OPUS/48000/2\r\n";
        let media = SdpOffer::parse(sdp.as_bytes())
            .unwrap()
            .negotiate()
            .unwrap();
        assert_eq!(
            (media.codec, media.codec_payload_type),
            (AudioCodec::Opus, 98)
        );
        assert_eq!(media.telephone_event, None);
        let wrong = sdp.replace("OPUS/48000/2", "opus/16000");
        assert!(matches!(
            SdpOffer::parse(wrong.as_bytes()).unwrap().negotiate(),
            Err(SdpError::NoCommonCodec { .. })
        ));
    }

    #[test]
    fn pcmu_first_wins_when_offered_first() {
        let sdp = "v=0\nc=IN IP4 10.0.0.1\nm=audio 5004 RTP/AVP 0 8\n";
        let media = SdpOffer::parse(sdp.as_bytes())
            .unwrap()
            .negotiate()
            .unwrap();
        assert_eq!(media.codec, AudioCodec::Pcmu);
        assert_eq!(media.telephone_event, None);
    }

    #[test]
    fn unknown_codecs_only_is_no_common_codec() {
        let sdp = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 5004 RTP/AVP 18 98\r\n\
                   a=rtpmap:98 iLBC/8000\r\n";
        let err = SdpOffer::parse(sdp.as_bytes())
            .unwrap()
            .negotiate()
            .unwrap_err();
        match err {
            SdpError::NoCommonCodec { offered } => {
                assert!(offered.contains("G729/8000"), "{offered}");
                assert!(offered.contains("ILBC/8000"), "{offered}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn media_level_connection_and_direction_win() {
        let sdp = "v=0\r\nc=IN IP4 10.0.0.1\r\na=sendrecv\r\nt=0 0\r\n\
                   m=audio 6000 RTP/AVP 0\r\nc=IN IP4 10.0.0.2\r\na=sendonly\r\n";
        let offer = SdpOffer::parse(sdp.as_bytes()).unwrap();
        assert_eq!(
            offer.connection_address,
            "10.0.0.2".parse::<IpAddr>().unwrap()
        );
        assert_eq!(offer.direction, MediaDirection::SendOnly);
        assert_eq!(
            offer.negotiate().unwrap().direction,
            MediaDirection::RecvOnly
        );
    }

    #[test]
    fn rejects_srtp_missing_audio_and_garbage_without_panicking() {
        let srtp = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 6000 RTP/SAVP 0\r\n";
        assert!(matches!(
            SdpOffer::parse(srtp.as_bytes()),
            Err(SdpError::UnsupportedProfile(_))
        ));
        let video = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=video 6000 RTP/AVP 96\r\n";
        assert!(matches!(
            SdpOffer::parse(video.as_bytes()),
            Err(SdpError::NoAudio)
        ));
        for junk in [
            &b"\xff\xfe"[..],
            b"m=audio x",
            b"m=audio 1 RTP/AVP 0\nc=IN IP4 nope",
            b"",
        ] {
            assert!(SdpOffer::parse(junk).is_err());
        }
        let zero = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 0 RTP/AVP 0\r\n";
        assert!(matches!(
            SdpOffer::parse(zero.as_bytes()).unwrap().negotiate(),
            Err(SdpError::AudioRejectedByOfferer)
        ));
    }

    #[test]
    fn hold_offers_stop_our_sending() {
        let hold = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 6000 RTP/AVP 0\r\na=sendonly\r\n";
        let ours = SdpOffer::parse(hold.as_bytes())
            .unwrap()
            .negotiate()
            .unwrap()
            .direction;
        assert_eq!(ours, MediaDirection::RecvOnly);
        assert!(!ours.sends() && ours.receives());
        let inactive = hold.replace("sendonly", "inactive");
        let ours = SdpOffer::parse(inactive.as_bytes())
            .unwrap()
            .negotiate()
            .unwrap()
            .direction;
        assert!(!ours.sends() && !ours.receives());
    }
}
