//! The SIP user agent: listeners and the router of out-of-dialog requests.
//!
//! rsipstack parses messages, runs the RFC 3261 transaction state machines and the INVITE
//! dialogs (100 Trying, retransmissions, ACK, CANCEL → 487, BYE). This file decides policy:
//! who may call (source allowlist → 403, or digest authentication → 401), what to answer (SDP
//! negotiation → 488), OPTIONS keep-alives, and whether the engine takes calls now
//! (`call_gate`: OPTIONS and new INVITEs get 503 + Retry-After while it is full or draining).
//! In-dialog requests are in `in_dialog_requests`. Every message first passes the RFC 3261
//! screen (`sip_screen`) and the scanner filter and rate limit (`request_guard`), on the UDP
//! socket (`screened_udp`) and on a relay in front of each TCP connection (`screened_tcp`).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use rsipstack::EndpointBuilder;
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::platform::net::UdpSocket as _;
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Header, Method, StatusCode, Uri};
use rsipstack::transaction::TransactionReceiver;
use rsipstack::transaction::transaction::Transaction;
use rsipstack::transport::SipConnection;
use rsipstack::transport::TransportLayer;
use rsipstack::transport::sip_addr::SipAddr;
use rsipstack::transport::udp::{UdpConnection, UdpInner};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::agent_leg::{AgentDial, AgentDialer, AgentLeg};
use crate::bridge_shared::BridgeShared;
use crate::call_gate::{Availability, BusyAnswer};
use crate::config::BridgeConfig;
use crate::digest_guard::DigestVerdict;
use crate::error::{BridgeError, ConfigError, SdpError};
use crate::in_dialog_requests::follow_dialog_states;
use crate::incoming_call::IncomingCall;
use crate::request_guard::RequestGuard;
use crate::screened_tcp::ScreenedTcpListener;
use crate::screened_udp::ScreenedUdpSocket;
use crate::sdp::SdpOffer;
use crate::transfer_request::TransferError;
use crate::trunk_registration::{RegistrationState, start_registration};

const ALLOWED_METHODS: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY";

/// A running SIP bridge: accepts calls from the configured trunk.
pub struct SipBridge {
    shared: Arc<BridgeShared>,
    /// The runtime the bridge was started in, where its calls to agents run.
    runtime: tokio::runtime::Handle,
    registration: watch::Receiver<RegistrationState>,
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
        let guard = Arc::new(RequestGuard::new(&config));

