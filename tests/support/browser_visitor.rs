//! A browser for the WebRTC tests, played from Rust with webrtc-rs the way the widget does it
//! in Chromium: it POSTs its offer (gathered, so no trickle) to `/webrtc/calls`, speaks into
//! its microphone track (16 kHz frames encoded to Opus, one packet every 20 ms, silence when
//! it has nothing to say), records what it hears (decoded to 16 kHz) and keeps every message
//! of the call's `events` data channel; typed messages go the other way. It runs on a tokio
//! runtime of its own, so the tests stay plain threads like the softphone ones.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hotline::channel::webrtc::{OPUS_PAYLOAD_TYPE, opus_media_engine, opus_track};
use hotline_audio::opus::{
    MAX_PACKET_BYTES, OpusEncoderSettings, OpusFrameDecoder, OpusFrameEncoder,
};
use hotline_audio::{FRAME_MS, Frame, split_into_frames};
use rtc::media::Sample;
use tokio::sync::mpsc;
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCConfigurationBuilder,
    RTCIceGatheringState, RTCPeerConnectionState, RTCSessionDescription,
};

const MICROPHONE_SSRC: u32 = 0x5157_0001;

/// What the visitor's connection and tracks report, shared with its tasks.
#[derive(Default)]
struct Seen {
    state: Mutex<Option<RTCPeerConnectionState>>,
    /// Everything heard so far, 16 kHz.
    heard: Mutex<Vec<i16>>,
    /// Every message of the `events` channel, in order.
    messages: Mutex<Vec<serde_json::Value>>,
}

struct VisitorHandler {
    seen: Arc<Seen>,
    gathered: mpsc::Sender<()>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for VisitorHandler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.try_send(());
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        *self.seen.state.lock().unwrap() = Some(state);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        tokio::spawn(listen(track, Arc::clone(&self.seen)));
    }
}

/// Decodes what the engine sends into `seen.heard`.
async fn listen(track: Arc<dyn TrackRemote>, seen: Arc<Seen>) {
    let Ok(mut decoder) = OpusFrameDecoder::new() else {
        return;
    };
    while let Some(event) = track.poll().await {
        let packet = match event {
            TrackRemoteEvent::OnRtpPacket(packet) => packet,
            TrackRemoteEvent::OnEnded => break,
            _ => continue,
        };
        if packet.payload.is_empty() {
            continue;
        }
        let mut frames = Vec::new();
        if decoder
            .decode(&packet.payload, |frame| frames.push(frame))
            .is_ok()
        {
            let mut heard = seen.heard.lock().unwrap();
            for frame in frames {
                heard.extend_from_slice(frame.as_slice());
            }
        }
    }
}

/// Keeps the `events` channel's messages.
async fn read_events(channel: Arc<dyn DataChannel>, seen: Arc<Seen>) {
    while let Some(event) = channel.poll().await {
        match event {
            DataChannelEvent::OnMessage(message) => {
                if let Ok(value) = serde_json::from_slice(&message.data) {
                    seen.messages.lock().unwrap().push(value);
                }
            }
            DataChannelEvent::OnClose => break,
            _ => {}
        }
    }
}

/// Sends one Opus packet every 20 ms: the next queued frame, or silence.
async fn speak(
    track: Arc<TrackLocalStaticSample>,
    queue: Arc<Mutex<VecDeque<Frame>>>,
    payload_type: u8,
) {
    let Ok(mut encoder) = OpusFrameEncoder::new(OpusEncoderSettings::default()) else {
        return;
    };
    let mut packet = [0u8; MAX_PACKET_BYTES];
    let frame_time = Duration::from_millis(u64::from(FRAME_MS));
    let start = tokio::time::Instant::now();
    for n in 1u32.. {
        let frame = queue.lock().unwrap().pop_front();
        let encoded = match frame {
            Some(frame) => encoder.encode(&frame, &mut packet),
            None => encoder.encode_silence(&mut packet),
        };
        if let Ok(len) = encoded {
            let mut sample = Sample::new(Instant::now());
            sample.data = Bytes::copy_from_slice(&packet[..len]);
            sample.duration = frame_time;
            // Before the connection is up (and after it closed) the write fails: a browser's
            // microphone goes on regardless.
            let _ = track
                .sample_writer(MICROPHONE_SSRC, payload_type)
                .write_sample(&sample)
                .await;
        }
        tokio::time::sleep_until(start + frame_time * n).await;
    }
}

/// A browser on a call.
pub struct BrowserVisitor {
    runtime: tokio::runtime::Runtime,
    peer: Arc<dyn PeerConnection>,
    events: Arc<dyn DataChannel>,
    microphone: Arc<Mutex<VecDeque<Frame>>>,
    seen: Arc<Seen>,
    /// `Location` of the call (`/webrtc/calls/{id}`).
    pub location: String,
}

