//! What the engine holds for one answered call: events in, frames and DTMF keys out, flush,
//! transfer, hang up.
//!
//! [`Call`] owns the inbound event receiver; [`CallControl`] is a cheap clonable handle for the
//! output side, so the engine's reader and writer can live in different tasks.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hotline_audio::Frame;
use rsipstack::dialog::invite_dialog::InviteDialog;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

use crate::bridge_shared::BridgeShared;
use crate::dtmf_sender::DtmfTone;
use crate::error::DtmfSendError;
use crate::frame_forward::FrameForward;
use crate::outbound_queue::OutboundQueue;
use crate::sdp::{AudioCodec, NegotiatedMedia};
use crate::transfer_request::{TransferError, TransferRequest, TransferResult, checked_target};

/// Why a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HangUpReason {
    /// The caller sent BYE.
    RemoteBye,
    /// We hung up ([`CallControl::hang_up`]).
    LocalHangUp,
    /// The SIP dialog timed out (no ACK, or the transport failed).
    Timeout,
    /// No RTP arrived for the configured time; we sent BYE (session expiry of a dead call).
    RtpTimeout,
    /// A blind transfer succeeded (NOTIFY 200) and we left the call.
    Transferred,
    /// The agent of a bridged transfer hung up, so we ended the caller's leg too.
    AgentHungUp,
    /// The bridge shut down.
    BridgeStopped,
}

/// Something that happened on the call, in order.
// Audio is nearly every event: boxing the frame would allocate 50 times a second per call.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEvent {
    /// 20 ms of the caller's audio at 16 kHz.
    Audio(Frame),
    /// 20 ms of the agent's audio at 16 kHz, while a bridged transfer relays it to the caller
    /// (for recording and transcription).
    AgentAudio(Frame),
    /// A DTMF key (RFC 4733 or SIP INFO): `0-9`, `*`, `#`, `A-D`.
    Dtmf(char),
    /// The call is over; no further events follow.
    HangUp(HangUpReason),
}

/// Facts about a call, for logs and routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInfo {
    pub call_id: String,
    /// From URI (the caller), e.g. `sip:+85212345678@trunk.example`.
    pub caller: String,
    /// Request/To URI (the number dialled).
    pub callee: String,
    /// Where the INVITE came from (transport source address).
    pub remote_signaling: SocketAddr,
    pub codec: AudioCodec,
    /// Our RTP port for this call.
    pub local_rtp_port: u16,
}

/// Everything the output side of one call needs; shared by its [`CallControl`] clones.
pub(crate) struct CallLink {
    pub outbound: Arc<OutboundQueue>,
    /// The caller's media as negotiated now (a re-INVITE may change it).
    pub media: watch::Receiver<NegotiatedMedia>,
    pub dialog: InviteDialog,
    pub media_stop: CancellationToken,
    pub local_hang_up: AtomicBool,
    pub transfer_running: AtomicBool,
    /// The caller is with the agent (bridged) or gone to the REFER target.
    pub transferred: AtomicBool,
    /// The caller's inbound audio relay (set to the agent's queue while bridged).
    pub forward: Arc<FrameForward>,
    /// For `AgentAudio` events; weak so the stream still ends after `HangUp`.
    pub events: mpsc::WeakSender<CallEvent>,
    pub bridge: Arc<BridgeShared>,
    pub info: CallInfo,
    /// When (and why) the caller's dialog ended.
    pub ended: watch::Receiver<Option<HangUpReason>>,
    /// A more precise end reason set by a transfer before it ends the leg.
    pub ended_as: Mutex<Option<HangUpReason>>,
}

impl CallLink {
    pub(crate) fn mark_end_reason(&self, reason: HangUpReason) {
        *self.ended_as.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
    }

    pub(crate) fn end_reason(&self) -> Option<HangUpReason> {
        *self.ended_as.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn caller_gone(&self) -> bool {
        self.ended.borrow().is_some() || self.media_stop.is_cancelled()
    }

    /// Sends BYE on the caller's leg and stops its media.
    pub(crate) async fn end(&self) {
        if self.local_hang_up.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Err(error) = self.dialog.bye().await {
            debug!(%error, "BYE not sent (dialog already over)");
        }
        self.media_stop.cancel();
    }
}

/// The output side of a call; clone freely.
#[derive(Clone)]
pub struct CallControl {
    pub(crate) link: Arc<CallLink>,
}

impl CallControl {
    /// Queues one frame; the bridge sends it in its 20 ms slot. Ignored while a transfer runs
    /// (the hold audio owns the line; an engine that keeps playing its 20 ms clock, silence
    /// included, would otherwise shred it) and once the caller is bridged to an agent (the
    /// agent's audio owns the line). With nothing queued the bridge sends silence itself.
    pub fn send_frame(&self, frame: Frame) {
        if self.engine_owns_the_line() {
            self.link.outbound.push(frame);
        }
    }

    /// Queues many frames (a synthesized sentence); ignored like [`Self::send_frame`].
    pub fn send_frames(&self, frames: impl IntoIterator<Item = Frame>) {
        if self.engine_owns_the_line() {
            self.link.outbound.extend(frames);
        }
    }

    fn engine_owns_the_line(&self) -> bool {
        !self.is_transferred() && !self.is_transferring()
    }

    /// Drops all queued outbound audio now (barge-in). Returns the frames dropped.
    /// Does nothing once bridged, and does not stop hold audio during a transfer.
    pub fn flush(&self) -> usize {
        if self.is_transferred() || self.link.transfer_running.load(Ordering::Acquire) {
            return 0;
        }
        self.link.outbound.flush()
    }

