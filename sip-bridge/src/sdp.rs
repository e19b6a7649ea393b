//! SDP offer/answer for one audio stream (RFC 3264), without I/O.
//!
//! A trunk's INVITE carries an offer; we pick the first G.711 codec in the caller's order,
//! keep telephone-event if offered, and render an answer. Parsing is deliberately small and
//! tolerant: only what a G.711 telephone call needs, and never a panic on odd input.

use std::fmt::Write as _;
use std::net::IpAddr;

use crate::error::SdpError;

/// A G.711 codec we can speak on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioCodec {
    /// G.711 μ-law (static payload type 0).
    Pcmu,
    /// G.711 A-law (static payload type 8).
    Pcma,
}

impl AudioCodec {
    /// The encoding name as it appears in `a=rtpmap`.
    pub fn encoding_name(self) -> &'static str {
        match self {
            AudioCodec::Pcmu => "PCMU",
            AudioCodec::Pcma => "PCMA",
        }
    }
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

    fn attribute(self) -> &'static str {
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
}

/// The parts of an SDP offer that matter for a G.711 call.
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
    /// Payload type the caller used for the codec (normally the static one).
    pub codec_payload_type: u8,
    /// Payload type of telephone-event/8000, when the caller offered it.
    pub telephone_event_payload_type: Option<u8>,
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
                match (mapped, static_encoding(pt)) {
                    (Some((_, name, rate)), _) => OfferedFormat {
                        payload_type: pt,
                        encoding: Some(name.clone()),
                        clock_rate: Some(*rate),
                    },
                    (None, Some((name, rate))) => OfferedFormat {
                        payload_type: pt,
                        encoding: Some(name.to_string()),
                        clock_rate: Some(rate),
                    },
                    (None, None) => OfferedFormat {
                        payload_type: pt,
                        encoding: None,
                        clock_rate: None,
                    },
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

    /// Picks the first G.711 codec in the caller's order, and telephone-event/8000 if offered.
    pub fn negotiate(&self) -> Result<NegotiatedMedia, SdpError> {
        if self.audio_port == 0 {
            return Err(SdpError::AudioRejectedByOfferer);
        }
        let codec = self.formats.iter().find_map(|f| {
            let name = f.encoding.as_deref()?;
            if f.clock_rate != Some(8000) {
                return None;
            }
            match name {
                "PCMU" => Some((AudioCodec::Pcmu, f.payload_type)),
                "PCMA" => Some((AudioCodec::Pcma, f.payload_type)),
                _ => None,
            }
        });
        let Some((codec, codec_payload_type)) = codec else {
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
        let telephone_event_payload_type = self
            .formats
            .iter()
            .find(|f| {
                f.encoding.as_deref() == Some("TELEPHONE-EVENT") && f.clock_rate == Some(8000)
            })
            .map(|f| f.payload_type);
        Ok(NegotiatedMedia {
            codec,
            codec_payload_type,
            telephone_event_payload_type,
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

/// Renders our SDP answer for the negotiated media.
///
/// `session_version` must grow when a later answer/offer changes the session (re-INVITE).
pub fn render_answer(
    media: &NegotiatedMedia,
    local_ip: IpAddr,
    local_rtp_port: u16,
    session_id: u64,
    session_version: u64,
) -> String {
    let ip_kind = if local_ip.is_ipv4() { "IP4" } else { "IP6" };
    let mut pts = media.codec_payload_type.to_string();
    if let Some(te) = media.telephone_event_payload_type {
        let _ = write!(pts, " {te}");
    }
    let mut sdp = String::with_capacity(256);
    let _ = write!(
        sdp,
        "v=0\r\no=hotline {session_id} {session_version} IN {ip_kind} {local_ip}\r\n\
         s=hotline\r\nc=IN {ip_kind} {local_ip}\r\nt=0 0\r\n\
         m=audio {local_rtp_port} RTP/AVP {pts}\r\n\
         a=rtpmap:{} {}/8000\r\n",
        media.codec_payload_type,
        media.codec.encoding_name()
    );
    if let Some(te) = media.telephone_event_payload_type {
        let _ = write!(
            sdp,
            "a=rtpmap:{te} telephone-event/8000\r\na=fmtp:{te} 0-16\r\n"
        );
    }
    let _ = write!(sdp, "a=ptime:20\r\na={}\r\n", media.direction.attribute());
    sdp
}

/// Payload type we offer for telephone-event on outbound INVITEs.
pub const OFFERED_TELEPHONE_EVENT_PT: u8 = 101;

/// Renders our SDP offer for an outbound call (the agent leg of a bridged transfer):
/// PCMU, PCMA and telephone-event/8000, send and receive.
pub fn render_offer(
    local_ip: IpAddr,
    local_rtp_port: u16,
    session_id: u64,
    session_version: u64,
) -> String {
    let ip_kind = if local_ip.is_ipv4() { "IP4" } else { "IP6" };
    let te = OFFERED_TELEPHONE_EVENT_PT;
    format!(
        "v=0\r\no=hotline {session_id} {session_version} IN {ip_kind} {local_ip}\r\n\
         s=hotline\r\nc=IN {ip_kind} {local_ip}\r\nt=0 0\r\n\
         m=audio {local_rtp_port} RTP/AVP 0 8 {te}\r\n\
         a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:{te} telephone-event/8000\r\na=fmtp:{te} 0-16\r\n\
         a=ptime:20\r\na=sendrecv\r\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINPHONE_LIKE: &str = "v=0\r\no=alice 1 1 IN IP4 192.0.2.10\r\ns=call\r\n\
        c=IN IP4 192.0.2.10\r\nt=0 0\r\n\
        m=audio 40000 RTP/AVP 96 8 0 101\r\n\
        a=rtpmap:96 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n\
        a=fmtp:101 0-16\r\na=ptime:20\r\n";

    #[test]
    fn picks_first_g711_in_callers_order_and_keeps_telephone_event() {
        let offer = SdpOffer::parse(LINPHONE_LIKE.as_bytes()).unwrap();
        assert_eq!(offer.formats.len(), 4);
        let media = offer.negotiate().unwrap();
        assert_eq!(media.codec, AudioCodec::Pcma);
        assert_eq!(media.codec_payload_type, 8);
        assert_eq!(media.telephone_event_payload_type, Some(101));
        assert_eq!(media.remote_rtp, "192.0.2.10:40000".parse().unwrap());
        assert_eq!(offer.ptime_ms, Some(20));
    }

    #[test]
    fn pcmu_first_wins_when_offered_first() {
        let sdp = "v=0\nc=IN IP4 10.0.0.1\nm=audio 5004 RTP/AVP 0 8\n";
        let media = SdpOffer::parse(sdp.as_bytes())
            .unwrap()
            .negotiate()
            .unwrap();
        assert_eq!(media.codec, AudioCodec::Pcmu);
        assert_eq!(media.telephone_event_payload_type, None);
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
    fn offer_parses_back_and_an_answer_to_it_negotiates() {
        let offer = render_offer("127.0.0.1".parse().unwrap(), 20000, 5, 1);
        let parsed = SdpOffer::parse(offer.as_bytes()).unwrap();
        assert_eq!(parsed.audio_port, 20000);
        assert_eq!(parsed.formats.len(), 3);
        let media = parsed.negotiate().unwrap();
        assert_eq!(media.codec, AudioCodec::Pcmu);
        assert_eq!(media.telephone_event_payload_type, Some(101));
        // The agent answers PCMA only: that is what we then send.
        let answer = "v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 7000 RTP/AVP 8\r\na=sendrecv\r\n";
        let agreed = SdpOffer::parse(answer.as_bytes())
            .unwrap()
            .negotiate()
            .unwrap();
        assert_eq!(agreed.codec, AudioCodec::Pcma);
        assert!(agreed.direction.sends() && agreed.direction.receives());
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

    #[test]
    fn answer_round_trips_through_the_parser() {
        let offer = SdpOffer::parse(LINPHONE_LIKE.as_bytes()).unwrap();
        let media = offer.negotiate().unwrap();
        let answer = render_answer(&media, "127.0.0.1".parse().unwrap(), 10002, 7, 1);
        assert!(
            answer.contains("m=audio 10002 RTP/AVP 8 101\r\n"),
            "{answer}"
        );
        assert!(answer.contains("a=fmtp:101 0-16\r\n"));
        let reparsed = SdpOffer::parse(answer.as_bytes()).unwrap();
        assert_eq!(reparsed.audio_port, 10002);
        let back = reparsed.negotiate().unwrap();
        assert_eq!(back.codec, AudioCodec::Pcma);
        assert_eq!(back.telephone_event_payload_type, Some(101));
    }
}
