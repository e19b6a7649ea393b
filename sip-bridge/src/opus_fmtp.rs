//! The Opus parameters of an SDP offer (RFC 7587 §6.1) and the ones we answer with.
//!
//! What the peer writes on its `a=fmtp` line for Opus describes what it wants to *receive*:
//! `useinbandfec=1` (send FEC), `maxaveragebitrate`, `cbr=1`, `maxplaybackrate`. Our answer
//! says what we want: FEC, mono, and nothing above 16 kHz (the engine's rate), so the peer's
//! encoder spends no bits on audio we would throw away.

use std::fmt::Write as _;

/// Samples per second the engine works at; the most we ask a peer to encode.
const OUR_PLAYBACK_RATE: u32 = hotline_audio::SAMPLE_RATE;

/// The parameters a peer gave for the Opus payload type (defaults per RFC 7587 when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OpusFmtp {
    /// The peer can use in-band FEC: we should send it.
    pub use_inband_fec: bool,
    /// The peer wants constant bitrate.
    pub cbr: bool,
    /// The most bit/s the peer wants to receive on average.
    pub max_average_bitrate: Option<u32>,
    /// The highest rate the peer plays out (8000 means narrowband is enough).
    pub max_playback_rate: Option<u32>,
    /// The peer prefers to receive stereo (we send mono regardless, which is always allowed).
    pub stereo: bool,
}

impl OpusFmtp {
    /// Reads `a=fmtp:<pt> key=value;key=value` parameters (the part after the payload type).
    /// Unknown keys and malformed values are ignored, as RFC 7587 asks.
    pub fn parse(parameters: &str) -> OpusFmtp {
        let mut fmtp = OpusFmtp::default();
        for pair in parameters.split(';') {
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            let value = value.trim();
            let flag = value == "1";
            let number = value.parse::<u32>().ok();
            match key.trim().to_ascii_lowercase().as_str() {
                "useinbandfec" => fmtp.use_inband_fec = flag,
                "cbr" => fmtp.cbr = flag,
                "stereo" => fmtp.stereo = flag,
                "maxaveragebitrate" => {
                    fmtp.max_average_bitrate = number.filter(|b| (6000..=510_000).contains(b));
                }
                "maxplaybackrate" => {
                    fmtp.max_playback_rate = number.filter(|r| (8000..=48_000).contains(r));
                }
                _ => {}
            }
        }
        fmtp
    }
}

/// Writes our `a=fmtp` line for Opus payload type `pt`: FEC welcome, mono, 16 kHz at most.
pub fn write_answer_fmtp(sdp: &mut String, pt: u8) {
    let _ = write!(
        sdp,
        "a=fmtp:{pt} useinbandfec=1;stereo=0;sprop-stereo=0;\
         maxplaybackrate={OUR_PLAYBACK_RATE};sprop-maxcapturerate={OUR_PLAYBACK_RATE}\r\n"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_phones_send_and_ignores_the_rest() {
        let fmtp = OpusFmtp::parse("minptime=10; useinbandfec=1;maxaveragebitrate=20000;stereo=1");
        assert_eq!(
            fmtp,
            OpusFmtp {
                use_inband_fec: true,
                cbr: false,
                max_average_bitrate: Some(20_000),
                max_playback_rate: None,
                stereo: true,
            }
        );
        let odd = OpusFmtp::parse("CBR=1;maxplaybackrate=8000;maxaveragebitrate=9;junk;=;x=");
        assert!(odd.cbr && !odd.use_inband_fec);
        assert_eq!(odd.max_playback_rate, Some(8000));
        assert_eq!(odd.max_average_bitrate, None, "9 bit/s is out of range");
        assert_eq!(OpusFmtp::parse(""), OpusFmtp::default());
    }

    #[test]
    fn our_answer_asks_for_fec_mono_and_16_khz() {
        let mut sdp = String::new();
        write_answer_fmtp(&mut sdp, 111);
        assert_eq!(
            sdp,
            "a=fmtp:111 useinbandfec=1;stereo=0;sprop-stereo=0;maxplaybackrate=16000;\
             sprop-maxcapturerate=16000\r\n"
        );
        let back = OpusFmtp::parse(sdp.trim_end().trim_start_matches("a=fmtp:111 "));
        assert!(back.use_inband_fec && !back.stereo);
        assert_eq!(back.max_playback_rate, Some(16_000));
    }
}
