//! The SIP user agent: listeners, the request router, and the registry of live calls.
//!
//! rsipstack parses messages, runs the RFC 3261 transaction state machines and the INVITE
//! dialogs (100 Trying, retransmissions, ACK, CANCEL → 487, BYE). This file decides policy:
//! who may call (source allowlist → 403), what to answer (SDP negotiation → 488), OPTIONS
//! keep-alives, and it turns dialog state changes into call events for the engine.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use rsipstack::EndpointBuilder;
use rsipstack::dialog::DialogId;
use rsipstack::dialog::dialog::{
    DialogState, DialogStateReceiver, DialogStateSender, TerminatedReason,
};
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Header, Method, StatusCode, Uri};
use rsipstack::transaction::TransactionReceiver;
use rsipstack::transaction::transaction::Transaction;
use rsipstack::transport::TransportLayer;
use rsipstack::transport::tcp_listener::TcpListenerConnection;
use rsipstack::transport::udp::UdpConnection;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::call::HangUpReason;
use crate::config::BridgeConfig;
use crate::error::{BridgeError, SdpError};
use crate::incoming_call::IncomingCall;
use crate::rtp_ports::RtpPortAllocator;
use crate::sdp::SdpOffer;

const ALLOWED_METHODS: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO";

/// Per-call bookkeeping the router needs after the INVITE.
struct CallSlot {
    ended: watch::Sender<Option<HangUpReason>>,
    /// Our current SDP answer, repeated in answers to session-refresh re-INVITEs.
    answer_sdp: Option<String>,
}

/// State shared by the router, the dialog-state task and every call.
pub(crate) struct BridgeShared {
    pub config: BridgeConfig,
    pub ports: RtpPortAllocator,
    pub advertised_ip: IpAddr,
    pub stop: CancellationToken,
    dialogs: Arc<DialogLayer>,
    state_sender: DialogStateSender,
    calls: Mutex<HashMap<String, CallSlot>>,
    udp_contact: Option<Uri>,
    tcp_contact: Option<Uri>,
}

impl BridgeShared {
    fn calls(&self) -> std::sync::MutexGuard<'_, HashMap<String, CallSlot>> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn remember_answer(&self, dialog: &InviteDialog, answer: String) {
        if let Some(slot) = self.calls().get_mut(&dialog.id().to_string()) {
            slot.answer_sdp = Some(answer);
        }
    }

    fn end_call(&self, id: &DialogId, reason: HangUpReason) {
        if let Some(slot) = self.calls().remove(&id.to_string()) {
            slot.ended.send_replace(Some(reason));
        }
        self.dialogs.remove_dialog(id);
    }
}

/// A running SIP bridge: accepts calls from the configured trunk.
pub struct SipBridge {
    shared: Arc<BridgeShared>,
    incoming: mpsc::Receiver<IncomingCall>,
    udp_addr: Option<SocketAddr>,
    tcp_addr: Option<SocketAddr>,
}

