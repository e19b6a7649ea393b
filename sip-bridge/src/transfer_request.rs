//! What the engine asks for when it hands a caller to a human, and how that ended.
//!
//! Two ways to transfer: **blind** (REFER: the trunk calls the target and takes the caller away
//! from us) and **bridged** (we call the agent ourselves and relay audio both ways, as a B2BUA,
//! so recording and transcription continue). `BlindThenBridged` tries REFER first and falls back
//! to bridging when the trunk refuses it or the target fails.

use std::time::Duration;

use crate::agent_briefing::AgentBriefing;
use crate::hold_audio::HoldAudio;

/// How to transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransferMode {
    /// REFER only.
    Blind,
    /// Call the agent and bridge media (B2BUA).
    Bridged,
    /// REFER; if refused (4xx/5xx, 501) or the target fails, bridge instead.
    #[default]
    BlindThenBridged,
}

/// A transfer of the caller to a human.
#[derive(Debug, Clone)]
pub struct TransferRequest {
    /// `sip:` or `tel:` URI. Sent unchanged in Refer-To; for a bridged INVITE a `tel:` target
    /// goes to the configured outbound proxy as `sip:<number>@<proxy>`.
    pub target: String,
    pub mode: TransferMode,
    /// Played to the caller while the agent rings (bridged mode).
    pub hold_audio: HoldAudio,
    /// Played to the agent when they answer, before the caller is connected (16 kHz frames,
    /// e.g. a spoken summary of the conversation). The caller keeps hearing hold audio. May be
    /// [`AgentBriefing::pending`], so the transfer (and hold audio) need not wait for TTS.
    pub agent_briefing: Option<AgentBriefing>,
    /// How long the agent may ring (bridged) or the trunk may take to report success (blind).
    pub ring_timeout: Duration,
}

impl TransferRequest {
    /// A transfer with the default mode (REFER, then bridge), soft chime and 30 s ring time.
    pub fn new(target: impl Into<String>) -> TransferRequest {
        TransferRequest {
            target: target.into(),
            mode: TransferMode::default(),
            hold_audio: HoldAudio::default(),
            agent_briefing: None,
            ring_timeout: Duration::from_secs(30),
        }
    }
}

/// A transfer that happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferCompleted {
    /// The trunk connected the caller to the target (NOTIFY 200); we sent BYE on our leg.
    Referred,
    /// The agent answered and the media is bridged; the call's events now carry the caller's
    /// audio as `Audio` and the agent's as `AgentAudio` until one side hangs up.
    Bridged,
}

/// Why a transfer did not happen; in every case the caller is still with the bot
/// (except [`TransferError::CallEnded`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    #[error("a transfer is already in progress on this call; wait for its result")]
    AlreadyInProgress,
    #[error("the call is already transferred or bridged")]
    AlreadyTransferred,
    #[error("transfer target `{0}` is not a sip:, sips: or tel: URI; fix the configured target")]
    InvalidTarget(String),
    #[error(
        "cannot dial `{0}` for a bridged transfer: a tel: target needs `outbound_proxy` in the bridge config"
    )]
    NoRoute(String),
    #[error(
        "the trunk refused REFER with {0}; enable call transfer (REFER) on the trunk, or use bridged mode"
    )]
    ReferRefused(u16),
    #[error("the trunk accepted REFER but the target failed with {0}")]
    ReferTargetFailed(u16),
    #[error("the trunk accepted REFER but reported no outcome in time")]
    ReferNoOutcome,
    #[error("the agent is busy ({0})")]
    AgentBusy(u16),
    #[error("the agent's side rejected the call with {0}")]
    AgentRejected(u16),
    #[error("the agent did not answer in time")]
    NoAnswer,
    #[error("the agent answered with SDP we cannot use: {0}")]
    AgentMedia(String),
    #[error("the caller hung up during the transfer")]
    CallEnded,
    #[error("no RTP ports free for the agent leg; widen the RTP port range")]
    NoRtpPorts,
    #[error("the SIP bridge has stopped; no agent can be called")]
    BridgeStopped,
    #[error("SIP error while transferring: {0}")]
    Sip(String),
    #[error("REFER failed ({refer}); bridging failed too ({bridged})")]
    BothFailed {
        refer: Box<TransferError>,
        bridged: Box<TransferError>,
    },
}

/// The outcome of [`crate::CallControl::transfer`].
pub type TransferResult = Result<TransferCompleted, TransferError>;

/// Checks a target URI's scheme; returns it trimmed of surrounding `<>` and spaces.
pub(crate) fn checked_target(target: &str) -> Result<&str, TransferError> {
    let trimmed = target.trim().trim_start_matches('<').trim_end_matches('>');
    let scheme = trimmed.split(':').next().unwrap_or("").to_ascii_lowercase();
    let has_rest = trimmed
        .split_once(':')
        .is_some_and(|(_, rest)| !rest.is_empty());
    if matches!(scheme.as_str(), "sip" | "sips" | "tel") && has_rest {
        Ok(trimmed)
    } else {
        Err(TransferError::InvalidTarget(target.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_keep_their_text_and_bad_schemes_fail() {
        assert_eq!(checked_target("tel:+85212345678"), Ok("tel:+85212345678"));
        assert_eq!(
            checked_target(" <sip:agent@pbx.example;transport=tcp> "),
            Ok("sip:agent@pbx.example;transport=tcp")
        );
        for bad in ["", "agent@pbx", "http://x", "tel:", "mailto:a@b"] {
            assert!(checked_target(bad).is_err(), "{bad}");
        }
    }
}
