//! An SDP offer from a trunk (the INVITE's body): parse, negotiate, render our answer, and
//! read that answer back: it must offer exactly the negotiated codec, events and address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use sip_bridge::opus_fmtp::OpusFmtp;
use sip_bridge::sdp::{SdpOffer, render_answer, render_offer};

pub fn run(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        // The fmtp reader sees any text after `a=fmtp:<pt> `.
        let fmtp = OpusFmtp::parse(text);
        assert!(
            fmtp.max_average_bitrate
                .is_none_or(|b| (6000..=510_000).contains(&b))
        );
        assert!(
            fmtp.max_playback_rate
                .is_none_or(|r| (8000..=48_000).contains(&r))
        );
    }
    let Ok(offer) = SdpOffer::parse(data) else {
        return;
    };
    assert!(offer.formats.iter().all(|f| f.payload_type < 128));
    let Ok(media) = offer.negotiate() else {
        return;
    };
    assert_ne!(media.remote_rtp.port(), 0);
    let offered = offer
        .formats
        .iter()
        .find(|f| f.payload_type == media.codec_payload_type)
        .expect("the negotiated payload type was offered");
    assert_eq!(offered.clock_rate, Some(media.codec.clock_rate()));
    for local in [
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ] {
        let answer = render_answer(&media, local, 40_000, 1, 2);
        let back = SdpOffer::parse(answer.as_bytes()).expect("our answer parses");
        assert_eq!(back.connection_address, local);
        assert_eq!(back.audio_port, 40_000);
        assert_eq!(back.formats[0].payload_type, media.codec_payload_type);
        let again = back.negotiate().expect("our answer negotiates");
        assert_eq!(again.codec, media.codec);
        assert_eq!(again.telephone_event, media.telephone_event);
        assert_eq!(again.direction, media.direction.answer());
    }
    let ours = render_offer(IpAddr::V4(Ipv4Addr::LOCALHOST), 40_002, 1, 1);
    assert!(SdpOffer::parse(ours.as_bytes()).is_ok_and(|o| o.negotiate().is_ok()));
}
