//! Bridged (warm) transfer of a SIP caller as a B2BUA: the agent's leg is called, hold audio
//! played and the agent briefed by `agent_call`; then the two legs' media are relayed into each
//! other's queues. The agent's audio is also delivered to the engine as `AgentAudio` (and the
//! caller's keeps arriving as `Audio`), so recording and transcription go on.
//!
//! No answer, busy or a refusal leave the caller with the bot. Once bridged, whichever side
//! hangs up ends the other.

use std::sync::Arc;

use tracing::info;

use crate::agent_call::{AgentEnd, AnsweredAgent, CallerSide, call_agent, follow_agent};
use crate::call::{CallEvent, CallLink, HangUpReason};
use crate::transfer_request::{TransferError, TransferRequest};

pub(crate) async fn bridge_to_agent(
    link: &Arc<CallLink>,
    target: &str,
    request: &TransferRequest,
) -> Result<(), TransferError> {
    if link.caller_gone() {
        return Err(TransferError::CallEnded);
    }
    // The call's supervisor stops its media when the dialog ends, so the media's stop token
    // says the caller is gone.
    let caller = CallerSide {
        call_id: link.info.call_id.clone(),
        hold: link.outbound.clone(),
        gone: link.media_stop.clone(),
    };
    let agent = call_agent(&link.bridge, &caller, target, request).await?;
    link.forward.set(Some(agent.queue.clone()));
    agent.forward.set(Some(link.outbound.clone()));
    info!(call_id = %link.info.call_id, "caller and agent bridged");
    tokio::spawn(relay_until_hang_up(link.clone(), agent));
    Ok(())
}

/// Runs while bridged: hands the agent's audio to the engine, ends one leg when the other ends.
async fn relay_until_hang_up(link: Arc<CallLink>, agent: AnsweredAgent) {
    let events = link.events.clone();
    let end = follow_agent(
        agent,
        link.media_stop.clone(),
        &link.info.call_id,
        |frame| {
            if let Some(events) = events.upgrade() {
                events.try_send(CallEvent::AgentAudio(frame)).ok();
            }
        },
    )
    .await;
    match end {
        AgentEnd::AgentLeft(_) | AgentEnd::MediaEnded(_) => {
            info!(call_id = %link.info.call_id, "ending the caller's leg after the agent's");
            link.mark_end_reason(HangUpReason::AgentHungUp);
            link.end().await;
        }
        AgentEnd::CallerGone => {}
    }
    link.forward.set(None);
}
