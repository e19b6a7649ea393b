//! A ringing call offered to the engine, which answers (getting a [`Call`]) or rejects it.
//!
//! Dropping an `IncomingCall` without a decision rejects it with 480, so a call can never be
//! left ringing forever by an engine that lost track of it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, StatusCode};
use tokio::sync::{mpsc, watch};
use tracing::{info, warn};

use crate::bridge_shared::{BridgeShared, MediaSetup, StartedMedia, wait_ended};
use crate::call::{Call, CallControl, CallEvent, CallInfo, CallLink, HangUpReason};
use crate::error::BridgeError;
use crate::frame_forward::FrameForward;
use crate::outbound_queue::OutboundQueue;
use crate::sdp::{NegotiatedMedia, render_answer};

/// Standard reasons to turn a call away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// 486 Busy Here: no capacity now.
    Busy,
    /// 480 Temporarily Unavailable: closed / not staffed.
    Unavailable,
    /// 603 Decline.
    Decline,
    /// 404 Not Found: the dialled number is not ours.
    UnknownNumber,
    /// 503 Service Unavailable: the engine is full or stopping (another node may answer).
    Overloaded,
}

impl RejectReason {
    fn status(self) -> StatusCode {
        match self {
            RejectReason::Busy => StatusCode::BusyHere,
            RejectReason::Unavailable => StatusCode::TemporarilyUnavailable,
            RejectReason::Decline => StatusCode::Decline,
            RejectReason::UnknownNumber => StatusCode::NotFound,
            RejectReason::Overloaded => StatusCode::ServiceUnavailable,
        }
    }
}

/// A call that is ringing (180 sent), waiting for the engine's decision.
pub struct IncomingCall {
    pub(crate) call_id: String,
    pub(crate) caller: String,
    pub(crate) callee: String,
    pub(crate) remote_signaling: SocketAddr,
    pub(crate) media: NegotiatedMedia,
    pub(crate) dialog: Option<InviteDialog>,
    pub(crate) ended: watch::Receiver<Option<HangUpReason>>,
    pub(crate) shared: Arc<BridgeShared>,
}

impl IncomingCall {
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// The From URI.
    pub fn caller(&self) -> &str {
        &self.caller
    }

    /// The Request-URI (the number dialled).
    pub fn callee(&self) -> &str {
        &self.callee
    }

    /// Source address of the INVITE.
    pub fn remote_addr(&self) -> SocketAddr {
        self.remote_signaling
    }

    /// Whether the caller has already given up (CANCEL).
    pub fn is_cancelled(&self) -> bool {
        self.ended.borrow().is_some()
    }

    /// Answers with 200 OK and our SDP, and starts media.
    pub async fn answer(mut self) -> Result<Call, BridgeError> {
        let Some(dialog) = self.dialog.take() else {
            return Err(BridgeError::CallerGone);
        };
        if self.is_cancelled() {
            return Err(BridgeError::CallerGone);
        }
        let shared = self.shared.clone();
        let sockets = match shared.ports.allocate().await {
            Ok(sockets) => sockets,
            Err(error) => {
                warn!(call_id = %self.call_id, %error, "rejecting call: no RTP ports");
                dialog
                    .reject(Some(StatusCode::ServiceUnavailable), None)
                    .ok();
                return Err(error);
            }
        };
        let sdp_session_id = u64::from(rand::random::<u32>());
        let answer = render_answer(
            &self.media,
            shared.advertised_ip,
            sockets.rtp_port,
            sdp_session_id,
            1,
        );
        dialog.accept(
            Some(vec![Header::ContentType("application/sdp".into())]),
            Some(answer.clone().into_bytes()),
        )?;

        let (events_tx, events_rx) = mpsc::channel(shared.config.inbound_event_capacity.max(8));
        let outbound = Arc::new(OutboundQueue::new());
        let forward = Arc::new(FrameForward::default());
        let info = CallInfo {
            call_id: self.call_id.clone(),
            caller: self.caller.clone(),
            callee: self.callee.clone(),
            remote_signaling: self.remote_signaling,
            codec: self.media.codec,
            local_rtp_port: sockets.rtp_port,
        };
        info!(call_id = %info.call_id, caller = %info.caller, callee = %info.callee,
              codec = ?info.codec, rtp_port = info.local_rtp_port, "call answered");
        let started = shared.start_media(MediaSetup {
            dialog_id: dialog.id(),
            call_id: self.call_id.clone(),
            sockets,
            media: self.media,
            outbound: outbound.clone(),
            events: events_tx.clone(),
            forward: forward.clone(),
            local_sdp: answer,
            sdp_session_id,
        });
        let media_stop = started.stop.clone();
        let link = Arc::new(CallLink {
            outbound,
            media: started.media.clone(),
            dialog: dialog.clone(),
            media_stop: media_stop.clone(),
            local_hang_up: AtomicBool::new(false),
            transfer_running: AtomicBool::new(false),
            transferred: AtomicBool::new(false),
            forward,
            events: events_tx.downgrade(),
            bridge: shared.clone(),
            info: info.clone(),
            ended: self.ended.clone(),
            ended_as: std::sync::Mutex::new(None),
        });

        // Supervisor: when the dialog ends, media dies or we stop, end the leg, then say
        // HangUp last.
        let mut ended = self.ended.clone();
        let bridge_stop = shared.stop.clone();
        let call_id = self.call_id.clone();
        let supervised = link.clone();
        let StartedMedia { mut task, stop, .. } = started;
        tokio::spawn(async move {
            let mut stats = None;
            let reason = tokio::select! {
                r = wait_ended(&mut ended) => r.unwrap_or(HangUpReason::BridgeStopped),
                () = stop.cancelled() => HangUpReason::LocalHangUp,
                () = bridge_stop.cancelled() => HangUpReason::BridgeStopped,
                finished = &mut task => {
                    let finished = finished.unwrap_or_default();
                    stats = Some(finished);
                    if finished.rtp_timed_out {
                        supervised.end().await;
                        HangUpReason::RtpTimeout
                    } else {
                        HangUpReason::LocalHangUp
                    }
                }
            };
            // A transfer may have marked the reason more precisely.
            let reason = supervised.end_reason().unwrap_or(reason);
            stop.cancel();
            let stats = match stats {
                Some(stats) => stats,
                None => task.await.unwrap_or_default(),
            };
            info!(%call_id, ?reason, sent = stats.packets_sent, received = stats.packets_received,
                  lost = stats.jitter.lost, rtcp_sent = stats.rtcp_sent, "call ended");
            events_tx.send(CallEvent::HangUp(reason)).await.ok();
        });

        Ok(Call {
            info,
            events: events_rx,
            control: CallControl { link },
        })
    }

    /// Turns the call away with a final response.
    pub fn reject(mut self, reason: RejectReason) {
        if let Some(dialog) = self.dialog.take() {
            info!(call_id = %self.call_id, ?reason, "call rejected");
            dialog.reject(Some(reason.status()), None).ok();
        }
    }
}

impl Drop for IncomingCall {
    fn drop(&mut self) {
        if let Some(dialog) = self.dialog.take() {
            warn!(call_id = %self.call_id, "IncomingCall dropped unanswered; rejecting with 480");
            dialog
                .reject(Some(StatusCode::TemporarilyUnavailable), None)
                .ok();
        }
    }
}