impl SipBridge {
    /// Binds the listeners and starts serving. Must be called inside a tokio runtime.
    pub async fn start(config: BridgeConfig) -> Result<SipBridge, BridgeError> {
        config.validate()?;
        let stop = CancellationToken::new();
        let transport_layer = TransportLayer::new(stop.child_token());

        let mut udp_addr = None;
        if let Some(addr) = config.udp_listen {
            let udp = UdpConnection::create_connection(addr, None, Some(stop.child_token()))
                .await
                .map_err(|source| BridgeError::BindSip {
                    transport: "UDP",
                    addr,
                    source,
                })?;
            let bound = udp
                .get_addr()
                .get_socketaddr()
                .map_err(|source| BridgeError::BindSip {
                    transport: "UDP",
                    addr,
                    source,
                })?;
            udp_addr = Some(bound);
            transport_layer.add_transport(udp.into());
        }
        let mut tcp_addr = None;
        if let Some(addr) = config.tcp_listen {
            // rsipstack binds TCP lazily and ignores the error; bind here first so a busy port
            // fails now, and so port 0 resolves to a real port we can advertise.
            let probe = std::net::TcpListener::bind(addr).map_err(|e| BridgeError::BindSip {
                transport: "TCP",
                addr,
                source: rsipstack::Error::Error(e.to_string()),
            })?;
            let bound = probe.local_addr().map_err(|e| BridgeError::BindSip {
                transport: "TCP",
                addr,
                source: rsipstack::Error::Error(e.to_string()),
            })?;
            drop(probe);
            let tcp = TcpListenerConnection::new(bound, None)
                .await
                .map_err(|source| BridgeError::BindSip {
                    transport: "TCP",
                    addr,
                    source,
                })?;
            tcp_addr = Some(bound);
            transport_layer.add_transport(tcp.into());
        }

        let endpoint = EndpointBuilder::new()
            .with_cancel_token(stop.child_token())
            .with_transport_layer(transport_layer)
            .with_user_agent(&config.user_agent)
            .build();
        let advertised_ip = config
            .advertised_ip
            .or_else(|| {
                [udp_addr, tcp_addr]
                    .into_iter()
                    .flatten()
                    .map(|a| a.ip())
                    .find(|ip| !ip.is_unspecified())
            })
            .or_else(|| {
                endpoint
                    .get_addrs()
                    .first()
                    .and_then(|a| a.get_socketaddr().ok())
                    .map(|a| a.ip())
            })
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let contact = |addr: Option<SocketAddr>, suffix: &str| {
            addr.and_then(|a| {
                let text = format!(
                    "sip:hotline@{}{suffix}",
                    SocketAddr::new(advertised_ip, a.port())
                );
                Uri::try_from(text.as_str()).ok()
            })
        };
        let incoming_transactions = endpoint.incoming_transactions()?;
        let dialogs = Arc::new(DialogLayer::new(endpoint.inner.clone()));
        let (state_sender, state_receiver) = dialogs.new_dialog_state_channel();
        let shared = Arc::new(BridgeShared {
            ports: RtpPortAllocator::new(
                config.rtp_bind_ip,
                config.rtp_port_min,
                config.rtp_port_max,
            ),
            udp_contact: contact(udp_addr, ""),
            tcp_contact: contact(tcp_addr, ";transport=tcp"),
            config,
            advertised_ip,
            stop: stop.clone(),
            dialogs,
            state_sender,
            calls: Mutex::new(HashMap::new()),
        });

        let endpoint_stop = stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = endpoint.serve() => warn!("SIP endpoint stopped"),
                () = endpoint_stop.cancelled() => {}
            }
            endpoint.shutdown();
        });
        tokio::spawn(follow_dialog_states(shared.clone(), state_receiver));
        let (incoming_tx, incoming) = mpsc::channel(64);
        tokio::spawn(route_requests(
            shared.clone(),
            incoming_transactions,
            incoming_tx,
        ));
        info!(?udp_addr, ?tcp_addr, %advertised_ip, "SIP bridge listening");
        Ok(SipBridge {
            shared,
            incoming,
            udp_addr,
            tcp_addr,
        })
    }

    /// The bound UDP SIP address (useful with port 0).
    pub fn udp_addr(&self) -> Option<SocketAddr> {
        self.udp_addr
    }

    /// The bound TCP SIP address.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.tcp_addr
    }

    /// The next call from the trunk, ringing. `None` after [`Self::shutdown`].
    pub async fn accept(&mut self) -> Option<IncomingCall> {
        tokio::select! {
            call = self.incoming.recv() => call,
            () = self.shared.stop.cancelled() => None,
        }
    }

    /// Number of calls ringing or up.
    pub fn active_calls(&self) -> usize {
        self.shared.calls().len()
    }

    /// Stops listening and ends every call (`HangUp(BridgeStopped)`).
    pub fn shutdown(&self) {
        self.shared.stop.cancel();
    }
}

impl Drop for SipBridge {
    fn drop(&mut self) {
        self.shared.stop.cancel();
    }
}

