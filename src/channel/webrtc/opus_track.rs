//! The audio both ends of a browser call speak: Opus as browsers offer it (48 kHz stereo in the
//! SDP, in-band FEC), a media engine that offers nothing else, and a local track that sends
//! it. Public so that a test's own browser (webrtc-rs) speaks exactly what the engine expects.

use std::sync::Arc;
use std::time::Instant;

use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::MIME_TYPE_OPUS;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::peer_connection::{MediaEngine, Registry, register_default_interceptors};

/// The payload type Chromium and Firefox give Opus; an answer follows the offer's anyway.
pub const OPUS_PAYLOAD_TYPE: u8 = 111;

/// Opus as browsers describe it.
pub fn opus_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

/// A media engine with Opus alone, and the default interceptors (RTCP reports, NACK, TWCC).
pub fn opus_media_engine() -> webrtc::error::Result<(MediaEngine, Registry)> {
    let mut media_engine = MediaEngine::default();
    media_engine.register_codec(
        RTCRtpCodecParameters {
            rtp_codec: opus_codec(),
            payload_type: OPUS_PAYLOAD_TYPE,
        },
        RtpCodecKind::Audio,
    )?;
    let registry = register_default_interceptors(Registry::new(), &mut media_engine)?;
    Ok((media_engine, registry))
}

/// A local Opus track sending from `ssrc`: track `track_id` of stream `stream_id`.
pub fn opus_track(
    stream_id: &str,
    track_id: &str,
    label: &str,
    ssrc: u32,
) -> webrtc::error::Result<Arc<TrackLocalStaticSample>> {
    let track = MediaStreamTrack::new(
        stream_id.to_string(),
        track_id.to_string(),
        label.to_string(),
        RtpCodecKind::Audio,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec: opus_codec(),
            ..Default::default()
        }],
    );
    Ok(Arc::new(TrackLocalStaticSample::new(
        Instant::now(),
        track,
    )?))
}
