//! Our side of SDP, without I/O: the answer to a caller's offer (Opus with its fmtp, or
//! G.711; telephone-event at the rate the caller offered it) and the offer we send an agent
//! on a bridged transfer (G.711 and telephone-event/8000).

use std::fmt::Write as _;
use std::net::IpAddr;

use crate::opus_fmtp::write_answer_fmtp;
use crate::sdp::{AudioCodec, NegotiatedMedia};

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
    if let Some(te) = media.telephone_event {
        let _ = write!(pts, " {}", te.payload_type);
    }
    let mut sdp = String::with_capacity(256);
    let _ = write!(
        sdp,
        "v=0\r\no=hotline {session_id} {session_version} IN {ip_kind} {local_ip}\r\n\
         s=hotline\r\nc=IN {ip_kind} {local_ip}\r\nt=0 0\r\n\
         m=audio {local_rtp_port} RTP/AVP {pts}\r\n\
         a=rtpmap:{} {}\r\n",
        media.codec_payload_type,
        media.codec.rtpmap()
    );
    if media.codec == AudioCodec::Opus {
        write_answer_fmtp(&mut sdp, media.codec_payload_type);
    }
    if let Some(te) = media.telephone_event {
        let (pt, rate) = (te.payload_type, te.clock_rate);
        let _ = write!(
            sdp,
            "a=rtpmap:{pt} telephone-event/{rate}\r\na=fmtp:{pt} 0-16\r\n"
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
    use crate::sdp::SdpOffer;
    use crate::sdp::test_offers::{LINPHONE_LIKE, event_pt};

    #[test]
    fn opus_answer_has_rtpmap_fmtp_and_events_at_the_offered_rate() {
        let sdp = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 5004 RTP/AVP 0 111 100\r\n\
                   a=rtpmap:111 opus/48000/2\r\na=rtpmap:100 telephone-event/48000\r\n";
        let media = SdpOffer::parse(sdp.as_bytes())
            .unwrap()
            .negotiate()
            .unwrap();
        let answer = render_answer(&media, "127.0.0.1".parse().unwrap(), 10002, 7, 1);
        for line in [
            "m=audio 10002 RTP/AVP 111 100\r\n",
            "a=rtpmap:111 opus/48000/2\r\n",
            "a=fmtp:111 useinbandfec=1;",
            "a=rtpmap:100 telephone-event/48000\r\na=fmtp:100 0-16\r\n",
            "a=ptime:20\r\n",
        ] {
            assert!(answer.contains(line), "{line:?} missing from\n{answer}");
        }
        let back = SdpOffer::parse(answer.as_bytes())
            .unwrap()
            .negotiate()
            .unwrap();
        assert_eq!(back.codec, AudioCodec::Opus);
        assert!(back.opus.use_inband_fec);
        assert_eq!(back.telephone_event, media.telephone_event);
        // A G.711 answer carries no Opus fmtp.
        let pcmu = render_answer(
            &SdpOffer::parse(sdp.replace(" 111", "").as_bytes())
                .unwrap()
                .negotiate()
                .unwrap(),
            "127.0.0.1".parse().unwrap(),
            10002,
            7,
            2,
        );
        assert!(pcmu.contains("a=rtpmap:0 PCMU/8000\r\n") && !pcmu.contains("useinbandfec"));
    }

    #[test]
    fn offer_parses_back_and_an_answer_to_it_negotiates() {
        let offer = render_offer("127.0.0.1".parse().unwrap(), 20000, 5, 1);
        let parsed = SdpOffer::parse(offer.as_bytes()).unwrap();
        assert_eq!(parsed.audio_port, 20000);
        assert_eq!(parsed.formats.len(), 3);
        let media = parsed.negotiate().unwrap();
        assert_eq!(media.codec, AudioCodec::Pcmu);
        assert_eq!(event_pt(&media), Some(101));
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
    fn answer_round_trips_through_the_parser() {
        let g711_only = LINPHONE_LIKE.replace(" 96 8 0 101", " 8 0 101");
        let offer = SdpOffer::parse(g711_only.as_bytes()).unwrap();
        let media = offer.negotiate().unwrap();
        assert_eq!(
            media.codec,
            AudioCodec::Pcma,
            "first G.711 in the caller's order"
        );
        let answer = render_answer(&media, "127.0.0.1".parse().unwrap(), 10002, 7, 1);
        assert!(
            answer.contains("m=audio 10002 RTP/AVP 8 101\r\n"),
            "{answer}"
        );
        assert!(answer.contains("a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"));
        let reparsed = SdpOffer::parse(answer.as_bytes()).unwrap();
        assert_eq!(reparsed.audio_port, 10002);
        let back = reparsed.negotiate().unwrap();
        assert_eq!(back.codec, AudioCodec::Pcma);
        assert_eq!(event_pt(&back), Some(101));
    }
}
