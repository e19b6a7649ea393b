//! The SIP channel: starts the bridge from `[sip]`, answers each call and hands it to the
//! conversation as a [`MediaLeg`], and connects the [`HumanLine`] so other channels (browser
//! calls) can reach agents through the same user agent. The serve command calls
//! [`run_sip_channel`] when `[sip] enabled = true`. Calls take their line from the node's
//! [`Admission`] and hold it until the SIP call ends (after a bridged transfer too): the
//! bridge answers OPTIONS and new INVITEs with 503 while the node is full or draining, and a
//! call that loses the race for the last line is rejected with 503; with
//! `[sip] when_full = "announce"` a call to a full node is answered with the busy
//! announcement instead (`busy_announcement`).

use std::future::Future;
use std::sync::Arc;

use sip_bridge::{BridgeError, CallGate, RejectReason, SipBridge};
use tokio::sync::oneshot;
use tracing::{info, warn};

use super::busy_announcement::BusyAnnouncement;
use super::config::{SipConfig, SipConfigError, SipWhenFull};
use super::leg::{SipTransferPolicy, sip_media_leg};
use crate::channel::human_line::HumanLine;
use crate::channel::media_leg::MediaLeg;
use crate::engine::Engine;
use crate::lifecycle::{Admission, Availability};
use crate::thread_priority::raise_this_thread;

/// Why the SIP channel could not run.
#[derive(Debug, thiserror::Error)]
pub enum SipChannelError {
    #[error(transparent)]
    Config(#[from] SipConfigError),
    #[error("cannot start the SIP bridge's thread: {0}")]
    Runtime(String),
    #[error("SIP channel: {0}")]
    Bridge(#[from] BridgeError),
}

/// Runs the SIP channel until `shutdown` completes: every answered call, holding a line of
/// `admission`, goes to `on_call` (which should spawn the call driver; it runs in the caller's
/// runtime), and `human_line`
/// dials agents through the bridge while it runs. Returns at once with `Ok` when `[sip]` is
/// disabled (the human line stays empty).
///
/// The bridge (signalling, RTP, the 20 ms paced sending of every call) runs on a thread and
/// runtime of its own, at `[sip] pacing_nice`: the engine's runtime also runs every call's VAD
/// inference and session, and a paced packet must not wait behind them.
pub async fn run_sip_channel(
    engine: Arc<Engine>,
    config: SipConfig,
    human_line: HumanLine,
    admission: Arc<Admission>,
    on_call: impl Fn(MediaLeg) + Send + Sync + 'static,
    shutdown: impl Future<Output = ()>,
) -> Result<(), SipChannelError> {
    if !config.enabled {
        return Ok(());
    }
    let mut bridge_config = config.bridge_config()?;
    bridge_config.call_gate = {
        let admission = Arc::clone(&admission);
        CallGate::new(move || match admission.availability() {
            Availability::Open => sip_bridge::Availability::Open,
            Availability::Full => sip_bridge::Availability::Full,
            Availability::Draining => sip_bridge::Availability::Draining,
        })
    };
    let busy = busy_announcement(&engine, &config, &admission).await;
    let engine_runtime = tokio::runtime::Handle::current();
    let (stop, stopped) = oneshot::channel::<()>();
    let (ready, started) = oneshot::channel::<Result<(), SipChannelError>>();
    let on_call: Arc<dyn Fn(MediaLeg) + Send + Sync> = Arc::new(on_call);
    let pacing_nice = config.pacing_nice;
    let thread = std::thread::Builder::new()
        .name("sip-bridge".into())
        .spawn(move || {
            if pacing_nice < 0 {
                raise_this_thread(pacing_nice, "the SIP bridge's pacing thread");
            }
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(error) => {
                    let _ = ready.send(Err(SipChannelError::Runtime(error.to_string())));
                    return;
                }
            };
            runtime.block_on(bridge_loop(BridgeLoop {
                bridge_config,
                engine,
                config,
                human_line,
                admission,
                busy,
                on_call,
                engine_runtime,
                stopped,
                ready,
            }));
        })
        .map_err(|e| SipChannelError::Runtime(e.to_string()))?;
    let joined = || async move {
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    };
    match started.await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            joined().await;
            return Err(error);
        }
        Err(_) => {
            joined().await;
            return Err(SipChannelError::Runtime(
                "the SIP bridge thread ended while starting".into(),
            ));
        }
    }
    shutdown.await;
    let _ = stop.send(());
    joined().await;
    Ok(())
}

