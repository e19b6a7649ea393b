//! The agent's leg of a bridged transfer, whoever the caller is: INVITE the agent with our own
//! SDP offer and RTP port pair while the caller hears hold audio, brief the agent when they
//! answer, then follow the agent's leg until one side hangs up.
//!
//! The caller is a SIP leg of this bridge (`bridged_transfer`) or a leg the bridge does not
//! carry, such as a browser call ([`crate::AgentLeg`]); all the agent's leg needs of it is
//! where hold audio goes and a signal that the caller is gone.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hotline_audio::Frame;
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Response, Uri};
use rsipstack::transport::SipAddr;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::bridge_shared::{BridgeShared, MediaSetup, StartedMedia, wait_ended};
use crate::call::{CallEvent, HangUpReason};
use crate::frame_forward::FrameForward;
use crate::hold_player::{HoldPlayer, HoldSink};
use crate::media_session::MediaStats;
use crate::outbound_queue::OutboundQueue;
use crate::sdp::{SdpOffer, render_offer};
use crate::transfer_request::{TransferError, TransferRequest};

/// Longest the agent waits, after answering, for a briefing still being synthesised.
const BRIEFING_WAIT: Duration = Duration::from_secs(10);

/// What the agent's leg needs of the caller's side.
pub(crate) struct CallerSide {
    /// The caller's call id, for logs.
    pub call_id: String,
    /// Where the caller's hold audio goes while the agent rings and is briefed.
    pub hold: Arc<dyn HoldSink>,
    /// Cancelled once the caller is gone: the agent is no longer wanted.
    pub gone: CancellationToken,
}

/// An agent who answered and heard the briefing; the caller is not connected yet.
pub(crate) struct AnsweredAgent {
    pub dialog: InviteDialog,
    pub ended: watch::Receiver<Option<HangUpReason>>,
    /// Frames for the agent, sent in the agent leg's 20 ms slots.
    pub queue: Arc<OutboundQueue>,
    /// Where the agent's decoded frames are relayed as they arrive (set while bridged).
    pub forward: Arc<FrameForward>,
    /// The agent leg's events (its audio).
    pub events: mpsc::Receiver<CallEvent>,
    pub media: StartedMedia,
}

/// How following the agent's leg ended.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AgentEnd {
    /// The agent's dialog ended (their BYE, a timeout, the bridge stopping).
    AgentLeft(HangUpReason),
    /// The agent's media stopped (no RTP for too long); we sent BYE.
    MediaEnded(MediaStats),
    /// The caller's side went away; we sent BYE.
    CallerGone,
}

/// The URI to INVITE: `sip:`/`sips:` targets as they are; `tel:` numbers via the proxy.
fn dial_uri(target: &str, proxy: Option<SocketAddr>) -> Result<String, TransferError> {
    match target.split_once(':') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("tel") => {
            let number = rest.split(';').next().unwrap_or(rest);
            match proxy {
                Some(proxy) => Ok(format!("sip:{number}@{proxy}")),
                None => Err(TransferError::NoRoute(target.to_string())),
            }
        }
        _ => Ok(target.to_string()),
    }
}

fn failure_of(response: &Response) -> TransferError {
    let code = u16::from(response.status_code.clone());
    match code {
        486 | 600 => TransferError::AgentBusy(code),
        408 | 480 | 487 => TransferError::NoAnswer,
        _ => TransferError::AgentRejected(code),
    }
}