impl BrowserVisitor {
    /// Calls the engine serving HTTP on `http_port` and waits (15 s) until connected.
    pub fn call(http_port: u16) -> Result<BrowserVisitor, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| format!("visitor runtime: {e}"))?;
        let seen = Arc::new(Seen::default());
        let microphone = Arc::new(Mutex::new(VecDeque::new()));
        let (peer, events, location) = runtime.block_on(connect(
            http_port,
            Arc::clone(&seen),
            Arc::clone(&microphone),
        ))?;
        let visitor = BrowserVisitor {
            runtime,
            peer,
            events,
            microphone,
            seen,
            location,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while visitor.state() != Some(RTCPeerConnectionState::Connected) {
            if Instant::now() >= deadline {
                return Err(format!(
                    "the browser call did not connect within 15 s (state {:?})",
                    visitor.state()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(visitor)
    }

    /// The connection's state as last reported.
    pub fn state(&self) -> Option<RTCPeerConnectionState> {
        *self.seen.state.lock().unwrap()
    }

    /// Queues 16 kHz `samples` for the microphone (they follow whatever is still queued).
    pub fn say(&self, samples: &[i16]) {
        self.microphone
            .lock()
            .unwrap()
            .extend(split_into_frames(samples));
    }

    /// Types `text` into the widget (a `text` message on the `events` channel).
    pub fn type_text(&self, text: &str) -> Result<(), String> {
        let message = serde_json::json!({ "type": "text", "text": text }).to_string();
        self.runtime
            .block_on(self.events.send_text(&message))
            .map_err(|e| format!("the typed message was not sent: {e}"))
    }

    /// Hangs up as the widget does: a `hangup` message, then `DELETE` on the call's URL.
    pub fn hang_up(&self, http_port: u16) -> Result<(), String> {
        let message = serde_json::json!({ "type": "hangup" }).to_string();
        let url = format!("http://127.0.0.1:{http_port}{}", self.location);
        self.runtime.block_on(async {
            let _ = self.events.send_text(&message).await;
            reqwest::Client::new()
                .delete(&url)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("DELETE {url}: {e}"))
        })
    }

    /// Everything heard so far (16 kHz).
    pub fn heard(&self) -> Vec<i16> {
        self.seen.heard.lock().unwrap().clone()
    }

    /// The `events` messages so far.
    pub fn messages(&self) -> Vec<serde_json::Value> {
        self.seen.messages.lock().unwrap().clone()
    }

    /// Waits up to `within` for a message that `wanted` accepts; returns it.
    pub fn wait_message(
        &self,
        what: &str,
        within: Duration,
        wanted: impl Fn(&serde_json::Value) -> bool,
    ) -> Result<serde_json::Value, String> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(found) = self.messages().into_iter().find(|m| wanted(m)) {
                return Ok(found);
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "the page got no {what} within {within:?}; its messages: {}",
                    self.messages()
                        .iter()
                        .map(|m| m.to_string())
                        .collect::<Vec<_>>()
                        .join("\n")
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for BrowserVisitor {
    fn drop(&mut self) {
        let peer = Arc::clone(&self.peer);
        let _ = self.runtime.block_on(async move {
            tokio::time::timeout(Duration::from_secs(3), peer.close()).await
        });
    }
}

/// Offers (audio sendrecv and the `events` channel), POSTs the offer, applies the answer.
async fn connect(
    http_port: u16,
    seen: Arc<Seen>,
    microphone: Arc<Mutex<VecDeque<Frame>>>,
) -> Result<(Arc<dyn PeerConnection>, Arc<dyn DataChannel>, String), String> {
    let (media_engine, registry) =
        opus_media_engine().map_err(|e| format!("the visitor's Opus media engine: {e}"))?;
    let (gathered_tx, mut gathered) = mpsc::channel(1);
    let peer: Arc<dyn PeerConnection> = Arc::new(
        PeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_media_engine(media_engine)
            .with_interceptor_registry(registry)
            .with_handler(Arc::new(VisitorHandler {
                seen: Arc::clone(&seen),
                gathered: gathered_tx,
            }))
            .with_udp_addrs(vec!["127.0.0.1:0".to_string()])
            .build()
            .await
            .map_err(|e| format!("visitor peer connection: {e}"))?,
    );
    let events = peer
        .create_data_channel("events", None)
        .await
        .map_err(|e| format!("events channel: {e}"))?;
    tokio::spawn(read_events(Arc::clone(&events), Arc::clone(&seen)));
    let track = opus_track(
        "visitor",
        "microphone",
        "visitor microphone",
        MICROPHONE_SSRC,
    )
    .map_err(|e| format!("microphone track: {e}"))?;
    peer.add_track(Arc::clone(&track) as Arc<dyn TrackLocal>)
        .await
        .map_err(|e| format!("add the microphone: {e}"))?;
    let offer = peer
        .create_offer(None)
        .await
        .map_err(|e| format!("create the offer: {e}"))?;
    peer.set_local_description(offer)
        .await
        .map_err(|e| format!("set the offer: {e}"))?;
    let _ = tokio::time::timeout(Duration::from_secs(3), gathered.recv()).await;
    let offer_sdp = peer
        .local_description()
        .await
        .map(|d| d.sdp)
        .ok_or("no local description after the offer")?;

    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{http_port}/webrtc/calls?lang=en"))
        .header("Content-Type", "application/sdp")
        .body(offer_sdp)
        .send()
        .await
        .map_err(|e| format!("POST /webrtc/calls: {e}"))?;
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or("")
        .to_string();
    let answer_sdp = response
        .text()
        .await
        .map_err(|e| format!("POST /webrtc/calls: reading the answer: {e}"))?;
    if status.as_u16() != 201 {
        return Err(format!(
            "POST /webrtc/calls answered {status}: {answer_sdp}"
        ));
    }
    let answer = RTCSessionDescription::answer(answer_sdp)
        .map_err(|e| format!("the answer is not SDP: {e}"))?;
    peer.set_remote_description(answer)
        .await
        .map_err(|e| format!("set the answer: {e}"))?;
    tokio::spawn(speak(track, microphone, OPUS_PAYLOAD_TYPE));
    Ok((peer, events, location))
}
