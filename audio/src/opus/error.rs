//! Why the Opus codec refused to start, to encode, or to decode a packet.

/// What went wrong in Opus.
#[derive(Debug, thiserror::Error)]
pub enum OpusError {
    /// libopus could not build the encoder or decoder (only an out-of-memory condition or a
    /// broken libopus build does this).
    #[error(
        "cannot create the Opus {what}: {source}; libopus is bundled with the `opus` crate, so \
         this means the process is out of memory or the libopus build is broken (rebuild it)"
    )]
    Create {
        /// "encoder" or "decoder".
        what: &'static str,
        /// libopus's reason.
        source: ::opus::Error,
    },
    /// A setting was refused (a bitrate or percentage out of range).
    #[error(
        "the Opus encoder refused {setting} = {value}: {source}; use a bitrate of 6000-510000 \
         bit/s, a complexity of 0-10 and a loss percentage of 0-100"
    )]
    Configure {
        /// The setting's name.
        setting: &'static str,
        /// The value given.
        value: i64,
        /// libopus's reason.
        source: ::opus::Error,
    },
    /// Encoding one frame failed.
    #[error(
        "Opus could not encode a 20 ms frame: {0}; the packet buffer must hold MAX_PACKET_BYTES"
    )]
    Encode(::opus::Error),
    /// A received packet could not be decoded.
    #[error(
        "Opus packet of {len} bytes is malformed ({source}); treat it as lost (conceal it) and \
         check that the peer's payload type really carries Opus"
    )]
    BadPacket {
        /// Its length in bytes.
        len: usize,
        /// libopus's reason.
        source: ::opus::Error,
    },
    /// An empty payload: libopus reads that as "packet lost", so it is not decoded as audio.
    #[error("empty Opus payload; a lost packet must be concealed with `conceal`, not decoded")]
    EmptyPacket,
}