    /// Sends a DTMF key (`0-9`, `*`, `#`, `A-D`) held for `duration` (40 ms - 1 s; 100 ms is
    /// usual) to the caller as RFC 4733 telephone-events on the call's RTP stream, at the
    /// payload type and clock rate the caller offered. Returns once the key is queued: it goes
    /// out in the next free 20 ms slots, ahead of queued audio, which waits meanwhile (a press
    /// of 100 ms takes 7 slots: 5 for the tone, 2 more repeating its end). Keys queued one after
    /// another are 60 ms apart.
    ///
    /// Refused when the caller did not offer telephone-event, while the call is on hold, while
    /// a transfer owns the line, and after the call ended.
    pub fn send_dtmf(&self, digit: char, duration: Duration) -> Result<(), DtmfSendError> {
        let tone = DtmfTone::new(digit, duration)?;
        self.queue_keys(&[tone])
    }

    /// Sends several keys (`"1234#"`), each held for `duration`; all of them or none are
    /// queued (see [`Self::send_dtmf`]).
    pub fn send_dtmf_digits(&self, digits: &str, duration: Duration) -> Result<(), DtmfSendError> {
        let tones = digits
            .chars()
            .map(|digit| DtmfTone::new(digit, duration))
            .collect::<Result<Vec<_>, _>>()?;
        self.queue_keys(&tones)
    }

    fn queue_keys(&self, tones: &[DtmfTone]) -> Result<(), DtmfSendError> {
        if self.link.caller_gone() {
            return Err(DtmfSendError::CallEnded);
        }
        if !self.engine_owns_the_line() {
            return Err(DtmfSendError::Transferred);
        }
        let media = *self.link.media.borrow();
        if media.telephone_event.is_none() {
            return Err(DtmfSendError::NoTelephoneEvent);
        }
        if !media.direction.sends() {
            return Err(DtmfSendError::OnHold);
        }
        self.link
            .outbound
            .push_keys(tones)
            .map_err(|queued| DtmfSendError::QueueFull { queued })?;
        let digits: String = tones.iter().map(|tone| tone.digit()).collect();
        info!(call_id = %self.link.info.call_id, %digits, "DTMF keys queued for the caller (RFC 4733)");
        Ok(())
    }

    /// Frames waiting to be sent (each is 20 ms).
    pub fn queued_frames(&self) -> usize {
        self.link.outbound.len()
    }

    /// Whether the caller has been handed to a human (bridged or referred).
    pub fn is_transferred(&self) -> bool {
        self.link.transferred.load(Ordering::Acquire)
    }

    /// Whether a transfer is being attempted right now.
    pub fn is_transferring(&self) -> bool {
        self.link.transfer_running.load(Ordering::Acquire)
    }

    /// Hands the caller to a human (see [`TransferRequest`]). Only one transfer runs at a time:
    /// a second request while one is in progress fails at once with
    /// [`TransferError::AlreadyInProgress`] (no double dial). On failure the caller is still
    /// connected to us and the engine carries on.
    ///
    /// The transfer runs in a task of its own: an engine that drops this future (its call ended)
    /// does not abandon the agent's leg half-way; the task sees the caller gone and hangs the
    /// agent up.
    pub async fn transfer(&self, request: TransferRequest) -> TransferResult {
        let target = checked_target(&request.target)?.to_string();
        if self.is_transferred() {
            return Err(TransferError::AlreadyTransferred);
        }
        if self.link.transfer_running.swap(true, Ordering::AcqRel) {
            return Err(TransferError::AlreadyInProgress);
        }
        info!(call_id = %self.link.info.call_id, %target, mode = ?request.mode, "transfer requested");
        let link = self.link.clone();
        let task = tokio::spawn(async move {
            let result = crate::transfer::run(&link, &target, &request).await;
            if result.is_ok() {
                link.transferred.store(true, Ordering::Release);
            }
            link.transfer_running.store(false, Ordering::Release);
            info!(call_id = %link.info.call_id, ?result, "transfer finished");
            result
        });
        match task.await {
            Ok(result) => result,
            Err(error) => {
                self.link.transfer_running.store(false, Ordering::Release);
                Err(TransferError::Sip(format!(
                    "the transfer task failed: {error}"
                )))
            }
        }
    }

    /// Sends BYE and stops the media. The event stream ends with `HangUp(LocalHangUp)`.
    /// While bridged this also ends the agent's leg.
    pub async fn hang_up(&self) {
        self.link.end().await;
    }
}

/// An answered call.
pub struct Call {
    pub(crate) info: CallInfo,
    pub(crate) events: mpsc::Receiver<CallEvent>,
    pub(crate) control: CallControl,
}

impl Call {
    pub fn info(&self) -> &CallInfo {
        &self.info
    }

    /// The next event; `None` after `HangUp` has been delivered.
    pub async fn recv(&mut self) -> Option<CallEvent> {
        self.events.recv().await
    }

    /// A handle for the output side.
    pub fn control(&self) -> CallControl {
        self.control.clone()
    }

    /// Splits into facts, the event receiver and the output handle.
    pub fn into_parts(self) -> (CallInfo, mpsc::Receiver<CallEvent>, CallControl) {
        (self.info, self.events, self.control)
    }

    pub fn send_frame(&self, frame: Frame) {
        self.control.send_frame(frame);
    }

    pub fn flush(&self) -> usize {
        self.control.flush()
    }

    pub async fn hang_up(&self) {
        self.control.hang_up().await;
    }
}
