//! A first look at a browser's SDP offer, before the WebRTC stack parses it: the refusals a
//! page needs to fix its code (no audio, no Opus, not SDP at all) come with a reason, and an
//! offer that is too large never reaches the parser.

/// Why an offer was refused. `status` is the HTTP status the signalling route answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfferError {
    #[error(
        "the offer is empty: POST the browser's SDP offer (pc.localDescription.sdp) as application/sdp"
    )]
    Empty,
    #[error("the offer is {len} bytes, more than the {limit} accepted ([webrtc] max_offer_bytes)")]
    TooLarge { len: usize, limit: usize },
    #[error("the offer is not UTF-8 text: POST the SDP text itself")]
    NotText,
    #[error(
        "the offer is not SDP (it must start with \"v=0\"): POST pc.localDescription.sdp, not JSON"
    )]
    NotSdp,
    #[error(
        "the offer has no audio section: add the microphone track (addTrack) before createOffer"
    )]
    NoAudio,
    #[error(
        "the offer's audio offers no Opus (only {offered}): hotline's browser calls speak Opus"
    )]
    NoOpus { offered: String },
    #[error(
        "the offer has no ICE credentials or DTLS fingerprint: send a WebRTC offer from RTCPeerConnection"
    )]
    NotWebRtc,
}

impl OfferError {
    /// 415 when the media cannot be spoken, 413 when too large, else 400.
    pub fn status(&self) -> u16 {
        match self {
            OfferError::NoOpus { .. } => 415,
            OfferError::TooLarge { .. } => 413,
            _ => 400,
        }
    }
}

/// Checks `body` and returns it as text when it can be answered.
pub fn check_offer(body: &[u8], limit: usize) -> Result<&str, OfferError> {
    if body.len() > limit {
        return Err(OfferError::TooLarge {
            len: body.len(),
            limit,
        });
    }
    let text = std::str::from_utf8(body).map_err(|_| OfferError::NotText)?;
    if text.trim().is_empty() {
        return Err(OfferError::Empty);
    }
    if !text.trim_start().starts_with("v=0") {
        return Err(OfferError::NotSdp);
    }
    let mut in_audio = false;
    let mut saw_audio = false;
    let mut has_opus = false;
    let mut offered = Vec::new();
    let mut has_ufrag = false;
    let mut has_fingerprint = false;
    for line in text.lines().map(str::trim) {
        if let Some(media) = line.strip_prefix("m=") {
            in_audio = media.starts_with("audio ");
            saw_audio |= in_audio;
            continue;
        }
        has_ufrag |= line.starts_with("a=ice-ufrag:");
        has_fingerprint |= line.starts_with("a=fingerprint:");
        if in_audio && let Some(map) = line.strip_prefix("a=rtpmap:") {
            let codec = map.split_whitespace().nth(1).unwrap_or("");
            let name = codec.split('/').next().unwrap_or("");
            if name.eq_ignore_ascii_case("opus") {
                has_opus = true;
            } else if !name.is_empty() && offered.len() < 8 {
                offered.push(name.to_string());
            }
        }
    }
    if !saw_audio {
        return Err(OfferError::NoAudio);
    }
    if !has_opus {
        let offered = if offered.is_empty() {
            "no codec".to_string()
        } else {
            offered.join(", ")
        };
        return Err(OfferError::NoOpus { offered });
    }
    if !has_ufrag || !has_fingerprint {
        return Err(OfferError::NotWebRtc);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME_LIKE: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n\
        a=fingerprint:sha-256 AA:BB\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\n\
        a=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\na=mid:0\r\na=sendrecv\r\n\
        a=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\n\
        m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:1\r\n";

    #[test]
    fn a_browser_offer_passes() {
        assert!(check_offer(CHROME_LIKE.as_bytes(), 65536).is_ok());
    }

    #[test]
    fn refusals_say_what_to_fix() {
        assert_eq!(check_offer(b"", 100), Err(OfferError::Empty));
        assert_eq!(check_offer(b"{\"sdp\":1}", 100), Err(OfferError::NotSdp));
        assert_eq!(check_offer(&[0xff, 0xfe], 100), Err(OfferError::NotText));
        assert!(matches!(
            check_offer(&[b'v'; 200], 100),
            Err(OfferError::TooLarge { len: 200, .. })
        ));
        let no_audio = "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
        assert_eq!(
            check_offer(no_audio.as_bytes(), 1000),
            Err(OfferError::NoAudio)
        );
        let pcmu_only = CHROME_LIKE.replace("a=rtpmap:111 opus/48000/2\r\n", "");
        let error = check_offer(pcmu_only.as_bytes(), 65536).unwrap_err();
        assert_eq!(error.status(), 415);
        assert!(error.to_string().contains("PCMU"), "{error}");
        let no_ice = CHROME_LIKE.replace("a=ice-ufrag:abcd\r\n", "");
        assert_eq!(
            check_offer(no_ice.as_bytes(), 65536),
            Err(OfferError::NotWebRtc)
        );
    }
}
