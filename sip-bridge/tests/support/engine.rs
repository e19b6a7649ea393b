//! A scripted stand-in for the engine: starts a bridge on free loopback ports and handles
//! calls in one of a few ways, reporting what it saw on a channel.

use std::net::SocketAddr;
use std::time::Duration;

use hotline_audio::Frame;
use sip_bridge::{
    BridgeConfig, CallEvent, CallInfo, DtmfSendError, HangUpReason, SipBridge, TransferRequest,
    TransferResult,
};
use tokio::sync::mpsc;

/// What the scripted engine does with each call.
#[derive(Debug, Clone)]
pub enum Script {
    /// Answer, wait, then transfer; a second request follows at once (it must be refused).
    Transfer {
        after: Duration,
        request: TransferRequest,
    },
    /// Like `Transfer`, but the transfer is dropped when the caller hangs up, as the call
    /// driver aborts its jobs at the end of a call.
    TransferDroppedOnHangUp {
        after: Duration,
        request: TransferRequest,
    },
    /// Answer and listen (send nothing).
    Listen,
    /// Answer and send every caller frame straight back.
    Echo,
    /// Answer, then hang up after the given time.
    HangUpAfter(Duration),
    /// Never answer; report when the caller cancels.
    LetItRing,
    /// Answer, queue `frames` frames of a `hz` sine with peak `amplitude` at once, send `keys`
    /// (if any) after their delay, and report every caller frame at hang-up.
    Play {
        hz: f64,
        amplitude: f64,
        frames: usize,
        keys: Option<KeyPlan>,
    },
}

/// DTMF keys the scripted engine sends to the caller.
#[derive(Debug, Clone)]
pub struct KeyPlan {
    pub digits: &'static str,
    pub duration: Duration,
    pub after: Duration,
}

/// `count` frames of a sine at `hz` with peak `amplitude`, phase-continuous.
pub fn tone_frames(hz: f64, amplitude: f64, count: usize) -> Vec<Frame> {
    let n = hotline_audio::FRAME_SAMPLES;
    (0..count)
        .map(|i| {
            let samples: Vec<i16> = (i * n..(i + 1) * n)
                .map(|s| {
                    let t = s as f64 / f64::from(hotline_audio::SAMPLE_RATE);
                    (amplitude * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16
                })
                .collect();
            Frame::from_slice(&samples).expect("a whole frame")
        })
        .collect()
}

/// What the engine observed, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    Ringing {
        caller: String,
    },
    Answered(CallInfo),
    AudioFrames(usize),
    /// Caller frames above a tone level, and agent frames (AgentAudio), at hang-up.
    LoudFrames {
        caller: usize,
        agent: usize,
    },
    /// When the engine called `transfer` (the transfer decision).
    TransferStarted(std::time::Instant),
    Transferred(TransferResult),
    /// What a second transfer request while the first ran returned.
    SecondTransfer(TransferResult),
    Dtmf(char),
    /// What `send_dtmf_digits` returned (the `Play` script with keys).
    KeysSent(Result<(), DtmfSendError>),
    /// Every caller frame of the call, in order (the `Play` script, at hang-up).
    CallerFrames(Vec<Frame>),
    HangUp(HangUpReason),
    CancelledWhileRinging,
}

