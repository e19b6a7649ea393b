//! Bridged transfer for a caller this bridge does not carry (a browser call): the engine asks
//! the [`AgentDialer`] to call the agent; the agent is dialled, the caller's hold audio played
//! and the agent briefed exactly as for a SIP caller; the answered agent is an [`AgentLeg`]
//! that takes the caller's frames (sent to the agent in its 20 ms slots) and yields the
//! agent's, until either side hangs up.
//!
//! The dial and the agent's leg run on the bridge's own runtime (its paced RTP must not wait
//! behind the engine's work), whichever runtime the engine calls from.

use std::sync::Arc;

use hotline_audio::Frame;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::agent_call::{AgentEnd, CallerSide, call_agent, follow_agent};
use crate::bridge_shared::BridgeShared;
use crate::call::HangUpReason;
use crate::frame_forward::BRIDGE_QUEUE_FRAMES;
use crate::hold_player::HoldSink;
use crate::outbound_queue::OutboundQueue;
use crate::transfer_request::{TransferError, TransferRequest, checked_target};

/// The agent's frames that may wait for the engine (a second).
const AGENT_AUDIO_QUEUE: usize = 50;

/// A call to an agent for a caller the bridge does not carry.
pub struct AgentDial {
    /// Target, hold audio, briefing and ring time, as for a SIP caller (the mode is ignored:
    /// such a caller can only be bridged).
    pub transfer: TransferRequest,
    /// The caller's call id, for logs.
    pub caller_id: String,
    /// Where the caller's hold audio goes while the agent rings and is briefed.
    pub caller_hold: Arc<dyn HoldSink>,
}

/// Calls agents through a running [`crate::SipBridge`]; clone freely. Calls fail with
/// [`TransferError::BridgeStopped`] once the bridge has shut down.
#[derive(Clone)]
pub struct AgentDialer {
    pub(crate) shared: Arc<BridgeShared>,
    pub(crate) runtime: Handle,
}

impl AgentDialer {
    /// Calls the agent: returns once they answered and heard the briefing, with the caller
    /// not yet connected (the hold audio has stopped). No answer within the ring time, busy or
    /// a refusal are errors. Dropping the future abandons the call (the INVITE is cancelled,
    /// or an agent who already answered gets BYE).
    pub async fn dial(&self, dial: AgentDial) -> Result<AgentLeg, TransferError> {
        let target = checked_target(&dial.transfer.target)?.to_string();
        if self.shared.stop.is_cancelled() {
            return Err(TransferError::BridgeStopped);
        }
        let gone = CancellationToken::new();
        let abandon = gone.clone().drop_guard();
        let shared = self.shared.clone();
        let task = self.runtime.spawn(async move {
            let caller = CallerSide {
                call_id: dial.caller_id,
                hold: dial.caller_hold,
                gone,
            };
            let agent = call_agent(&shared, &caller, &target, &dial.transfer).await?;
            let (frames_tx, frames) = mpsc::channel(AGENT_AUDIO_QUEUE);
            let (ended_tx, ended) = watch::channel(None);
            let leg = AgentLeg {
                to_agent: CallerAudio(agent.queue.clone()),
                frames,
                ended,
                hang_up: caller.gone.clone(),
            };
            info!(call_id = %caller.call_id, "agent connected to a caller outside the bridge");
            tokio::spawn(async move {
                let end = follow_agent(agent, caller.gone, &caller.call_id, |frame| {
                    frames_tx.try_send(frame).ok();
                })
                .await;
                let reason = match end {
                    // We send BYE only in the other cases: the agent ended the dialog. (The
                    // dialog layer names a BYE by who sent it, UAC or UAS; here we are the UAC.)
                    AgentEnd::AgentLeft(
                        reason @ (HangUpReason::BridgeStopped | HangUpReason::Timeout),
                    ) => reason,
                    AgentEnd::AgentLeft(_) => HangUpReason::RemoteBye,
                    AgentEnd::MediaEnded(stats) if stats.rtp_timed_out => HangUpReason::RtpTimeout,
                    AgentEnd::MediaEnded(_) | AgentEnd::CallerGone => HangUpReason::LocalHangUp,
                };
                ended_tx.send_replace(Some(reason));
            });
            Ok(leg)
        });
        let result = task.await.map_err(|_| TransferError::BridgeStopped)?;
        if result.is_ok() {
            abandon.disarm();
        }
        result
    }
}

/// Hands the caller's frames to the agent; clone freely (one for the task that reads the
/// caller's audio). Frames sent after the agent's leg ended are dropped.
#[derive(Clone)]
pub struct CallerAudio(Arc<OutboundQueue>);

impl CallerAudio {
    /// Queues one 20 ms frame (16 kHz) for the agent. The queue is kept short (the oldest
    /// frames give way), so the caller's delay to the agent stays under 100 ms.
    pub fn send(&self, frame: Frame) {
        self.0.push_capped(frame, BRIDGE_QUEUE_FRAMES);
    }
}

/// An agent who answered for a caller outside the bridge. Dropping it hangs the agent up.
pub struct AgentLeg {
    to_agent: CallerAudio,
    frames: mpsc::Receiver<Frame>,
    ended: watch::Receiver<Option<HangUpReason>>,
    hang_up: CancellationToken,
}

impl AgentLeg {
    /// Where the caller's frames go.
    pub fn caller_audio(&self) -> CallerAudio {
        self.to_agent.clone()
    }

    /// The agent's next 20 ms frame (16 kHz); `None` once the agent's leg has ended (see
    /// [`Self::end_reason`]).
    pub async fn recv(&mut self) -> Option<Frame> {
        self.frames.recv().await
    }

    /// Sends the agent BYE (in the background); [`Self::recv`] then returns `None`.
    pub fn hang_up(&self) {
        self.hang_up.cancel();
    }

    /// Why the agent's leg ended: `RemoteBye` when the agent hung up, `LocalHangUp` after
    /// [`Self::hang_up`]; `None` while it is up.
    pub fn end_reason(&self) -> Option<HangUpReason> {
        *self.ended.borrow()
    }

    /// Waits until the agent's leg has ended, and says why.
    pub async fn ended(&self) -> HangUpReason {
        let mut ended = self.ended.clone();
        ended
            .wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|reason| *reason)
            .unwrap_or(HangUpReason::BridgeStopped)
    }
}

impl Drop for AgentLeg {
    fn drop(&mut self) {
        self.hang_up.cancel();
    }
}
