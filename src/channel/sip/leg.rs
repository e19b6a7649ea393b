//! A SIP call (sip-bridge) as a [`MediaLeg`]: caller frames, DTMF and hang-up in; frames,
//! flush, transfer and hang-up out. Transfer maps the conversation's request onto the bridge's
//! REFER / bridged transfer with the configured target and mode, and can speak the
//! conversation summary to the agent before the caller is connected.

use std::sync::Arc;
use std::time::Duration;

use hotline_audio::{Frame, split_into_frames};
use sip_bridge::{
    AgentBriefing, CallControl, CallEvent, HoldAudio, TransferCompleted, TransferMode,
    TransferRequest,
};
use tokio::sync::mpsc;
use tracing::{info, warn};

use super::config::{SipConfig, SipTransferMode};
use crate::channel::media_leg::{
    LegControl, LegEvent, LegFuture, MediaLeg, TransferOutcome, TransferTarget,
};
use crate::engine::Engine;
use crate::lang::Lang;
use crate::lifecycle::CallPermit;
use crate::tts::Voice;

/// What a leg needs to carry out transfers (`[sip.transfer]`, `[transfer] target`, the voices
/// of the agent briefing); shared by all SIP calls, and by browser calls for theirs.
pub struct SipTransferPolicy {
    pub sip: SipConfig,
    /// The engine's `[transfer] target`, used when `[sip.transfer]` names none.
    pub fallback_target: String,
    /// Whose voices speak the agent briefing (the summary); `None`: no briefing.
    pub engine: Option<Arc<Engine>>,
}

impl SipTransferPolicy {
    fn mode(&self) -> TransferMode {
        match self.sip.transfer.mode {
            SipTransferMode::Blind => TransferMode::Blind,
            SipTransferMode::Bridged => TransferMode::Bridged,
            SipTransferMode::BlindThenBridged => TransferMode::BlindThenBridged,
        }
    }

    /// Where a transfer the conversation asked for (`asked`: a URI, an intent name, or empty)
    /// goes; `None` when no target is configured.
    pub(crate) fn target(&self, asked: &str) -> Option<String> {
        self.sip.resolve_target(asked, &self.fallback_target)
    }

    /// How long the agent's phone may ring.
    pub(crate) fn ring_timeout(&self) -> Duration {
        Duration::from_secs(u64::from(self.sip.transfer.ring_timeout_s.max(1)))
    }

    /// Starts synthesising the agent briefing and returns it pending, so the transfer (and the
    /// caller's hold audio) starts now rather than after text-to-speech.
    pub(crate) fn briefing(&self, summary: &str) -> Option<AgentBriefing> {
        let engine = self.engine.as_ref()?;
        if !self.sip.transfer.brief_agent || summary.trim().is_empty() {
            return None;
        }
        let text = crate::dialogue::spoken_briefing(summary);
        let lang = briefing_lang(&text, engine.config.dialogue.default_language);
        let voice: Arc<dyn Voice> = engine.voices.voice(lang).clone();
        let (sender, briefing) = AgentBriefing::pending();
        tokio::task::spawn_blocking(move || match voice.synthesize(&text) {
            Ok(speech) => sender.send(split_into_frames(&speech.samples).into()),
            // Dropping the sender connects the agent without a briefing.
            Err(error) => warn!(%error, "agent briefing not synthesised; transferring without it"),
        });
        Some(briefing)
    }
}

/// Why a transfer fails when no target is configured.
pub const NO_TRANSFER_TARGET: &str =
    "no transfer target: set [sip.transfer] target or [transfer] target";

/// The voice that suits the summary's text: Chinese text in the engine's Chinese language.
pub fn briefing_lang(summary: &str, default: Lang) -> Lang {
    let chinese = summary.chars().any(crate::lang::is_han);
    match (chinese, default) {
        (true, Lang::Yue) => Lang::Yue,
        (true, _) => Lang::Zh,
        (false, _) => Lang::En,
    }
}

