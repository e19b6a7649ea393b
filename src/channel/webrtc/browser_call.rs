//! One browser call: the WebRTC peer connection answering the page's offer, its audio both ways
//! ([`browser_audio`](super::browser_audio)), its `events` data channel (typed messages in,
//! whatever the web layer queues out), and the [`MediaLeg`] the conversation runs over, whose
//! transfer hands the visitor to an agent's phone ([`browser_transfer`](super::browser_transfer)).
//!
//! The connection lives in a keeper task that closes it when the call ends for any reason (the
//! bot, the page or the agent after a transfer hung up, ICE failed, it never connected), after
//! a short grace so the last messages (`ended`) still leave.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rtc::ice::mdns::MulticastDnsMode;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use tokio::sync::{OwnedSemaphorePermit, mpsc, watch};
use tokio_util::sync::CancellationToken;
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCConfigurationBuilder,
    RTCIceCandidateType, RTCIceGatheringState, RTCIceServer, RTCPeerConnectionState,
    RTCSessionDescription, SettingEngineBuilder,
};

use super::browser_audio::{BrowserAudioOut, receive_browser_audio};
use super::browser_messages::{BrowserMessageReader, BrowserRequest};
use super::browser_transfer::{BrowserTransfer, VisitorTransfer};
use super::config::WebRtcConfig;
use super::opus_track::{OPUS_PAYLOAD_TYPE, opus_media_engine, opus_track};
use super::port_pool::PortLease;
use super::visitor_line::VisitorLine;
use crate::channel::{LegControl, LegEvent, LegFuture, MediaLeg, TransferOutcome, TransferTarget};

/// Caller events that may wait for the driver (a second of audio).
const LEG_EVENT_QUEUE: usize = 64;
/// Messages for the page that may wait for the data channel to open.
const PAGE_MESSAGE_QUEUE: usize = 256;
/// The wait for our own ICE candidates (host candidates come at once; STUN takes longer).
const GATHERING_TIMEOUT: Duration = Duration::from_secs(3);
/// Time left for the last messages to leave before the connection is closed.
const CLOSE_GRACE: Duration = Duration::from_millis(300);

/// Why a browser call could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum BrowserCallError {
    #[error("the WebRTC stack refused the offer: {0}")]
    Offer(String),
    #[error("cannot set up the call's connection on {address}: {reason}")]
    Setup { address: String, reason: String },
}

/// A call answered and ready to run: the leg goes to the call driver, the rest to the web layer.
pub struct BrowserCall {
    pub leg: MediaLeg,
    /// The SDP answer for the page.
    pub answer_sdp: String,
    /// JSON texts for the page, sent on the `events` data channel in order.
    pub page_messages: mpsc::Sender<String>,
    /// Ends the call from the signalling side (`DELETE`).
    pub hang_up: BrowserHangUp,
    /// Becomes true when media can flow (ICE and DTLS done): start talking then, or the
    /// visitor misses the start of the greeting.
    pub connected: watch::Receiver<bool>,
}

/// Ends one browser call from outside (the page's DELETE, the engine shutting down), and says
/// when it is over.
#[derive(Clone)]
pub struct BrowserHangUp {
    leg_events: mpsc::Sender<LegEvent>,
    closing: CancellationToken,
}

impl BrowserHangUp {
    /// The caller is gone: the conversation (or the agent's call) ends, then the connection
    /// closes.
    pub fn hang_up(&self) {
        let _ = self.leg_events.try_send(LegEvent::HangUp);
        self.closing.cancel();
    }

    /// Completes once the call's connection is closing: someone hung up (after a transfer, the
    /// visitor or the agent), or it failed.
    pub async fn closed(&self) {
        self.closing.cancelled().await;
    }
}

/// What the call's connection needs from the endpoint.
pub struct BrowserCallSetup<'a> {
    pub call_id: Arc<str>,
    pub config: &'a WebRtcConfig,
    pub bind_ip: IpAddr,
    pub port: PortLease,
    /// Held for the life of the call: the endpoint's count of calls.
    pub permit: OwnedSemaphorePermit,
    /// How a transfer reaches the human line; `None`: transfers fail and say why.
    pub transfer: Option<BrowserTransfer>,
}