async fn route_requests(
    shared: Arc<BridgeShared>,
    mut transactions: TransactionReceiver,
    incoming: mpsc::Sender<IncomingCall>,
) {
    loop {
        let tx = tokio::select! {
            tx = transactions.recv() => tx,
            () = shared.stop.cancelled() => None,
        };
        let Some(tx) = tx else { break };
        let shared = shared.clone();
        let incoming = incoming.clone();
        // Each transaction lives in its own task: a slow peer never blocks the router.
        tokio::spawn(async move {
            if let Err(error) = route_one(&shared, tx, &incoming).await {
                debug!(%error, "request handling ended with an error");
            }
        });
    }
}

fn source_of(tx: &Transaction) -> Option<SocketAddr> {
    tx.connection
        .as_ref()
        .and_then(|c| c.get_remote_addr())
        .and_then(|a| a.get_socketaddr().ok())
}

async fn route_one(
    shared: &Arc<BridgeShared>,
    mut tx: Transaction,
    incoming: &mpsc::Sender<IncomingCall>,
) -> Result<(), rsipstack::Error> {
    let method = tx.original.method;
    let in_dialog = tx
        .original
        .to_header()
        .and_then(|to| to.tag())
        .ok()
        .flatten()
        .is_some();
    if in_dialog {
        return match shared.dialogs.match_dialog(&tx) {
            Some(mut dialog) => dialog.handle(&mut tx).await,
            None if method == Method::Ack => Ok(()),
            None => tx.reply(StatusCode::CallTransactionDoesNotExist).await,
        };
    }

    let Some(source) = source_of(&tx) else {
        warn!(%method, "request without a source address; dropped");
        return Ok(());
    };
    if !shared.config.is_trunk(source.ip()) {
        warn!(%source, %method, from = %tx.original.from_header().map(|f| f.to_string()).unwrap_or_default(),
              "request from a source outside the trunk allowlist; answering 403");
        if method != Method::Ack {
            tx.reply(StatusCode::Forbidden).await?;
        }
        return Ok(());
    }
    match method {
        Method::Invite => handle_invite(shared, tx, source, incoming).await,
        Method::Options => {
            let headers = vec![
                Header::Allow(ALLOWED_METHODS.into()),
                Header::Accept("application/sdp".into()),
            ];
            tx.reply_with(StatusCode::OK, headers, None).await
        }
        Method::Ack => Ok(()),
        Method::Bye | Method::Cancel => tx.reply(StatusCode::CallTransactionDoesNotExist).await,
        _ => {
            tx.reply_with(
                StatusCode::MethodNotAllowed,
                vec![Header::Allow(ALLOWED_METHODS.into())],
                None,
            )
            .await
        }
    }
}

