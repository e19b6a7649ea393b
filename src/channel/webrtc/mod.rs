//! The browser channel: calls from the voice widget over WebRTC (webrtc-rs 0.21).
//!
//! A page POSTs its SDP offer; the [`WebRtcEndpoint`] checks it, answers it on a port of its
//! own from `[webrtc] ports`, and yields a [`BrowserCall`]: a [`MediaLeg`](crate::channel::MediaLeg)
//! for the conversation (Opus both ways, decoded and encoded at 16 kHz), plus the call's
//! `events` data channel for captions and typed messages. What goes on that channel is the web
//! layer's business; this module only carries it.
//!
//! webrtc-rs rather than its sans-IO core `rtc`: the call driver is already a tokio task fed by
//! channels, which is what the async crate gives (track and data-channel polling, its own
//! driver task per connection), with nothing to write for timers and sockets.

mod browser_audio;
mod browser_call;
mod browser_messages;
mod browser_transfer;
mod config;
mod offer_check;
mod opus_track;
mod port_pool;
mod visitor_line;

use std::net::IpAddr;
use std::sync::Arc;

use tokio::sync::Semaphore;

pub use browser_call::{BrowserCall, BrowserCallError, BrowserHangUp, error_message};
pub use browser_messages::{BrowserRequest, MAX_MESSAGE_BYTES, MAX_TEXT_CHARS};
pub use browser_transfer::{BROWSER_TRANSFER_NEEDS_SIP, BrowserTransfer};
pub use config::{IceServerConfig, WebRtcConfig, WebRtcConfigError};
pub use offer_check::{OfferError, check_offer};
pub use opus_track::{OPUS_PAYLOAD_TYPE, opus_codec, opus_media_engine, opus_track};
pub use port_pool::PortPool;

use browser_call::{BrowserCallSetup, answer_browser_call};

/// Seconds a page is told to wait when every line is busy.
pub const RETRY_AFTER_SECS: u64 = 5;

/// Why a page's call was refused.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error(transparent)]
    Offer(#[from] OfferError),
    #[error("all {limit} browser lines are busy: try again in {RETRY_AFTER_SECS} s")]
    Full { limit: usize },
    #[error(transparent)]
    Call(#[from] BrowserCallError),
    #[error("browser calls are off on this server ([webrtc] enabled = false)")]
    Disabled,
}

impl EndpointError {
    /// The HTTP status for the page.
    pub fn status(&self) -> u16 {
        match self {
            EndpointError::Offer(error) => error.status(),
            EndpointError::Full { .. } | EndpointError::Disabled => 503,
            EndpointError::Call(BrowserCallError::Offer(_)) => 400,
            EndpointError::Call(BrowserCallError::Setup { .. }) => 500,
        }
    }
}

/// Where browser calls come in: the checked config, the port pool, the call limit and the way
/// to the human line.
pub struct WebRtcEndpoint {
    config: WebRtcConfig,
    bind_ip: IpAddr,
    ports: Arc<PortPool>,
    lines: Arc<Semaphore>,
    limit: usize,
    transfer: Option<BrowserTransfer>,
}

impl WebRtcEndpoint {
    /// An endpoint for `config` (checked first: the error names the key to fix).
    pub fn new(config: WebRtcConfig) -> Result<Self, WebRtcConfigError> {
        config.validate()?;
        let (first, last) = config.port_range()?;
        let bind_ip = match config.bind_address.trim() {
            "" => outbound_ip(),
            text => text
                .parse()
                .map_err(|_| WebRtcConfigError::BindAddress(text.to_string()))?,
        };
        let ports = PortPool::new(first, last);
        let limit = config.max_calls.min(ports.size());
        Ok(Self {
            bind_ip,
            ports,
            lines: Arc::new(Semaphore::new(limit)),
            limit,
            config,
            transfer: None,
        })
    }

    /// Calls of this endpoint transfer to the human line through `transfer` (without it, a
    /// transfer fails and says that `[sip]` must be on).
    pub fn with_transfer(mut self, transfer: BrowserTransfer) -> Self {
        self.transfer = Some(transfer);
        self
    }

    /// An endpoint that refuses every call (`[webrtc] enabled = false`, or a setup problem
    /// already logged).
    pub fn disabled() -> Self {
        let config = WebRtcConfig {
            enabled: false,
            ..WebRtcConfig::default()
        };
        Self {
            bind_ip: IpAddr::from([127, 0, 0, 1]),
            ports: PortPool::new(1, 1),
            lines: Arc::new(Semaphore::new(0)),
            limit: 0,
            config,
            transfer: None,
        }
    }

    pub fn config(&self) -> &WebRtcConfig {
        &self.config
    }

    /// Browser calls accepted at once.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Browser calls running now.
    pub fn active_calls(&self) -> usize {
        self.limit - self.lines.available_permits()
    }

    /// Answers a page's offer: checked, then a port and a line are taken for the call.
    pub async fn answer(&self, offer: &[u8]) -> Result<BrowserCall, EndpointError> {
        if !self.config.enabled {
            return Err(EndpointError::Disabled);
        }
        let offer = check_offer(offer, self.config.max_offer_bytes)?;
        let permit = Arc::clone(&self.lines)
            .try_acquire_owned()
            .map_err(|_| EndpointError::Full { limit: self.limit })?;
        let port = self
            .ports
            .lease()
            .ok_or(EndpointError::Full { limit: self.limit })?;
        let setup = BrowserCallSetup {
            call_id: new_call_id().into(),
            config: &self.config,
            bind_ip: self.bind_ip,
            port,
            permit,
            transfer: self.transfer.clone(),
        };
        Ok(answer_browser_call(setup, offer).await?)
    }
}

/// A random call id (`wrtc-` and 32 hex digits).
fn new_call_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut id = String::from("wrtc-");
    for _ in 0..2 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        id.push_str(&format!("{:016x}", hasher.finish()));
    }
    id
}

/// The address this machine reaches other hosts from (no packet is sent), else loopback.
fn outbound_ip() -> IpAddr {
    let loopback = IpAddr::from([127, 0, 0, 1]);
    std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|socket| {
            socket.connect("192.0.2.1:9")?;
            socket.local_addr()
        })
        .map(|address| address.ip())
        .ok()
        .filter(|ip| !ip.is_unspecified())
        .unwrap_or(loopback)
}
