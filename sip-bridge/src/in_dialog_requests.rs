//! What happens inside a call after the INVITE: BYE/timeouts end legs, a re-INVITE holds,
//! resumes or changes the codec, SIP INFO carries DTMF, NOTIFY reports REFER progress.
//!
//! rsipstack turns each in-dialog request into a [`DialogState`] on one channel; this task
//! answers them and updates the leg's media through the registry in [`BridgeShared`].

use std::sync::Arc;

use rsipstack::dialog::DialogId;
use rsipstack::dialog::dialog::{DialogState, DialogStateReceiver, TerminatedReason};
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Header, Method, Request, StatusCode};
use tracing::{debug, info, warn};

use crate::bridge_shared::BridgeShared;
use crate::call::{CallEvent, HangUpReason};
use crate::dtmf_relay::digit_from_info;
use crate::sdp::{SdpOffer, render_answer};
use crate::sipfrag::ReferProgress;

fn hang_up_reason(reason: &TerminatedReason) -> HangUpReason {
    match reason {
        TerminatedReason::UacBye | TerminatedReason::UacCancel => HangUpReason::RemoteBye,
        TerminatedReason::UasBye | TerminatedReason::UasDecline => HangUpReason::LocalHangUp,
        _ => HangUpReason::Timeout,
    }
}

fn content_type(request: &Request) -> String {
    request
        .headers
        .iter()
        .find_map(|h| match h {
            Header::ContentType(c) => Some(c.value().to_string()),
            _ => None,
        })
        .unwrap_or_default()
}

/// Answers a re-INVITE: a new offer changes direction (hold/resume), codec or address;
/// an empty one (session refresh) gets our current SDP back.
fn answer_reinvite(
    shared: &BridgeShared,
    id: &DialogId,
    request: &Request,
) -> (StatusCode, Option<String>) {
    let mut legs = shared.legs();
    let Some(media) = legs
        .get_mut(&id.to_string())
        .and_then(|slot| slot.media.as_mut())
    else {
        return (StatusCode::CallTransactionDoesNotExist, None);
    };
    if request.body.is_empty() {
        return (StatusCode::OK, Some(media.local_sdp.clone()));
    }
    let negotiated = match SdpOffer::parse(&request.body).and_then(|offer| offer.negotiate()) {
        Ok(negotiated) => negotiated,
        Err(error) => {
            warn!(%id, %error, "re-INVITE offer refused; keeping the current media");
            return (StatusCode::NotAcceptableHere, None);
        }
    };
    let previous = *media.negotiated.borrow();
    if negotiated != previous {
        info!(%id, direction = ?negotiated.direction, codec = ?negotiated.codec, "re-INVITE changes media");
        media.sdp_version += 1;
        media.negotiated.send_replace(negotiated);
    }
    media.local_sdp = render_answer(
        &negotiated,
        shared.advertised_ip,
        media.local_rtp_port,
        media.sdp_session_id,
        media.sdp_version,
    );
    (StatusCode::OK, Some(media.local_sdp.clone()))
}

fn deliver_info_digit(shared: &BridgeShared, id: &DialogId, request: &Request) {
    let Some(digit) = digit_from_info(&content_type(request), &request.body) else {
        return;
    };
    let events = shared
        .legs()
        .get(&id.to_string())
        .and_then(|slot| slot.media.as_ref())
        .and_then(|media| media.events.upgrade());
    match events {
        Some(events) => {
            info!(%id, %digit, "DTMF digit from SIP INFO");
            if events.try_send(CallEvent::Dtmf(digit)).is_err() {
                warn!(%id, %digit, "engine not reading call events; SIP INFO digit dropped");
            }
        }
        None => debug!(%id, %digit, "SIP INFO digit for a leg without media; ignored"),
    }
}

fn deliver_refer_progress(shared: &BridgeShared, id: &DialogId, request: &Request) {
    let is_refer_event = request.headers.iter().any(|h| match h {
        Header::Event(e) => e.value().trim().to_ascii_lowercase().starts_with("refer"),
        Header::Other(name, value) => {
            name.eq_ignore_ascii_case("event")
                && value.trim().to_ascii_lowercase().starts_with("refer")
        }
        _ => false,
    });
    if !is_refer_event {
        return;
    }
    let Some(progress) = ReferProgress::parse(&request.body) else {
        debug!(%id, "REFER NOTIFY without a sipfrag status line; ignored");
        return;
    };
    if let Some(listener) = shared
        .legs()
        .get(&id.to_string())
        .and_then(|slot| slot.refer_progress.as_ref())
    {
        listener.send(progress).ok();
    }
}

pub(crate) async fn follow_dialog_states(
    shared: Arc<BridgeShared>,
    mut states: DialogStateReceiver,
) {
    loop {
        let state = tokio::select! {
            s = states.recv() => s,
            () = shared.stop.cancelled() => None,
        };
        let Some(state) = state else { break };
        match state {
            DialogState::Terminated(id, reason) => {
                debug!(%id, ?reason, "dialog terminated");
                shared.end_leg(&id, hang_up_reason(&reason));
            }
            DialogState::Options(_, _, handle) => {
                handle.reply(StatusCode::OK).await.ok();
            }
            DialogState::Info(id, request, handle) => {
                deliver_info_digit(&shared, &id, &request);
                handle.reply(StatusCode::OK).await.ok();
            }
            DialogState::Message(_, _, handle) => {
                handle.reply(StatusCode::OK).await.ok();
            }
            DialogState::Notify(id, request, handle) => {
                handle.reply(StatusCode::OK).await.ok();
                deliver_refer_progress(&shared, &id, &request);
            }
            DialogState::Updated(id, request, handle) => match request.method {
                Method::Invite => {
                    let (status, sdp) = answer_reinvite(&shared, &id, &request);
                    let headers = sdp
                        .is_some()
                        .then(|| vec![Header::ContentType("application/sdp".into())]);
                    handle
                        .respond(status, headers, sdp.map(String::into_bytes))
                        .await
                        .ok();
                }
                _ => {
                    handle.reply(StatusCode::OK).await.ok();
                }
            },
            DialogState::Refer(id, request, handle) => {
                // We transfer others; we are not transferred ourselves.
                debug!(%id, refer_to = ?request.to_header().map(|t| t.to_string()).ok(), "REFER received; 501");
                handle.reply(StatusCode::NotImplemented).await.ok();
            }
            DialogState::Publish(_, _, handle) => {
                handle.reply(StatusCode::NotImplemented).await.ok();
            }
            _ => {}
        }
    }
    shared.end_all(HangUpReason::BridgeStopped);
}