/// What the bridge thread needs.
struct BridgeLoop {
    bridge_config: sip_bridge::BridgeConfig,
    engine: Arc<Engine>,
    config: SipConfig,
    human_line: HumanLine,
    admission: Arc<Admission>,
    /// `[sip] when_full = "announce"`: what a caller who finds every line busy hears.
    busy: Option<BusyAnnouncement>,
    on_call: Arc<dyn Fn(MediaLeg) + Send + Sync>,
    engine_runtime: tokio::runtime::Handle,
    stopped: oneshot::Receiver<()>,
    ready: oneshot::Sender<Result<(), SipChannelError>>,
}

/// Accepts and answers calls on the bridge's runtime until told to stop (or the channel's
/// task is gone); each answered call is handed to `on_call` inside the engine's runtime.
async fn bridge_loop(setup: BridgeLoop) {
    let BridgeLoop {
        bridge_config,
        engine,
        config,
        human_line,
        admission,
        busy,
        on_call,
        engine_runtime,
        mut stopped,
        ready,
    } = setup;
    let mut bridge = match SipBridge::start(bridge_config).await {
        Ok(bridge) => bridge,
        Err(error) => {
            let _ = ready.send(Err(error.into()));
            return;
        }
    };
    info!(udp = ?bridge.udp_addr(), tcp = ?bridge.tcp_addr(), "SIP channel listening");
    human_line.connect(Some(bridge.agent_dialer()));
    let _ = ready.send(Ok(()));
    let policy = Arc::new(SipTransferPolicy {
        fallback_target: engine.config.transfer.target.clone(),
        engine: Some(engine),
        sip: config,
    });
    loop {
        let incoming = tokio::select! {
            incoming = bridge.accept() => incoming,
            _ = &mut stopped => None,
        };
        let Some(incoming) = incoming else { break };
        // The bridge already refused INVITEs while the node was full or draining (unless it
        // announces busy lines); this is the race for the last line between INVITEs that
        // arrived together, or a call to a full node that announces.
        let line = match admission.try_admit() {
            Ok(line) => line,
            Err(refusal) => {
                match &busy {
                    Some(busy) if !admission.is_draining() => busy.play(incoming),
                    _ => {
                        info!(call_id = incoming.call_id(), %refusal, "SIP call refused");
                        incoming.reject(RejectReason::Overloaded);
                    }
                }
                continue;
            }
        };
        let (policy, on_call, engine_runtime) =
            (policy.clone(), on_call.clone(), engine_runtime.clone());
        tokio::spawn(async move {
            match incoming.answer().await {
                Ok(call) => {
                    let _engine = engine_runtime.enter();
                    let leg = sip_media_leg(call, policy, line);
                    on_call(leg);
                }
                Err(error) => warn!(%error, "SIP call not answered"),
            }
        });
    }
    human_line.connect(None);
    bridge.shutdown();
    info!("SIP channel stopped");
}

/// The busy announcement when `[sip] when_full = "announce"`, synthesized now in
/// `[call] default_lang` (at most as many playing at once as the node has lines); `None`
/// otherwise, or when it cannot be synthesized (logged: such callers get 503).
async fn busy_announcement(
    engine: &Arc<Engine>,
    config: &SipConfig,
    admission: &Admission,
) -> Option<BusyAnnouncement> {
    if config.when_full != SipWhenFull::Announce {
        return None;
    }
    let lang = engine.config.call.default_lang;
    let voice = Arc::clone(engine.voices.voice(lang));
    let lines = admission.limit();
    let made = tokio::task::spawn_blocking(move || {
        BusyAnnouncement::synthesize(voice.as_ref(), lang, lines)
    })
    .await;
    match made {
        Ok(Ok(busy)) => {
            info!(%lang, seconds = busy.duration().as_secs_f32(), "busy announcement ready");
            Some(busy)
        }
        Ok(Err(error)) => {
            warn!(%error, "[sip] when_full = \"announce\": the busy announcement cannot be synthesized; callers who find every line busy get 503 instead");
            None
        }
        Err(error) => {
            warn!(%error, "the busy announcement's synthesis failed; callers who find every line busy get 503 instead");
            None
        }
    }
}
