//! What the engine holds for one answered call: events in, frames out, flush, hang up.
//!
//! [`Call`] owns the inbound event receiver; [`CallControl`] is a cheap clonable handle for the
//! output side, so the engine's reader and writer can live in different tasks.

use std::net::SocketAddr;
use std::sync::Arc;

use hotline_audio::Frame;
use rsipstack::dialog::invite_dialog::InviteDialog;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::debug;

use crate::outbound_queue::OutboundQueue;
use crate::sdp::AudioCodec;

/// Why a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HangUpReason {
    /// The caller sent BYE.
    RemoteBye,
    /// We hung up ([`CallControl::hang_up`]).
    LocalHangUp,
    /// The SIP dialog timed out (no ACK, or the transport failed).
    Timeout,
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
    /// A DTMF key (RFC 4733): `0-9`, `*`, `#`, `A-D`.
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

/// The output side of a call; clone freely.
#[derive(Clone)]
pub struct CallControl {
    pub(crate) outbound: Arc<OutboundQueue>,
    pub(crate) dialog: InviteDialog,
    pub(crate) media_stop: CancellationToken,
    pub(crate) local_hang_up: Arc<std::sync::atomic::AtomicBool>,
}

impl CallControl {
    /// Queues one frame; the bridge sends it in its 20 ms slot.
    pub fn send_frame(&self, frame: Frame) {
        self.outbound.push(frame);
    }

    /// Queues many frames (a synthesized sentence).
    pub fn send_frames(&self, frames: impl IntoIterator<Item = Frame>) {
        self.outbound.extend(frames);
    }

    /// Drops all queued outbound audio now (barge-in). Returns the frames dropped.
    pub fn flush(&self) -> usize {
        self.outbound.flush()
    }

    /// Frames waiting to be sent (each is 20 ms).
    pub fn queued_frames(&self) -> usize {
        self.outbound.len()
    }

    /// Sends BYE and stops the media. The event stream ends with `HangUp(LocalHangUp)`.
    pub async fn hang_up(&self) {
        if self
            .local_hang_up
            .swap(true, std::sync::atomic::Ordering::AcqRel)
        {
            return;
        }
        if let Err(error) = self.dialog.bye().await {
            debug!(%error, "BYE not sent (dialog already over)");
        }
        self.media_stop.cancel();
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