/// The output half of a SIP leg.
pub struct SipLegControl {
    control: CallControl,
    policy: Arc<SipTransferPolicy>,
}

impl LegControl for SipLegControl {
    fn send_frame(&self, frame: Frame) {
        self.control.send_frame(frame);
    }

    fn flush(&self) {
        self.control.flush();
    }

    fn transfer<'a>(
        &'a self,
        target: &'a TransferTarget,
        summary: &'a str,
    ) -> LegFuture<'a, TransferOutcome> {
        Box::pin(async move {
            let Some(uri) = self.policy.target(&target.uri) else {
                return TransferOutcome::Failed(NO_TRANSFER_TARGET.into());
            };
            let request = TransferRequest {
                target: uri.clone(),
                mode: self.policy.mode(),
                hold_audio: HoldAudio::SoftChime,
                agent_briefing: self.policy.briefing(summary),
                ring_timeout: self.policy.ring_timeout(),
            };
            match self.control.transfer(request).await {
                Ok(done) => {
                    info!(%uri, ?done, "SIP transfer completed");
                    match done {
                        TransferCompleted::Bridged => TransferOutcome::Bridged,
                        TransferCompleted::Referred => TransferOutcome::Completed,
                    }
                }
                Err(error) => TransferOutcome::Failed(error.to_string()),
            }
        })
    }

    /// Ends the call. After a completed bridged transfer the caller is talking to the agent:
    /// the bot just leaves (no BYE); the bridge ends both legs when either side hangs up.
    fn hang_up(&self) -> LegFuture<'_, ()> {
        Box::pin(async move {
            if !self.control.is_transferred() {
                self.control.hang_up().await;
            }
        })
    }
}

/// Wraps an answered SIP call as a [`MediaLeg`]. Caller events are relayed until hang-up;
/// once the caller is transferred, their audio and the agent's (bridged) are relayed as
/// `BridgedCaller` / `BridgedAgent` for the recording, and DTMF no longer is.
/// `line` is held until the SIP call itself ends, so a caller bridged to an agent keeps the
/// node's line (and a draining node waits for that conversation too).
pub fn sip_media_leg(
    call: sip_bridge::Call,
    policy: Arc<SipTransferPolicy>,
    line: CallPermit,
) -> MediaLeg {
    let (info, mut events, control) = call.into_parts();
    let (leg_events, leg_receiver) = mpsc::channel(256);
    let watcher = control.clone();
    tokio::spawn(async move {
        let _line = line;
        while let Some(event) = events.recv().await {
            let relayed = match event {
                CallEvent::Audio(frame) if watcher.is_transferred() => {
                    LegEvent::BridgedCaller(frame)
                }
                CallEvent::Audio(frame) => LegEvent::Audio(frame),
                CallEvent::AgentAudio(frame) => LegEvent::BridgedAgent(frame),
                CallEvent::Dtmf(digit) if !watcher.is_transferred() => LegEvent::Dtmf(digit),
                CallEvent::HangUp(_) => LegEvent::HangUp,
                CallEvent::Dtmf(_) => continue,
            };
            let last = relayed == LegEvent::HangUp;
            if leg_events.send(relayed).await.is_err() || last {
                break;
            }
        }
    });
    let caller = info
        .caller
        .trim_start_matches("sip:")
        .split('@')
        .next()
        .filter(|user| !user.is_empty())
        .map(str::to_string);
    MediaLeg {
        id: info.call_id,
        caller,
        events: leg_receiver,
        control: Box::new(SipLegControl { control, policy }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn briefing_language_follows_the_summary_text() {
        assert_eq!(briefing_lang("Caller wants a refund", Lang::Yue), Lang::En);
        assert_eq!(briefing_lang("客户要求退款", Lang::Yue), Lang::Yue);
        assert_eq!(briefing_lang("客户要求退款", Lang::En), Lang::Zh);
    }
}
