//! The SIP channel: starts the bridge from `[sip]`, answers each call and hands it to the
//! conversation as a [`MediaLeg`]. The serve command calls [`run_sip_channel`] when
//! `[sip] enabled = true`.

use std::future::Future;
use std::sync::Arc;

use sip_bridge::{BridgeError, SipBridge};
use tracing::{info, warn};

use crate::channel::media_leg::MediaLeg;
use crate::channel::sip_config::{SipConfig, SipConfigError};
use crate::channel::sip_leg::{SipTransferPolicy, sip_media_leg};
use crate::engine::Engine;

/// Why the SIP channel could not run.
#[derive(Debug, thiserror::Error)]
pub enum SipChannelError {
    #[error(transparent)]
    Config(#[from] SipConfigError),
    #[error("SIP channel: {0}")]
    Bridge(#[from] BridgeError),
}

/// Runs the SIP channel until `shutdown` completes: every answered call goes to `on_call`
/// (which should spawn the call driver). Returns at once with `Ok` when `[sip]` is disabled.
pub async fn run_sip_channel(
    engine: Arc<Engine>,
    config: SipConfig,
    on_call: impl Fn(MediaLeg) + Send + Sync + 'static,
    shutdown: impl Future<Output = ()>,
) -> Result<(), SipChannelError> {
    if !config.enabled {
        return Ok(());
    }
    let mut bridge = SipBridge::start(config.bridge_config()?).await?;
    info!(udp = ?bridge.udp_addr(), tcp = ?bridge.tcp_addr(), "SIP channel listening");
    let policy = Arc::new(SipTransferPolicy {
        fallback_target: engine.config.transfer.target.clone(),
        engine: Some(engine),
        sip: config,
    });
    let on_call = Arc::new(on_call);
    tokio::pin!(shutdown);
    loop {
        let incoming = tokio::select! {
            incoming = bridge.accept() => incoming,
            () = &mut shutdown => None,
        };
        let Some(incoming) = incoming else { break };
        let (policy, on_call) = (policy.clone(), on_call.clone());
        tokio::spawn(async move {
            match incoming.answer().await {
                Ok(call) => on_call(sip_media_leg(call, policy)),
                Err(error) => warn!(%error, "SIP call not answered"),
            }
        });
    }
    bridge.shutdown();
    info!("SIP channel stopped");
    Ok(())
}