/// Answers `offer` (already checked by [`check_offer`](super::check_offer)).
pub async fn answer_browser_call(
    setup: BrowserCallSetup<'_>,
    offer: &str,
) -> Result<BrowserCall, BrowserCallError> {
    let BrowserCallSetup {
        call_id,
        config,
        bind_ip,
        port,
        permit,
        transfer,
    } = setup;
    let address = std::net::SocketAddr::new(bind_ip, port.port()).to_string();
    let setup_error = |reason: String| BrowserCallError::Setup {
        address: address.clone(),
        reason,
    };
    let (media_engine, registry) = opus_media_engine().map_err(|e| setup_error(e.to_string()))?;
    let mut settings = SettingEngineBuilder::new()
        // A server has no use for mDNS (the default would open port 5353 per connection);
        // a page's `.local` candidates still connect through peer-reflexive ones.
        .with_multicast_dns_mode(MulticastDnsMode::Disabled);
    if !config.public_address.trim().is_empty() {
        settings = settings.with_nat_1to1_ips(
            vec![config.public_address.trim().to_string()],
            RTCIceCandidateType::Host,
        );
    }
    let ice_servers = config
        .ice_servers
        .iter()
        .map(|server| RTCIceServer {
            urls: server.urls.clone(),
            username: server.username.clone(),
            credential: server.credential.clone(),
        })
        .collect();
    let rtc_config = RTCConfigurationBuilder::new()
        .with_ice_servers(ice_servers)
        .build();

    let (leg_events, events) = mpsc::channel(LEG_EVENT_QUEUE);
    let (page_messages, page_outbox) = mpsc::channel(PAGE_MESSAGE_QUEUE);
    let (gathered_tx, mut gathered) = mpsc::channel(1);
    let closing = CancellationToken::new();
    let (connected_tx, connected) = watch::channel(false);
    let line = Arc::new(VisitorLine::default());
    let handler = Arc::new(BrowserPeerHandler {
        call_id: Arc::clone(&call_id),
        leg_events: leg_events.clone(),
        page_messages: page_messages.clone(),
        page_outbox: Mutex::new(Some(page_outbox)),
        gathered: gathered_tx,
        closing: closing.clone(),
        line: Arc::clone(&line),
        audio_started: AtomicBool::new(false),
        connected: connected_tx,
    });
    let mut builder = PeerConnectionBuilder::new()
        .with_configuration(rtc_config)
        .with_media_engine(media_engine)
        .with_interceptor_registry(registry)
        .with_setting_engine(settings.build())
        .with_handler(Arc::clone(&handler) as Arc<dyn PeerConnectionEventHandler>)
        .with_udp_addrs(vec![address.clone()]);
    if config.ice_tcp {
        builder = builder.with_tcp_addrs(vec![address.clone()]);
    }
    let peer: Arc<dyn PeerConnection> = Arc::new(
        builder
            .build()
            .await
            .map_err(|e| setup_error(e.to_string()))?,
    );

    let ssrc = ssrc_for(&call_id);
    let track = opus_track("hotline", "bot-voice", "hotline bot", ssrc)
        .map_err(|e| setup_error(e.to_string()))?;
    let negotiate = async {
        let sender = peer
            .add_track(Arc::clone(&track) as Arc<dyn TrackLocal>)
            .await
            .map_err(|e| setup_error(e.to_string()))?;
        let offer = RTCSessionDescription::offer(offer.to_string())
            .map_err(|e| BrowserCallError::Offer(e.to_string()))?;
        peer.set_remote_description(offer)
            .await
            .map_err(|e| BrowserCallError::Offer(e.to_string()))?;
        let answer = peer
            .create_answer(None)
            .await
            .map_err(|e| BrowserCallError::Offer(e.to_string()))?;
        peer.set_local_description(answer)
            .await
            .map_err(|e| BrowserCallError::Offer(e.to_string()))?;
        let _ = tokio::time::timeout(GATHERING_TIMEOUT, gathered.recv()).await;
        let answer_sdp = peer
            .local_description()
            .await
            .map(|d| d.sdp)
            .ok_or_else(|| setup_error("no local description after the answer".to_string()))?;
        let payload_type = sender
            .get_parameters()
            .await
            .ok()
            .and_then(|p| p.rtp_parameters.codecs.first().map(|c| c.payload_type))
            .unwrap_or(OPUS_PAYLOAD_TYPE);
        Ok::<_, BrowserCallError>((answer_sdp, payload_type))
    };
    let (answer_sdp, payload_type) = match negotiate.await {
        Ok(done) => done,
        Err(error) => {
            let _ = peer.close().await;
            return Err(error);
        }
    };

    let audio = Arc::new(BrowserAudioOut::start(
        Arc::clone(&call_id),
        track,
        ssrc,
        payload_type,
    ));
    let control = BrowserLegControl {
        audio: Arc::clone(&audio),
        line: Arc::clone(&line),
        closing: closing.clone(),
        transfer: VisitorTransfer {
            call_id: Arc::clone(&call_id),
            via: transfer,
            audio,
            line,
            closing: closing.clone(),
            events: handler.leg_events.clone(),
        },
    };
    tokio::spawn(keep_connection(
        Arc::clone(&call_id),
        peer,
        Arc::clone(&handler),
        Duration::from_secs(config.connect_timeout_secs.max(1)),
        port,
        permit,
    ));
    Ok(BrowserCall {
        leg: MediaLeg {
            id: call_id.to_string(),
            caller: None,
            events,
            control: Box::new(control),
        },
        answer_sdp,
        page_messages,
        hang_up: BrowserHangUp {
            leg_events,
            closing,
        },
        connected,
    })
}

