//! Precise error types of the bridge: each says what went wrong and what to do about it.

use std::net::SocketAddr;

/// Why an SDP offer could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SdpError {
    #[error("SDP body is not UTF-8 text; the peer must send application/sdp as text")]
    NotUtf8,
    #[error("SDP has no audio m-line; offer an m=audio stream with Opus, PCMU or PCMA")]
    NoAudio,
    #[error("SDP m=audio line is malformed; expected `m=audio <port> RTP/AVP <payload types>`")]
    BadMediaLine,
    #[error(
        "SDP audio uses profile {0}; only plain RTP/AVP is supported (disable SRTP on the trunk)"
    )]
    UnsupportedProfile(String),
    #[error("SDP has no usable c= line; add `c=IN IP4 <address>` at session or media level")]
    NoConnectionAddress,
    #[error("SDP c= line `{0}` is malformed; expected `IN IP4|IP6 <address>`")]
    BadConnectionLine(String),
    #[error("SDP offers the audio stream with port 0 (stream disabled); nothing to answer")]
    AudioRejectedByOfferer,
    #[error(
        "no common codec: the offer has [{offered}]; enable opus/48000/2 or PCMU/PCMA (G.711) on the trunk"
    )]
    NoCommonCodec { offered: String },
}

/// Why an RTP (or telephone-event) payload was dropped.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RtpError {
    #[error("RTP datagram of {0} bytes is shorter than its header; dropped")]
    TooShort(usize),
    #[error("RTP version {0} is not 2; dropped (is this RTCP or STUN on the RTP port?)")]
    BadVersion(u8),
    #[error("RTP header fields (CSRC, extension or padding) run past the datagram; dropped")]
    Truncated,
}

/// Why the codec at the call's edge could not start or convert audio.
#[derive(Debug, thiserror::Error)]
pub enum EdgeCodecError {
    #[error("G.711 edge: {0}")]
    Resample(#[from] hotline_audio::resample::ResampleError),
    #[error("Opus edge: {0}")]
    Opus(#[from] hotline_audio::opus::OpusError),
}

/// Why a DTMF key could not be sent to the caller (RFC 4733 telephone-events).
#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
pub enum DtmfSendError {
    #[error("`{0}` is not a DTMF key; send one of 0-9, *, #, A-D")]
    NotAKey(char),
    #[error(
        "a DTMF key of {millis} ms cannot be sent; give a duration of 40-1000 ms (100 ms is usual)"
    )]
    BadDuration { millis: u128 },
    #[error(
        "the caller's SDP did not offer telephone-event (RFC 4733), so keys cannot be sent in \
         RTP; the peer must enable RFC 2833/4733 DTMF"
    )]
    NoTelephoneEvent,
    #[error(
        "the caller has put the call on hold (we send no RTP); send keys after the call resumes"
    )]
    OnHold,
    #[error(
        "the line belongs to a transfer (hold audio or the agent); keys go to the caller only \
         while the engine owns the line"
    )]
    Transferred,
    #[error("{queued} keys are already waiting to be sent; wait until they have gone out")]
    QueueFull { queued: usize },
    #[error("the call has ended; no keys can be sent")]
    CallEnded,
}

/// Configuration that cannot work.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("RTP port range {min}-{max} is empty or too small; give at least 2 ports, min < max")]
    EmptyRtpPortRange { min: u16, max: u16 },
    #[error("no SIP listener configured; set a UDP and/or TCP listen address")]
    NoListener,
    #[error(
        "trunk allowlist is empty and inbound auth is off: every call would be rejected; add the trunk/PBX source addresses or inbound digest users"
    )]
    EmptyAllowlist,
    #[error("inbound auth needs a realm and at least one user; add them or remove inbound_auth")]
    EmptyInboundAuth,
    #[error("registrar `{0}` is not a sip:/sips: URI with a username; write it as sip:host[:port]")]
    BadRegistration(String),
    #[error(
        "request_rate of {per_second} per second with a burst of {burst} lets nothing through: give a rate above 0 and a burst of at least 1, or no limit"
    )]
    BadRequestRate { per_second: String, burst: u32 },
}

/// Failures of the running bridge.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "cannot bind SIP {transport} listener on {addr}: {source}; is the port free and allowed?"
    )]
    BindSip {
        transport: &'static str,
        addr: SocketAddr,
        source: rsipstack::Error,
    },
    #[error("no free RTP port pair in {min}-{max}; widen the range or lower concurrent calls")]
    RtpPortsExhausted { min: u16, max: u16 },
    #[error("SIP stack refused the operation: {0}")]
    Sip(#[from] rsipstack::Error),
    #[error("the caller hung up (or cancelled) before the call was answered")]
    CallerGone,
    #[error("the bridge has shut down; create a new SipBridge")]
    BridgeStopped,
}