/// Calls the agent at `target` while `caller` hears `request.hold_audio`, and plays them the
/// briefing once they answer. No answer in `request.ring_timeout`, busy, a refusal or the
/// caller leaving end it with an error (the agent's call cancelled or hung up).
pub(crate) async fn call_agent(
    shared: &Arc<BridgeShared>,
    caller: &CallerSide,
    target: &str,
    request: &TransferRequest,
) -> Result<AnsweredAgent, TransferError> {
    if caller.gone.is_cancelled() {
        return Err(TransferError::CallEnded);
    }
    let call_id = &caller.call_id;
    let dial = dial_uri(target, shared.config.outbound_proxy)?;
    let callee =
        Uri::try_from(dial.as_str()).map_err(|_| TransferError::InvalidTarget(target.into()))?;
    let contact = shared
        .udp_contact
        .clone()
        .or_else(|| shared.tcp_contact.clone())
        .ok_or_else(|| TransferError::Sip("no SIP listener to call from".into()))?;
    let sockets = shared
        .ports
        .allocate()
        .await
        .map_err(|_| TransferError::NoRtpPorts)?;
    let sdp_session_id = u64::from(rand::random::<u32>());
    let offer = render_offer(shared.advertised_ip, sockets.rtp_port, sdp_session_id, 1);
    let option = InviteOption {
        caller: contact.clone(),
        callee,
        destination: shared.config.outbound_proxy.map(SipAddr::from),
        content_type: Some("application/sdp".into()),
        offer: Some(offer.clone().into_bytes()),
        contact,
        ..InviteOption::default()
    };

    let hold = HoldPlayer::start(caller.hold.clone(), request.hold_audio.frames());
    info!(%call_id, %dial, "calling the agent");
    let (agent, invite) = shared
        .dialogs
        .do_invite_async(option, shared.state_sender.clone())
        .map_err(|e| TransferError::Sip(e.to_string()))?;
    let answered = tokio::select! {
        outcome = invite => match outcome {
            Ok(Ok((id, Some(response)))) if response.status_code.kind() == rsipstack::sip::StatusCodeKind::Successful => Ok((id, response)),
            Ok(Ok((_, Some(response)))) => Err(failure_of(&response)),
            Ok(Ok((_, None))) => Err(TransferError::NoAnswer),
            Ok(Err(error)) => Err(TransferError::Sip(error.to_string())),
            Err(error) => Err(TransferError::Sip(error.to_string())),
        },
        () = tokio::time::sleep(request.ring_timeout) => {
            agent.cancel().await.ok();
            Err(TransferError::NoAnswer)
        }
        () = caller.gone.cancelled() => {
            agent.cancel().await.ok();
            Err(TransferError::CallEnded)
        }
    };
    let (agent_id, response) = match answered {
        Ok(answered) => answered,
        Err(error) => {
            hold.stop();
            return Err(error);
        }
    };
    let agent_ended = shared.add_leg(&agent_id);
    let media = match SdpOffer::parse(&response.body).and_then(|answer| answer.negotiate()) {
        Ok(media) => media,
        Err(error) => {
            warn!(%call_id, %error, "agent's SDP answer unusable; hanging up the agent");
            agent.bye().await.ok();
            hold.stop();
            return Err(TransferError::AgentMedia(error.to_string()));
        }
    };
    let queue = Arc::new(OutboundQueue::new());
    let forward = Arc::new(FrameForward::default());
    let (events_tx, events) = mpsc::channel(256);
    let started = shared.start_media(MediaSetup {
        dialog_id: agent_id.clone(),
        call_id: format!("{call_id}/agent"),
        sockets,
        media,
        outbound: queue.clone(),
        events: events_tx,
        forward: forward.clone(),
        local_sdp: offer,
        sdp_session_id,
    });
    info!(%call_id, codec = ?media.codec, "agent answered");

    brief(&queue, caller, &agent_ended, request).await;
    hold.stop();
    if caller.gone.is_cancelled() {
        agent.bye().await.ok();
        started.stop.cancel();
        return Err(TransferError::CallEnded);
    }
    if agent_ended.borrow().is_some() {
        started.stop.cancel();
        return Err(TransferError::AgentRejected(487));
    }
    Ok(AnsweredAgent {
        dialog: agent,
        ended: agent_ended,
        queue,
        forward,
        events,
        media: started,
    })
}

/// Plays the briefing (once synthesised) to the agent and waits until it has gone out, or
/// either side has left.
async fn brief(
    queue: &OutboundQueue,
    caller: &CallerSide,
    agent_ended: &watch::Receiver<Option<HangUpReason>>,
    request: &TransferRequest,
) {
    let Some(briefing) = &request.agent_briefing else {
        return;
    };
    let mut agent_gone = agent_ended.clone();
    let frames = tokio::select! {
        frames = briefing.frames(BRIEFING_WAIT) => frames,
        () = caller.gone.cancelled() => None,
        _ = wait_ended(&mut agent_gone) => None,
    };
    let Some(frames) = frames else { return };
    queue.extend(frames.iter().cloned());
    let limit = Duration::from_millis(20 * frames.len() as u64 + 2000);
    let deadline = tokio::time::Instant::now() + limit;
    while queue.len() > 0
        && tokio::time::Instant::now() < deadline
        && agent_ended.borrow().is_none()
        && !caller.gone.is_cancelled()
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs while the agent is connected: hands each of the agent's frames to `on_audio` until the
/// agent's leg ends or `caller_gone` is cancelled (then the agent gets BYE). Stops the agent's
/// media either way.
pub(crate) async fn follow_agent(
    agent: AnsweredAgent,
    caller_gone: CancellationToken,
    call_id: &str,
    mut on_audio: impl FnMut(Frame),
) -> AgentEnd {
    let AnsweredAgent {
        dialog,
        mut ended,
        mut events,
        media,
        ..
    } = agent;
    let StartedMedia { mut task, stop, .. } = media;
    let mut events_open = true;
    let end = loop {
        tokio::select! {
            event = events.recv(), if events_open => match event {
                Some(CallEvent::Audio(frame)) => on_audio(frame),
                Some(_) => {}
                None => events_open = false,
            },
            reason = wait_ended(&mut ended) => {
                // The reason names who sent BYE as UAC or UAS; on this leg we are the UAC.
                info!(%call_id, "the agent's leg ended");
                break AgentEnd::AgentLeft(reason.unwrap_or(HangUpReason::BridgeStopped));
            }
            finished = &mut task => {
                info!(%call_id, "agent media ended; hanging up the agent");
                dialog.bye().await.ok();
                break AgentEnd::MediaEnded(finished.unwrap_or_default());
            }
            () = caller_gone.cancelled() => {
                info!(%call_id, "the caller left; hanging up the agent");
                dialog.bye().await.ok();
                break AgentEnd::CallerGone;
            }
        }
    };
    stop.cancel();
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tel_targets_go_through_the_proxy_and_sip_targets_stay() {
        let proxy: SocketAddr = "192.0.2.5:5060".parse().unwrap();
        assert_eq!(
            dial_uri("tel:+85212345678;phone-context=x", Some(proxy)).unwrap(),
            "sip:+85212345678@192.0.2.5:5060"
        );
        assert_eq!(
            dial_uri("tel:+85212345678", None),
            Err(TransferError::NoRoute("tel:+85212345678".into()))
        );
        assert_eq!(
            dial_uri("sip:agent@pbx.example", Some(proxy)).unwrap(),
            "sip:agent@pbx.example"
        );
    }
}