/// A stable, call-specific SSRC (no RNG needed: the call id is random).
fn ssrc_for(call_id: &str) -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write(call_id.as_bytes());
    (hasher.finish() as u32).max(1)
}

/// Holds the connection until the call ends, then closes it and frees its port and slot.
async fn keep_connection(
    call_id: Arc<str>,
    peer: Arc<dyn PeerConnection>,
    handler: Arc<BrowserPeerHandler>,
    connect_timeout: Duration,
    port: PortLease,
    permit: OwnedSemaphorePermit,
) {
    let mut connected = handler.connected.subscribe();
    let connected = async {
        tokio::time::timeout(connect_timeout, connected.wait_for(|c| *c))
            .await
            .is_ok_and(|up| up.is_ok())
    };
    tokio::select! {
        up = connected => {
            if !up {
                tracing::warn!(call = %call_id, timeout_s = connect_timeout.as_secs(), "browser call never connected (ICE failed or the page left); ending it");
                let _ = handler.leg_events.try_send(LegEvent::HangUp);
            } else {
                handler.closing.cancelled().await;
            }
        }
        () = handler.closing.cancelled() => {}
    }
    handler.closing.cancel();
    tokio::time::sleep(CLOSE_GRACE).await;
    if let Err(error) = peer.close().await {
        tracing::debug!(call = %call_id, %error, "closing the browser connection");
    }
    tracing::info!(call = %call_id, port = port.port(), "browser connection closed");
    drop(port);
    drop(permit);
}

/// [`LegControl`] of a browser call. While a transfer has the line (hold audio, then the
/// agent), the bot's frames and flushes are ignored.
struct BrowserLegControl {
    audio: Arc<BrowserAudioOut>,
    line: Arc<VisitorLine>,
    closing: CancellationToken,
    transfer: VisitorTransfer,
}

impl LegControl for BrowserLegControl {
    fn send_frame(&self, frame: hotline_audio::Frame) {
        if self.line.bot_has_the_line() {
            self.audio.send(frame);
        }
    }

    fn flush(&self) {
        if self.line.bot_has_the_line() {
            self.audio.flush();
        }
    }

    fn transfer<'a>(
        &'a self,
        target: &'a TransferTarget,
        summary: &'a str,
    ) -> LegFuture<'a, TransferOutcome> {
        Box::pin(self.transfer.run(target, summary))
    }

    /// Ends the call; after a completed transfer the visitor is with the agent, and the bot
    /// just leaves (the call ends when one of them hangs up).
    fn hang_up(&self) -> LegFuture<'_, ()> {
        Box::pin(async move {
            if !self.line.with_agent() {
                self.closing.cancel();
            }
        })
    }
}

