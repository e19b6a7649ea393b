//! Transfer from a browser call to the human line: the agent's phone is called over SIP
//! through the [`HumanLine`] (the bridged transfer of sip-bridge, with the browser call as the
//! caller's leg): the visitor hears hold audio while it rings and the agent hears the
//! briefing; then the visitor's microphone goes to the agent and the agent's voice to the
//! visitor's track until either hangs up. The agent hanging up ends the browser call; the
//! visitor hanging up (or leaving the page) sends the agent BYE.

use std::sync::Arc;

use hotline_audio::Frame;
use sip_bridge::{
    AgentDial, AgentDialer, AgentLeg, HoldAudio, HoldSink, TransferMode, TransferRequest,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::browser_audio::BrowserAudioOut;
use super::visitor_line::VisitorLine;
use crate::channel::human_line::HumanLine;
use crate::channel::{LegEvent, TransferOutcome, TransferTarget};
use crate::channel::{NO_TRANSFER_TARGET, SipTransferPolicy};

/// Why a browser call cannot be transferred while the SIP user agent is off.
pub const BROWSER_TRANSFER_NEEDS_SIP: &str = "transfer from a browser call goes to the agent's \
     phone over SIP: set [sip] enabled = true and [transfer] target (or [sip.transfer] target) \
     to the agent's sip: or tel: URI";

/// How an endpoint's browser calls reach the human line; shared by all of them.
#[derive(Clone)]
pub struct BrowserTransfer {
    /// The SIP user agent, while `[sip]` runs.
    pub line: HumanLine,
    /// Targets, ring time and the agent briefing (`[sip.transfer]`, `[transfer] target`).
    pub policy: Arc<SipTransferPolicy>,
}

/// One browser call's side of a transfer.
pub struct VisitorTransfer {
    pub call_id: Arc<str>,
    /// `None`: the endpoint has no human line (transfers fail and say why).
    pub via: Option<BrowserTransfer>,
    pub audio: Arc<BrowserAudioOut>,
    pub line: Arc<VisitorLine>,
    /// Cancelled when the browser call is closing (the visitor left, or it is being ended).
    pub closing: CancellationToken,
    /// The leg's events to the call's driver: after the bridge, both sides' frames and the
    /// hang-up.
    pub events: mpsc::Sender<LegEvent>,
}

/// The visitor's track as the place hold audio goes: one frame per 20 ms tick, sent at once.
struct VisitorHold(Arc<BrowserAudioOut>);

impl HoldSink for VisitorHold {
    fn frames_wanted(&self) -> usize {
        1
    }

    fn push_hold_frame(&self, frame: Frame) {
        self.0.send(frame);
    }

    fn clear_hold(&self) {
        self.0.flush();
    }
}

impl VisitorTransfer {
    /// Calls the agent for `target` (resolved as for SIP calls) and briefs them with
    /// `summary`; `Bridged` once the visitor and the agent are connected (the bot's part is
    /// over; their conversation goes on through this node, recorded). On failure the bot has
    /// the line again.
    pub async fn run(&self, target: &TransferTarget, summary: &str) -> TransferOutcome {
        let (via, dialer, uri) = match route(self.via.as_ref(), &target.uri) {
            Ok(route) => route,
            Err(reason) => return TransferOutcome::Failed(reason.to_string()),
        };
        if !self.line.begin_transfer() {
            return TransferOutcome::Failed("a transfer is already under way on this call".into());
        }
        let dial = AgentDial {
            transfer: TransferRequest {
                target: uri.clone(),
                mode: TransferMode::Bridged,
                hold_audio: HoldAudio::SoftChime,
                agent_briefing: via.policy.briefing(summary),
                ring_timeout: via.policy.ring_timeout(),
            },
            caller_id: self.call_id.to_string(),
            caller_hold: Arc::new(VisitorHold(Arc::clone(&self.audio))),
        };
        tracing::info!(call = %self.call_id, %uri, "calling the agent for the browser caller");
        // Dropping the dial (the visitor left) cancels the agent's call.
        let dialled = tokio::select! {
            dialled = dialer.dial(dial) => dialled,
            () = self.closing.cancelled() => Err(sip_bridge::TransferError::CallEnded),
        };
        match dialled {
            Ok(agent) => {
                self.line.bridge(agent.caller_audio());
                tracing::info!(call = %self.call_id, %uri, "browser caller and agent bridged");
                tokio::spawn(relay_agent(
                    Arc::clone(&self.call_id),
                    agent,
                    Arc::clone(&self.audio),
                    Arc::clone(&self.line),
                    self.events.clone(),
                    self.closing.clone(),
                ));
                // The driver follows the conversation (recording, transcripts) from the
                // leg's BridgedCaller / BridgedAgent frames until the hang-up.
                TransferOutcome::Bridged
            }
            Err(error) => {
                self.line.back_to_bot();
                TransferOutcome::Failed(error.to_string())
            }
        }
    }
}

/// The way to the agent for a transfer asked for `asked` (a URI, an intent name, or empty),
/// or why there is none.
fn route<'a>(
    via: Option<&'a BrowserTransfer>,
    asked: &str,
) -> Result<(&'a BrowserTransfer, AgentDialer, String), &'static str> {
    let via = via.ok_or(BROWSER_TRANSFER_NEEDS_SIP)?;
    let dialer = via.line.dialer().ok_or(BROWSER_TRANSFER_NEEDS_SIP)?;
    let uri = via.policy.target(asked).ok_or(NO_TRANSFER_TARGET)?;
    Ok((via, dialer, uri))
}

/// Plays the agent's voice to the visitor (and hands each frame to the call's driver, for the
/// recording) until one of them hangs up; the agent leaving closes the browser call, the
/// visitor leaving hangs the agent up; either way the driver is told the call is over.
async fn relay_agent(
    call_id: Arc<str>,
    mut agent: AgentLeg,
    audio: Arc<BrowserAudioOut>,
    line: Arc<VisitorLine>,
    events: mpsc::Sender<LegEvent>,
    closing: CancellationToken,
) {
    loop {
        tokio::select! {
            frame = agent.recv() => match frame {
                Some(frame) => {
                    // A driver that cannot keep up loses recording frames, never the voice.
                    let _ = events.try_send(LegEvent::BridgedAgent(frame.clone()));
                    audio.send(frame);
                }
                None => {
                    let reason = agent.end_reason();
                    tracing::info!(call = %call_id, ?reason, "the agent's leg ended; ending the browser call");
                    line.unbridge();
                    closing.cancel();
                    let _ = events.send(LegEvent::HangUp).await;
                    return;
                }
            },
            () = closing.cancelled() => {
                tracing::info!(call = %call_id, "the browser caller left; hanging up the agent");
                line.unbridge();
                agent.hang_up();
                let _ = events.send(LegEvent::HangUp).await;
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::SipConfig;

    fn transfer_to(target: &str, line: HumanLine) -> BrowserTransfer {
        BrowserTransfer {
            line,
            policy: Arc::new(SipTransferPolicy {
                sip: SipConfig::default(),
                fallback_target: target.to_string(),
                engine: None,
            }),
        }
    }

    #[test]
    fn without_the_sip_user_agent_the_reason_names_both_settings() {
        for via in [
            None,
            Some(transfer_to("sip:agent@pbx", HumanLine::default())),
        ] {
            let Err(reason) = route(via.as_ref(), "") else {
                panic!("no route without SIP");
            };
            assert!(
                reason.contains("[sip] enabled") && reason.contains("[transfer] target"),
                "{reason}"
            );
        }
    }

    #[tokio::test]
    async fn with_the_user_agent_the_target_comes_from_the_config_or_the_request() {
        let bridge = sip_bridge::SipBridge::start(sip_bridge::BridgeConfig {
            udp_listen: Some(([127, 0, 0, 1], 0).into()),
            tcp_listen: None,
            trunk_allowlist: vec![[127, 0, 0, 1].into()],
            ..sip_bridge::BridgeConfig::default()
        })
        .await
        .expect("a loopback SIP bridge");
        let line = HumanLine::default();
        line.connect(Some(bridge.agent_dialer()));
        let configured = transfer_to("sip:agent@pbx", line.clone());
        let (_, _, uri) = route(Some(&configured), "").expect("a route");
        assert_eq!(uri, "sip:agent@pbx");
        let (_, _, uri) = route(Some(&configured), "tel:+85212345678").expect("a route");
        assert_eq!(uri, "tel:+85212345678");
        let Err(reason) = route(Some(&transfer_to("", line)), "") else {
            panic!("no target configured");
        };
        assert_eq!(reason, NO_TRANSFER_TARGET);
    }
}