async fn handle_invite(
    shared: &Arc<BridgeShared>,
    mut tx: Transaction,
    source: SocketAddr,
    incoming: &mpsc::Sender<IncomingCall>,
) -> Result<(), rsipstack::Error> {
    let call_id = tx
        .original
        .call_id_header()
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    let media = match SdpOffer::parse(&tx.original.body).and_then(|offer| offer.negotiate()) {
        Ok(media) => media,
        Err(error) => {
            let status = match error {
                SdpError::NotUtf8 | SdpError::BadMediaLine | SdpError::BadConnectionLine(_)
                    if !tx.original.body.is_empty() =>
                {
                    StatusCode::BadRequest
                }
                _ => StatusCode::NotAcceptableHere,
            };
            warn!(%call_id, %source, %error, status = u16::from(status.clone()), "INVITE refused");
            let warning = Header::Warning(format!("399 hotline \"{error}\"").into());
            return tx.reply_with(status, vec![warning], None).await;
        }
    };
    let contact = match tx.connection.as_ref().map(|c| c.transport()) {
        Some(rsipstack::sip::Transport::Tcp) => shared.tcp_contact.clone(),
        _ => shared.udp_contact.clone(),
    };
    let mut dialog = shared.dialogs.get_or_create_server_invite(
        &tx,
        shared.state_sender.clone(),
        None,
        contact,
    )?;
    let (ended_tx, ended_rx) = watch::channel(None);
    shared.calls().insert(
        dialog.id().to_string(),
        CallSlot {
            ended: ended_tx,
            answer_sdp: None,
        },
    );
    let caller = tx
        .original
        .from_header()
        .and_then(|f| f.uri())
        .map(|u| u.to_string())
        .unwrap_or_default();
    let callee = tx.original.uri.to_string();
    let offered = IncomingCall {
        call_id: call_id.clone(),
        caller,
        callee,
        remote_signaling: source,
        media,
        dialog: Some(dialog.clone()),
        ended: ended_rx,
        shared: shared.clone(),
    };
    dialog.ringing(None, None)?;
    info!(%call_id, %source, caller = %offered.caller, "incoming call ringing");
    if let Err(error) = incoming.try_send(offered) {
        // The IncomingCall's Drop rejects it (480): the engine is not accepting calls.
        warn!(%call_id, %error, "engine is not accepting calls; rejecting");
        drop(error);
    }
    // Drives 100 Trying, the 180/200 we queue, retransmissions, ACK and CANCEL.
    dialog.handle(&mut tx).await
}

fn hang_up_reason(reason: &TerminatedReason) -> HangUpReason {
    match reason {
        TerminatedReason::UacBye | TerminatedReason::UacCancel => HangUpReason::RemoteBye,
        TerminatedReason::UasBye | TerminatedReason::UasDecline => HangUpReason::LocalHangUp,
        _ => HangUpReason::Timeout,
    }
}

async fn follow_dialog_states(shared: Arc<BridgeShared>, mut states: DialogStateReceiver) {
    loop {
        let state = tokio::select! {
            s = states.recv() => s,
            () = shared.stop.cancelled() => None,
        };
        let Some(state) = state else { break };
        match state {
            DialogState::Terminated(id, reason) => {
                debug!(%id, ?reason, "dialog terminated");
                shared.end_call(&id, hang_up_reason(&reason));
            }
            DialogState::Options(_, _, handle) => {
                handle.reply(StatusCode::OK).await.ok();
            }
            DialogState::Info(_, _, handle) | DialogState::Message(_, _, handle) => {
                // SIP INFO DTMF (application/dtmf-relay) is not decoded yet: acknowledged only.
                handle.reply(StatusCode::OK).await.ok();
            }
            DialogState::Notify(_, _, handle) => {
                handle.reply(StatusCode::OK).await.ok();
            }
            DialogState::Updated(id, request, handle) => {
                // Re-INVITE / UPDATE: keep the session as it is (hold/resume not handled yet).
                // Answering with the unchanged SDP keeps session-refresh re-INVITEs working.
                let answer = shared
                    .calls()
                    .get(&id.to_string())
                    .and_then(|slot| slot.answer_sdp.clone());
                match (request.method, answer) {
                    (Method::Invite, Some(sdp)) => {
                        let headers = vec![Header::ContentType("application/sdp".into())];
                        handle
                            .respond(StatusCode::OK, Some(headers), Some(sdp.into_bytes()))
                            .await
                            .ok();
                    }
                    (Method::Update, _) => {
                        handle.reply(StatusCode::OK).await.ok();
                    }
                    _ => {
                        handle.reply(StatusCode::NotAcceptableHere).await.ok();
                    }
                }
            }
            DialogState::Refer(_, _, handle) | DialogState::Publish(_, _, handle) => {
                handle.reply(StatusCode::NotImplemented).await.ok();
            }
            _ => {}
        }
    }
    // Bridge stopped: end whatever is still up.
    let ids: Vec<String> = shared.calls().keys().cloned().collect();
    for id in ids {
        if let Some(slot) = shared.calls().remove(&id) {
            slot.ended.send_replace(Some(HangUpReason::BridgeStopped));
        }
    }
}
