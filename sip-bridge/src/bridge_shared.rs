//! State shared by the request router, the dialog-state task and every call leg: the config,
//! the SIP stack handles, the RTP port allocator and the registry of live legs.
//!
//! The registry maps a dialog id to what in-dialog requests need: the leg's end signal, its
//! negotiated media (a re-INVITE changes it), where SIP INFO digits go, and who is waiting for
//! REFER progress NOTIFYs.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rsipstack::dialog::DialogId;
use rsipstack::dialog::dialog::DialogStateSender;
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::sip::Uri;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::call::{CallEvent, HangUpReason};
use crate::config::BridgeConfig;
use crate::digest_guard::DigestGuard;
use crate::frame_forward::FrameForward;
use crate::media_session::{MediaSession, MediaStats};
use crate::outbound_queue::OutboundQueue;
use crate::rtp_ports::{RtpPortAllocator, RtpSocketPair};
use crate::sdp::NegotiatedMedia;
use crate::sipfrag::ReferProgress;

/// The media side of a live leg, as in-dialog requests see it.
pub(crate) struct LegMedia {
    pub events: mpsc::WeakSender<CallEvent>,
    pub negotiated: watch::Sender<NegotiatedMedia>,
    pub local_rtp_port: u16,
    pub sdp_session_id: u64,
    pub sdp_version: u64,
    /// Our current SDP (answer or offer), repeated to offer-less or refresh re-INVITEs.
    pub local_sdp: String,
}

/// Per-leg bookkeeping kept after the INVITE.
pub(crate) struct LegSlot {
    pub ended: watch::Sender<Option<HangUpReason>>,
    pub media: Option<LegMedia>,
    pub refer_progress: Option<mpsc::UnboundedSender<ReferProgress>>,
}

/// A leg's running media task.
pub(crate) struct StartedMedia {
    pub task: JoinHandle<MediaStats>,
    pub stop: CancellationToken,
    /// The leg's media as negotiated now (a re-INVITE changes it).
    pub media: watch::Receiver<NegotiatedMedia>,
}

/// What [`BridgeShared::start_media`] needs for one leg.
pub(crate) struct MediaSetup {
    pub dialog_id: DialogId,
    pub call_id: String,
    pub sockets: RtpSocketPair,
    pub media: NegotiatedMedia,
    pub outbound: Arc<OutboundQueue>,
    pub events: mpsc::Sender<CallEvent>,
    pub forward: Arc<FrameForward>,
    pub local_sdp: String,
    pub sdp_session_id: u64,
}

pub(crate) struct BridgeShared {
    pub config: BridgeConfig,
    pub ports: RtpPortAllocator,
    pub advertised_ip: IpAddr,
    pub stop: CancellationToken,
    pub dialogs: Arc<DialogLayer>,
    pub state_sender: DialogStateSender,
    pub udp_contact: Option<Uri>,
    pub tcp_contact: Option<Uri>,
    pub digest: Option<DigestGuard>,
    legs: Mutex<HashMap<String, LegSlot>>,
}

impl BridgeShared {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: BridgeConfig,
        advertised_ip: IpAddr,
        stop: CancellationToken,
        dialogs: Arc<DialogLayer>,
        state_sender: DialogStateSender,
        udp_contact: Option<Uri>,
        tcp_contact: Option<Uri>,
    ) -> BridgeShared {
        BridgeShared {
            ports: RtpPortAllocator::new(
                config.rtp_bind_ip,
                config.rtp_port_min,
                config.rtp_port_max,
            ),
            digest: config.inbound_auth.clone().map(DigestGuard::new),
            config,
            advertised_ip,
            stop,
            dialogs,
            state_sender,
            udp_contact,
            tcp_contact,
            legs: Mutex::new(HashMap::new()),
        }
    }

    pub fn legs(&self) -> MutexGuard<'_, HashMap<String, LegSlot>> {
        self.legs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a leg; the receiver says when (and why) it ended.
    pub fn add_leg(&self, id: &DialogId) -> watch::Receiver<Option<HangUpReason>> {
        let (ended, ended_rx) = watch::channel(None);
        self.legs().insert(
            id.to_string(),
            LegSlot {
                ended,
                media: None,
                refer_progress: None,
            },
        );
        ended_rx
    }

    pub fn end_leg(&self, id: &DialogId, reason: HangUpReason) {
        if let Some(slot) = self.legs().remove(&id.to_string()) {
            slot.ended.send_replace(Some(reason));
        }
        self.dialogs.remove_dialog(id);
    }

    /// Routes REFER progress NOTIFYs of this leg to `listener` (or stops routing them).
    pub fn listen_for_refer(
        &self,
        id: &DialogId,
        listener: Option<mpsc::UnboundedSender<ReferProgress>>,
    ) {
        if let Some(slot) = self.legs().get_mut(&id.to_string()) {
            slot.refer_progress = listener;
        }
    }

    /// Starts the leg's RTP task and records its media for in-dialog requests.
    pub fn start_media(&self, setup: MediaSetup) -> StartedMedia {
        let (negotiated, negotiated_rx) = watch::channel(setup.media);
        let stop = CancellationToken::new();
        let local_rtp_port = setup.sockets.rtp_port;
        if let Some(slot) = self.legs().get_mut(&setup.dialog_id.to_string()) {
            slot.media = Some(LegMedia {
                events: setup.events.downgrade(),
                negotiated,
                local_rtp_port,
                sdp_session_id: setup.sdp_session_id,
                sdp_version: 1,
                local_sdp: setup.local_sdp,
            });
        }
        let media = negotiated_rx.clone();
        let session = MediaSession {
            sockets: setup.sockets,
            media: negotiated_rx,
            outbound: setup.outbound,
            events: setup.events,
            forward: setup.forward,
            stop: stop.clone(),
            jitter_max_held: self.config.jitter_max_held,
            jitter_max_wait: self.config.jitter_max_wait,
            rtp_timeout: self.config.rtp_timeout.filter(|t| *t > Duration::ZERO),
            call_id: setup.call_id,
        };
        StartedMedia {
            task: tokio::spawn(session.run()),
            stop,
            media,
        }
    }

    /// Ends every leg (bridge shutdown).
    pub fn end_all(&self, reason: HangUpReason) {
        let slots: Vec<LegSlot> = self.legs().drain().map(|(_, slot)| slot).collect();
        for slot in slots {
            slot.ended.send_replace(Some(reason));
        }
    }
}

/// Waits until a leg has ended; `None` when the registry was dropped (bridge gone).
pub(crate) async fn wait_ended(
    ended: &mut watch::Receiver<Option<HangUpReason>>,
) -> Option<HangUpReason> {
    ended.wait_for(Option::is_some).await.ok().and_then(|r| *r)
}