/// Events of one peer connection.
struct BrowserPeerHandler {
    call_id: Arc<str>,
    leg_events: mpsc::Sender<LegEvent>,
    page_messages: mpsc::Sender<String>,
    /// Taken by the first `events` data channel.
    page_outbox: Mutex<Option<mpsc::Receiver<String>>>,
    gathered: mpsc::Sender<()>,
    /// Cancelled when the call's connection is to close.
    closing: CancellationToken,
    line: Arc<VisitorLine>,
    audio_started: AtomicBool,
    connected: watch::Sender<bool>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for BrowserPeerHandler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.try_send(());
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        tracing::debug!(call = %self.call_id, ?state, "browser connection state");
        match state {
            RTCPeerConnectionState::Connected => {
                self.connected.send_replace(true);
            }
            RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => {
                // The page is gone (closed tab, network lost): the caller hung up.
                let _ = self.leg_events.try_send(LegEvent::HangUp);
                self.closing.cancel();
            }
            _ => {}
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        if track.kind().await != RtpCodecKind::Audio
            || self.audio_started.swap(true, Ordering::AcqRel)
        {
            return; // one microphone per call; video is never negotiated
        }
        tokio::spawn(receive_browser_audio(
            Arc::clone(&self.call_id),
            track,
            self.leg_events.clone(),
            Arc::clone(&self.line),
        ));
    }

    async fn on_data_channel(&self, channel: Arc<dyn DataChannel>) {
        let label = channel.label().await.unwrap_or_default();
        let outbox = if label == "events" {
            self.page_outbox
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
        } else {
            None
        };
        let Some(outbox) = outbox else {
            tracing::debug!(call = %self.call_id, %label, "extra data channel ignored");
            return;
        };
        tokio::spawn(send_page_messages(
            Arc::clone(&self.call_id),
            Arc::clone(&channel),
            outbox,
        ));
        tokio::spawn(read_page_messages(
            Arc::clone(&self.call_id),
            channel,
            self.leg_events.clone(),
            self.page_messages.clone(),
            self.closing.clone(),
        ));
    }
}

/// Sends the queued messages for the page, in order, until the call's queue closes.
async fn send_page_messages(
    call_id: Arc<str>,
    channel: Arc<dyn DataChannel>,
    mut outbox: mpsc::Receiver<String>,
) {
    while let Some(text) = outbox.recv().await {
        if let Err(error) = channel.send_text(&text).await {
            tracing::debug!(call = %call_id, %error, "message for the page not sent; its channel is closed");
            break;
        }
    }
}

/// Reads what the page sends: typed messages become caller turns, `hangup` ends the call,
/// `ping` is answered; anything else gets an `error` message back.
async fn read_page_messages(
    call_id: Arc<str>,
    channel: Arc<dyn DataChannel>,
    leg_events: mpsc::Sender<LegEvent>,
    page_messages: mpsc::Sender<String>,
    closing: CancellationToken,
) {
    let mut reader = BrowserMessageReader::default();
    while let Some(event) = channel.poll().await {
        let message = match event {
            DataChannelEvent::OnMessage(message) => message,
            DataChannelEvent::OnClose => break,
            _ => continue,
        };
        match reader.read(&message.data, Instant::now()) {
            Ok(BrowserRequest::Text { text }) => match leg_events.try_send(LegEvent::Text(text)) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    let _ = page_messages
                        .try_send(error_message("busy: message not taken, send it again"));
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    let _ = page_messages.try_send(error_message(
                        "the assistant has left the call: typed messages do not reach the agent, please speak",
                    ));
                }
            },
            Ok(BrowserRequest::Hangup) => {
                let _ = leg_events.try_send(LegEvent::HangUp);
                // After a transfer no conversation reads the event: the agent is hung up.
                closing.cancel();
            }
            Ok(BrowserRequest::Ping) => {
                let _ = page_messages.try_send(r#"{"type":"pong"}"#.to_string());
            }
            Err(reason) => {
                tracing::debug!(call = %call_id, %reason, "page message refused");
                let _ = page_messages.try_send(error_message(&reason));
            }
        }
    }
}

/// An `error` message for the page.
pub fn error_message(reason: &str) -> String {
    serde_json::json!({ "type": "error", "message": reason }).to_string()
}