        let mut udp_addr = None;
        if let Some(addr) = config.udp_listen {
            let screened = ScreenedUdpSocket::bind(addr, ALLOWED_METHODS, guard.clone())
                .await
                .map_err(|e| BridgeError::BindSip {
                    transport: "UDP",
                    addr,
                    source: rsipstack::Error::Error(e.to_string()),
                })?;
            let bound = screened
                .local_addr()
                .map_err(|source| BridgeError::BindSip {
                    transport: "UDP",
                    addr,
                    source,
                })?;
            let inner = UdpInner {
                conn: Arc::new(screened),
                addr: SipAddr {
                    r#type: Some(rsipstack::sip::Transport::Udp),
                    addr: SipConnection::resolve_bind_address(bound).into(),
                },
            };
            let udp = UdpConnection::attach(inner, None, Some(stop.child_token())).await;
            udp_addr = Some(bound);
            transport_layer.add_transport(udp.into());
        }
        let mut tcp_addr = None;
        let mut tcp_listener = None;
        if let Some(addr) = config.tcp_listen {
            // Our own listener (see `screened_tcp`): rsipstack gets each connection relayed.
            let bind_error = |e: std::io::Error| BridgeError::BindSip {
                transport: "TCP",
                addr,
                source: rsipstack::Error::Error(e.to_string()),
            };
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(bind_error)?;
            let bound = listener.local_addr().map_err(bind_error)?;
            tcp_addr = Some(bound);
            tcp_listener = Some(ScreenedTcpListener {
                listener,
                local: SipAddr {
                    r#type: Some(rsipstack::sip::Transport::Tcp),
                    addr: SipConnection::resolve_bind_address(bound).into(),
                },
                allow: ALLOWED_METHODS,
                guard: guard.clone(),
            });
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
        if let Some(listener) = tcp_listener {
            tokio::spawn(listener.serve(endpoint.inner.clone(), stop.child_token()));
        }
        let dialogs = Arc::new(DialogLayer::new(endpoint.inner.clone()));
        let (state_sender, state_receiver) = dialogs.new_dialog_state_channel();
        let registration = match config.registration.clone() {
            Some(settings) => start_registration(
                endpoint.inner.clone(),
                settings,
                contact(udp_addr, "").or_else(|| contact(tcp_addr, ";transport=tcp")),
                stop.child_token(),
            )
            .map_err(|reason| BridgeError::Config(ConfigError::BadRegistration(reason)))?,
            None => watch::channel(RegistrationState::Disabled).1,
        };
        let shared = Arc::new(BridgeShared::new(
            config,
            advertised_ip,
            stop.clone(),
            dialogs,
            state_sender,
            contact(udp_addr, ""),
            contact(tcp_addr, ";transport=tcp"),
        ));

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
            runtime: tokio::runtime::Handle::current(),
            registration,
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

    /// A handle that calls agents for callers this bridge does not carry (browser calls), from
    /// any runtime; see [`AgentDialer::dial`].
    pub fn agent_dialer(&self) -> AgentDialer {
        AgentDialer {
            shared: self.shared.clone(),
            runtime: self.runtime.clone(),
        }
    }

    /// Calls an agent for a caller this bridge does not carry (see [`AgentDialer::dial`]).
    pub async fn dial_agent(&self, dial: AgentDial) -> Result<AgentLeg, TransferError> {
        self.agent_dialer().dial(dial).await
    }

    /// Number of call legs ringing or up (a bridged transfer counts two).
    pub fn active_calls(&self) -> usize {
        self.shared.legs().len()
    }

    /// The state of our registration at the trunk (follows refreshes and failures).
    pub fn registration(&self) -> watch::Receiver<RegistrationState> {
        self.registration.clone()
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
    if !shared.config.is_trunk(source.ip())
        && let Some(digest) = &shared.digest
        && method != Method::Ack
    {
        match digest.verify(&tx.original) {
            DigestVerdict::Authenticated(user) => {
                debug!(%source, %method, %user, "digest authentication passed");
            }
            verdict => {
                if let DigestVerdict::Invalid(why) = verdict {
                    warn!(%source, %method, why, "digest authentication failed; challenging again");
                }
                return tx
                    .reply_with(StatusCode::Unauthorized, vec![digest.challenge()], None)
                    .await;
            }
        }
    } else if !shared.config.is_trunk(source.ip()) {
        warn!(%source, %method, from = %tx.original.from_header().map(|f| f.to_string()).unwrap_or_default(),
              "request from a source outside the trunk allowlist; answering 403");
        if method != Method::Ack {
            tx.reply(StatusCode::Forbidden).await?;
        }
        return Ok(());
    }
    let availability = shared.config.call_gate.availability();
    // A full node that announces its busy lines lets the INVITE through to the engine.
    let announced = availability == Availability::Full
        && method == Method::Invite
        && shared.config.busy_answer == BusyAnswer::Announce;
    if availability != Availability::Open
        && !announced
        && matches!(method, Method::Invite | Method::Options)
    {
        let why = match availability {
            Availability::Draining => "draining: this node takes no new calls",
            _ => "all lines are busy",
        };
        info!(%source, %method, ?availability, "answering 503: not taking calls now");
        let headers = vec![
            Header::RetryAfter(
                shared
                    .config
                    .busy_retry_after
                    .as_secs()
                    .max(1)
                    .to_string()
                    .into(),
            ),
            Header::Warning(format!("399 hotline \"{why}\"").into()),
        ];
        return tx
            .reply_with(StatusCode::ServiceUnavailable, headers, None)
            .await;
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
    let ended_rx = shared.add_leg(&dialog.id());
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
