//! Bridged (warm) transfer as a B2BUA: we INVITE the agent with our own SDP offer and RTP port
//! pair, play hold audio to the caller while it rings, brief the agent when they answer, then
//! relay audio both ways. The agent's audio is also delivered to the engine as `AgentAudio`
//! (and the caller's keeps arriving as `Audio`), so recording and transcription go on.
//!
//! No answer, busy or a refusal leave the caller with the bot. Once bridged, whichever side
//! hangs up ends the other.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rsipstack::dialog::invitation::InviteOption;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Response, Uri};
use rsipstack::transport::SipAddr;
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::bridge_shared::{MediaSetup, StartedMedia, wait_ended};
use crate::call::{CallEvent, CallLink, HangUpReason};
use crate::frame_forward::FrameForward;
use crate::hold_player::HoldPlayer;
use crate::outbound_queue::OutboundQueue;
use crate::sdp::{SdpOffer, render_offer};
use crate::transfer_request::{TransferError, TransferRequest};

/// Longest the agent waits, after answering, for a briefing still being synthesised.
const BRIEFING_WAIT: Duration = Duration::from_secs(10);

/// The URI to INVITE: `sip:`/`sips:` targets as they are; `tel:` numbers via the proxy.
pub(crate) fn dial_uri(target: &str, proxy: Option<SocketAddr>) -> Result<String, TransferError> {
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

pub(crate) async fn bridge_to_agent(
    link: &Arc<CallLink>,
    target: &str,
    request: &TransferRequest,
) -> Result<(), TransferError> {
    if link.caller_gone() {
        return Err(TransferError::CallEnded);
    }
    let shared = link.bridge.clone();
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

    let hold = HoldPlayer::start(link.outbound.clone(), request.hold_audio.frames());
    info!(call_id = %link.info.call_id, %dial, "calling the agent");
    let (agent, invite) = shared
        .dialogs
        .do_invite_async(option, shared.state_sender.clone())
        .map_err(|e| TransferError::Sip(e.to_string()))?;
    let mut caller_ended = link.ended.clone();
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
        _ = wait_ended(&mut caller_ended) => {
            agent.cancel().await.ok();
            Err(TransferError::CallEnded)
        }
        () = link.media_stop.cancelled() => {
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
            warn!(call_id = %link.info.call_id, %error, "agent's SDP answer unusable; hanging up the agent");
            agent.bye().await.ok();
            hold.stop();
            return Err(TransferError::AgentMedia(error.to_string()));
        }
    };
    let agent_queue = Arc::new(OutboundQueue::new());
    let agent_forward = Arc::new(FrameForward::default());
    let (agent_events_tx, agent_events) = mpsc::channel(256);
    let started = shared.start_media(MediaSetup {
        dialog_id: agent_id.clone(),
        call_id: format!("{}/agent", link.info.call_id),
        sockets,
        media,
        outbound: agent_queue.clone(),
        events: agent_events_tx,
        forward: agent_forward.clone(),
        local_sdp: offer,
        sdp_session_id,
    });
    info!(call_id = %link.info.call_id, codec = ?media.codec, "agent answered");

    let mut agent_gone = agent_ended.clone();
    let briefing = match &request.agent_briefing {
        Some(briefing) => tokio::select! {
            frames = briefing.frames(BRIEFING_WAIT) => frames,
            () = link.media_stop.cancelled() => None,
            _ = wait_ended(&mut caller_ended) => None,
            _ = wait_ended(&mut agent_gone) => None,
        },
        None => None,
    };
    if let Some(briefing) = &briefing {
        agent_queue.extend(briefing.iter().cloned());
        let limit = Duration::from_millis(20 * briefing.len() as u64 + 2000);
        let deadline = tokio::time::Instant::now() + limit;
        while agent_queue.len() > 0
            && tokio::time::Instant::now() < deadline
            && agent_ended.borrow().is_none()
            && !link.caller_gone()
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    hold.stop();
    if link.caller_gone() {
        agent.bye().await.ok();
        started.stop.cancel();
        return Err(TransferError::CallEnded);
    }
    if agent_ended.borrow().is_some() {
        started.stop.cancel();
        return Err(TransferError::AgentRejected(487));
    }
    link.forward.set(Some(agent_queue));
    agent_forward.set(Some(link.outbound.clone()));
    info!(call_id = %link.info.call_id, "caller and agent bridged");
    tokio::spawn(relay_until_hang_up(
        link.clone(),
        agent,
        agent_ended,
        agent_events,
        started,
    ));
    Ok(())
}

/// Runs while bridged: hands the agent's audio to the engine, ends one leg when the other ends.
async fn relay_until_hang_up(
    link: Arc<CallLink>,
    agent: InviteDialog,
    mut agent_ended: tokio::sync::watch::Receiver<Option<HangUpReason>>,
    mut agent_events: mpsc::Receiver<CallEvent>,
    started: StartedMedia,
) {
    let StartedMedia { mut task, stop, .. } = started;
    let mut events_open = true;
    loop {
        tokio::select! {
            event = agent_events.recv(), if events_open => match event {
                Some(CallEvent::Audio(frame)) => {
                    if let Some(events) = link.events.upgrade() {
                        events.try_send(CallEvent::AgentAudio(frame)).ok();
                    }
                }
                Some(_) => {}
                None => events_open = false,
            },
            _ = wait_ended(&mut agent_ended) => {
                info!(call_id = %link.info.call_id, "agent hung up; ending the caller's leg");
                link.mark_end_reason(HangUpReason::AgentHungUp);
                link.end().await;
                break;
            }
            _ = &mut task => {
                info!(call_id = %link.info.call_id, "agent media ended; ending both legs");
                agent.bye().await.ok();
                link.mark_end_reason(HangUpReason::AgentHungUp);
                link.end().await;
                break;
            }
            () = link.media_stop.cancelled() => {
                info!(call_id = %link.info.call_id, "caller's leg ended; hanging up the agent");
                agent.bye().await.ok();
                break;
            }
        }
    }
    link.forward.set(None);
    stop.cancel();
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