pub struct TestBridge {
    /// Time from the bridge handing over the ringing call to `answer()` returning (200 sent).
    pub answer_times: std::sync::Arc<std::sync::Mutex<Vec<Duration>>>,
    pub udp: SocketAddr,
    pub tcp: SocketAddr,
    pub seen: mpsc::UnboundedReceiver<Seen>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestBridge {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub fn loopback_config(allow: &str) -> BridgeConfig {
    BridgeConfig {
        udp_listen: Some("127.0.0.1:0".parse().unwrap()),
        tcp_listen: Some("127.0.0.1:0".parse().unwrap()),
        rtp_bind_ip: "127.0.0.1".parse().unwrap(),
        rtp_port_min: 31000,
        rtp_port_max: 39999,
        trunk_allowlist: vec![allow.parse().unwrap()],
        ..BridgeConfig::default()
    }
}

pub async fn start(config: BridgeConfig, script: Script) -> TestBridge {
    let mut bridge = SipBridge::start(config).await.expect("bridge starts");
    let udp = bridge.udp_addr().expect("udp listener");
    let tcp = bridge.tcp_addr().expect("tcp listener");
    let (seen_tx, seen) = mpsc::unbounded_channel();
    let answer_times = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let times = answer_times.clone();
    let task = tokio::spawn(async move {
        while let Some(incoming) = bridge.accept().await {
            let seen = seen_tx.clone();
            seen.send(Seen::Ringing {
                caller: incoming.caller().to_string(),
            })
            .ok();
            let script = script.clone();
            let times = times.clone();
            let rang = std::time::Instant::now();
            tokio::spawn(async move {
                if let Script::LetItRing = script {
                    for _ in 0..200 {
                        if incoming.is_cancelled() {
                            seen.send(Seen::CancelledWhileRinging).ok();
                            return;
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    return;
                }
                let mut call = match incoming.answer().await {
                    Ok(call) => call,
                    Err(error) => panic!("answer failed: {error}"),
                };
                if let Ok(mut times) = times.lock() {
                    times.push(rang.elapsed());
                }
                seen.send(Seen::Answered(call.info().clone())).ok();
                let control = call.control();
                if let Script::HangUpAfter(after) = script {
                    let control = control.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(after).await;
                        control.hang_up().await;
                    });
                }
                let hung_up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                let mut transfer_task = None;
                if let Script::Transfer { after, request }
                | Script::TransferDroppedOnHangUp { after, request } = &script
                {
                    // Like the real call driver: one frame every 20 ms, silence when there is
                    // nothing to say, through the transfer too.
                    let (clock_control, stop) = (control.clone(), hung_up.clone());
                    tokio::spawn(async move {
                        let mut tick = tokio::time::interval(Duration::from_millis(20));
                        while !stop.load(std::sync::atomic::Ordering::Acquire) {
                            tick.tick().await;
                            clock_control.send_frame(hotline_audio::Frame::silence());
                        }
                    });
                    let (control, request, after, seen) =
                        (control.clone(), request.clone(), *after, seen.clone());
                    transfer_task = Some(tokio::spawn(async move {
                        tokio::time::sleep(after).await;
                        seen.send(Seen::TransferStarted(std::time::Instant::now()))
                            .ok();
                        // join! polls the first request first: it is in progress (waiting on
                        // the network) when the second one is made.
                        let (result, second) = tokio::join!(
                            control.transfer(request.clone()),
                            control.transfer(request)
                        );
                        seen.send(Seen::SecondTransfer(second)).ok();
                        seen.send(Seen::Transferred(result)).ok();
                    }));
                }
                if !matches!(script, Script::TransferDroppedOnHangUp { .. }) {
                    transfer_task = None;
                }
                let mut caller_frames = Vec::new();
                if let Script::Play {
                    hz,
                    amplitude,
                    frames,
                    keys,
                } = &script
                {
                    control.send_frames(tone_frames(*hz, *amplitude, *frames));
                    if let Some(plan) = keys.clone() {
                        let (control, seen) = (control.clone(), seen.clone());
                        tokio::spawn(async move {
                            tokio::time::sleep(plan.after).await;
                            let sent = control.send_dtmf_digits(plan.digits, plan.duration);
                            seen.send(Seen::KeysSent(sent)).ok();
                        });
                    }
                }
                let mut frames = 0;
                let (mut loud_caller, mut agent_frames) = (0, 0);
                while let Some(event) = call.recv().await {
                    match event {
                        CallEvent::AgentAudio(_) => agent_frames += 1,
                        CallEvent::Audio(frame) => {
                            frames += 1;
                            if frame.rms() > 2000.0 {
                                loud_caller += 1;
                            }
                            if let Script::Echo = &script {
                                control.send_frame(frame);
                            } else if let Script::Play { .. } = &script {
                                caller_frames.push(frame);
                            }
                        }
                        CallEvent::Dtmf(digit) => {
                            seen.send(Seen::Dtmf(digit)).ok();
                        }
                        CallEvent::HangUp(reason) => {
                            hung_up.store(true, std::sync::atomic::Ordering::Release);
                            if let Some(task) = transfer_task.take() {
                                task.abort();
                            }
                            seen.send(Seen::AudioFrames(frames)).ok();
                            if let Script::Play { .. } = &script {
                                seen.send(Seen::CallerFrames(std::mem::take(&mut caller_frames)))
                                    .ok();
                            }
                            seen.send(Seen::LoudFrames {
                                caller: loud_caller,
                                agent: agent_frames,
                            })
                            .ok();
                            seen.send(Seen::HangUp(reason)).ok();
                        }
                    }
                }
            });
        }
    });
    TestBridge {
        answer_times,
        udp,
        tcp,
        seen,
        task,
    }
}

impl TestBridge {
    /// Everything seen so far, waiting up to `wait` for `until` to appear.
    pub async fn collect_until(
        &mut self,
        wait: Duration,
        until: impl Fn(&Seen) -> bool,
    ) -> Vec<Seen> {
        let mut all = Vec::new();
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(Some(seen)) = tokio::time::timeout_at(deadline, self.seen.recv()).await {
            let done = until(&seen);
            all.push(seen);
            if done {
                break;
            }
        }
        all
    }

    pub async fn next_answered(&mut self, wait: Duration) -> CallInfo {
        let seen = self
            .collect_until(wait, |s| matches!(s, Seen::Answered(_)))
            .await;
        match seen.last() {
            Some(Seen::Answered(info)) => info.clone(),
            _ => panic!("the call was never answered; engine saw {seen:?}"),
        }
    }
}
