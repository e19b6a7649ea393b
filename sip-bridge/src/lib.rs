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
//!             CallEvent::AgentAudio(_) => {} // after a bridged transfer
//!             CallEvent::HangUp(_) => break,
//!         }
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! A caller the bridge does not carry (a browser call) is handed to a human with
//! [`AgentDialer::dial`]: the same agent call as a bridged transfer (hold audio, briefing),
//! yielding an [`AgentLeg`] that takes the caller's frames and gives the agent's.
//!
//! Modules without I/O (testable with no sockets): [`sdp`], [`opus_fmtp`], [`jitter_buffer`],
//! [`dtmf_event`], [`dtmf_sender`], [`rtp_packet`], [`pacing_clock`], [`edge_codec`],
//! [`g711_edge`].

mod agent_briefing;
mod agent_call;
mod agent_leg;
mod blind_transfer;
mod bridge_shared;
mod bridged_transfer;
mod call;
mod call_gate;
mod config;
mod digest_guard;
pub mod dtmf_event;
pub mod dtmf_relay;
pub mod dtmf_sender;
pub mod edge_codec;
mod error;
mod frame_forward;
pub mod g711_edge;
mod hold_audio;
mod hold_player;
mod in_dialog_requests;
mod incoming_call;
pub mod jitter_buffer;
mod media_session;
pub mod opus_fmtp;
mod outbound_queue;
pub mod pacing_clock;
pub mod raw_sip_message;
mod request_guard;
pub mod rtcp_report;
pub mod rtp_packet;
mod rtp_ports;
mod rtp_sender;
mod scanner_filter;
mod screened_tcp;
mod screened_udp;
pub mod sdp;
mod sdp_render;
mod send_lateness;
mod sip_bridge;
pub mod sip_screen;
pub mod sipfrag;
mod source_rate_limit;
mod transfer;
mod transfer_request;
mod trunk_registration;

pub use agent_briefing::{AgentBriefing, BriefingSender};
pub use agent_leg::{AgentDial, AgentDialer, AgentLeg, CallerAudio};
pub use call::{Call, CallControl, CallEvent, CallInfo, HangUpReason};
pub use call_gate::{Availability, BusyAnswer, CallGate};
pub use config::{BridgeConfig, TrunkRegistration};
pub use digest_guard::{InboundAuth, SipUser};
pub use error::{BridgeError, ConfigError, DtmfSendError, EdgeCodecError, RtpError, SdpError};
pub use hold_audio::HoldAudio;
pub use hold_player::HoldSink;
pub use incoming_call::{IncomingCall, RejectReason};
pub use media_session::MediaStats;
pub use request_guard::{DoorCounts, door_counts};
pub use scanner_filter::KNOWN_SCANNERS;
pub use sdp::{AudioCodec, TelephoneEventFormat};
pub use send_lateness::{SendLateness, send_lateness};
pub use sip_bridge::SipBridge;
pub use source_rate_limit::RequestRate;
pub use transfer_request::{
    TransferCompleted, TransferError, TransferMode, TransferRequest, TransferResult,
};
pub use trunk_registration::RegistrationState;
