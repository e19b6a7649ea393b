//! sip-bridge: answers phone calls from a SIP trunk or PBX and hands the engine 16 kHz frames.
//!
//! Built on rsipstack (transactions, dialogs, UDP/TCP). It knows nothing of the engine above it.
//!
//! ```no_run
//! # async fn run() -> Result<(), sip_bridge::BridgeError> {
//! use sip_bridge::{BridgeConfig, CallEvent, SipBridge};
//! let config = BridgeConfig {
//!     trunk_allowlist: vec!["192.0.2.10".parse().unwrap()],
//!     ..BridgeConfig::default()
//! };
//! let mut bridge = SipBridge::start(config).await?;
//! while let Some(incoming) = bridge.accept().await {
//!     let mut call = incoming.answer().await?;
//!     let control = call.control();
//!     while let Some(event) = call.recv().await {
//!         match event {
//!             CallEvent::Audio(frame) => control.send_frame(frame), // echo
//!             CallEvent::Dtmf(_) => { control.flush(); }
//!             CallEvent::HangUp(_) => break,
//!         }
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! Modules without I/O (testable with no sockets): [`sdp`], [`jitter_buffer`], [`dtmf_event`],
//! [`rtp_packet`], [`pacing_clock`], [`edge_codec`].

mod call;
mod config;
pub mod dtmf_event;
pub mod edge_codec;
mod error;
mod incoming_call;
pub mod jitter_buffer;
mod media_session;
mod outbound_queue;
pub mod pacing_clock;
pub mod rtp_packet;
mod rtp_ports;
pub mod sdp;
mod sip_bridge;

pub use call::{Call, CallControl, CallEvent, CallInfo, HangUpReason};
pub use config::BridgeConfig;
pub use error::{BridgeError, ConfigError, RtpError, SdpError};
pub use incoming_call::{IncomingCall, RejectReason};
pub use media_session::MediaStats;
pub use sdp::AudioCodec;
pub use sip_bridge::SipBridge;
