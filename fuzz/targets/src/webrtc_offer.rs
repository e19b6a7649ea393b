//! A browser's SDP offer as POSTed to the signalling route: the offer check, then the WebRTC
//! stack's SDP parser on what the check accepts (as the peer connection would).

use std::io::Cursor;

use rtc_sdp::description::session::SessionDescription;

use crate::engine_parsers::offer_check::{OfferError, check_offer};

/// The default `[webrtc] max_offer_bytes`.
const LIMIT: usize = 65_536;

pub fn run(data: &[u8]) {
    match check_offer(data, LIMIT) {
        Ok(text) => {
            assert_eq!(text.as_bytes(), data);
            if let Ok(description) = SessionDescription::unmarshal(&mut Cursor::new(text)) {
                let _ = description.marshal();
            }
        }
        Err(error) => {
            assert!([400, 413, 415].contains(&error.status()));
            if let OfferError::NoOpus { offered } = &error {
                assert!(offered.split(", ").count() <= 8);
            }
            let _ = error.to_string();
        }
    }
}
