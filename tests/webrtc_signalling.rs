//! The browser channel end to end without a browser: `hotline serve` answers WHIP-style
//! signalling, refuses bad offers, foreign origins and calls over its limit with a reason, and
//! a WebRTC peer (webrtc-rs standing in for the page) connects, hears the greeting, gets
//! captions and state on the `events` data channel, has a typed question answered, gets an
//! `error` for garbage, and frees its line when it hangs up with DELETE.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rtc::peer_connection::configuration::media_engine::MIME_TYPE_OPUS;
use rtc::rtp_transceiver::RTCRtpTransceiverDirection;
use rtc::rtp_transceiver::RTCRtpTransceiverInit;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RTCRtpCodecParameters, RtpCodecKind};
use tokio::sync::mpsc;
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCIceGatheringState, RTCPeerConnectionState, RTCSessionDescription, Registry,
    register_default_interceptors,
};

use support::{free_port, http_get as get};

/// Kills the server when the test ends, passed or not.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What the fake page's peer connection reports.
#[derive(Debug)]
enum PageEvent {
    Gathered,
    Connected,
    Failed,
    AudioPacket(usize),
}

struct PageHandler(mpsc::UnboundedSender<PageEvent>);

#[async_trait::async_trait]
impl PeerConnectionEventHandler for PageHandler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.0.send(PageEvent::Gathered);
        }
    }
    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        match state {
            RTCPeerConnectionState::Connected => {
                let _ = self.0.send(PageEvent::Connected);
            }
            RTCPeerConnectionState::Failed => {
                let _ = self.0.send(PageEvent::Failed);
            }
            _ => {}
        }
    }
    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let events = self.0.clone();
        tokio::spawn(async move {
            while let Some(event) = track.poll().await {
                if let TrackRemoteEvent::OnRtpPacket(packet) = event {
                    let _ = events.send(PageEvent::AudioPacket(packet.payload.len()));
                }
            }
        });
    }
}

/// A page's peer: Opus audio both ways (nothing sent) and the `events` channel.
async fn page_peer(
    with_audio: bool,
) -> (
    Arc<dyn PeerConnection>,
    Arc<dyn DataChannel>,
    mpsc::UnboundedReceiver<PageEvent>,
) {
    let mut media = MediaEngine::default();
    media
        .register_codec(
            RTCRtpCodecParameters {
                rtp_codec: RTCRtpCodec {
                    mime_type: MIME_TYPE_OPUS.to_owned(),
                    clock_rate: 48_000,
                    channels: 2,
                    sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
                    rtcp_feedback: vec![],
                },
                payload_type: 111,
            },
            RtpCodecKind::Audio,
        )
        .unwrap();
    let registry = register_default_interceptors(Registry::new(), &mut media).unwrap();
    let (events_tx, events) = mpsc::unbounded_channel();
    let peer: Arc<dyn PeerConnection> = Arc::new(
        PeerConnectionBuilder::new()
            .with_media_engine(media)
            .with_interceptor_registry(registry)
            .with_handler(Arc::new(PageHandler(events_tx)))
            .with_udp_addrs(vec!["127.0.0.1:0".to_string()])
            .build()
            .await
            .unwrap(),
    );
    if with_audio {
        peer.add_transceiver_from_kind(
            RtpCodecKind::Audio,
            Some(RTCRtpTransceiverInit {
                direction: RTCRtpTransceiverDirection::Recvonly,
                streams: vec![],
                send_encodings: vec![],
            }),
        )
        .await
        .unwrap();
    }
    let channel = peer.create_data_channel("events", None).await.unwrap();
    (peer, channel, events)
}

/// The page's offer once its candidates are gathered.
async fn offer_of(
    peer: &Arc<dyn PeerConnection>,
    events: &mut mpsc::UnboundedReceiver<PageEvent>,
) -> String {
    let offer = peer.create_offer(None).await.unwrap();
    peer.set_local_description(offer).await.unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(3), async {
        while let Some(event) = events.recv().await {
            if matches!(event, PageEvent::Gathered) {
                break;
            }
        }
    })
    .await;
    peer.local_description().await.unwrap().sdp
}

async fn post(
    client: &reqwest::Client,
    port: u16,
    body: String,
    content_type: &str,
    origin: Option<&str>,
) -> reqwest::Response {
    let mut request = client
        .post(format!("http://127.0.0.1:{port}/webrtc/calls?lang=en"))
        .header("Content-Type", content_type)
        .body(body);
    if let Some(origin) = origin {
        request = request.header("Origin", origin);
    }
    request.send().await.unwrap()
}

/// Waits for a data-channel message matching `wanted`, collecting everything seen.
async fn wait_message(
    channel: &Arc<dyn DataChannel>,
    seen: &mut Vec<serde_json::Value>,
    timeout: Duration,
    wanted: impl Fn(&serde_json::Value) -> bool,
) -> Option<serde_json::Value> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let left = deadline - Instant::now();
        let Ok(Some(event)) = tokio::time::timeout(left, channel.poll()).await else {
            return None;
        };
        if let DataChannelEvent::OnMessage(message) = event {
            let value: serde_json::Value = serde_json::from_slice(&message.data).unwrap();
            seen.push(value.clone());
            if wanted(&value) {
                return Some(value);
            }
        }
    }
    None
}

fn start_server(port: u16, media_ports: (u16, u16)) -> Server {
    start_server_with(port, media_ports, &[])
}

fn start_server_with(port: u16, media_ports: (u16, u16), env: &[(&str, &str)]) -> Server {
    let mut server = Server(
        support::hotline()
            .envs(env.iter().copied())
            .env("HOTLINE_SERVER__LISTEN", format!("127.0.0.1:{port}"))
            .env("HOTLINE_WEBRTC__BIND_ADDRESS", "127.0.0.1")
            .env(
                "HOTLINE_WEBRTC__PORTS",
                format!("{}-{}", media_ports.0, media_ports.1),
            )
            .env("HOTLINE_WEBRTC__MAX_CALLS", "1")
            .arg("serve")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    while !get(port, "/readyz")
        .is_some_and(|r| r.lines().next().is_some_and(|l| l.contains(" 200")))
    {
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!("hotline serve exited early: {status}");
        }
        assert!(Instant::now() < deadline, "not ready within 90 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    server
}

fn metric(port: u16, name: &str) -> Option<f64> {
    let text = get(port, "/metrics")?;
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().last()?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_call_is_signalled_answered_and_freed() {
    let port = free_port();
    let media_port = support::free_udp_port();
    let _server = start_server(port, (media_port, media_port.saturating_add(1)));
    let client = reqwest::Client::new();

    // Refusals name the problem.
    let garbage = post(&client, port, "{\"sdp\":1}".into(), "application/sdp", None).await;
    assert_eq!(garbage.status(), 400);
    assert!(garbage.text().await.unwrap().contains("not SDP"));
    let wrong_type = post(&client, port, "v=0".into(), "application/json", None).await;
    assert_eq!(wrong_type.status(), 415);
    let (data_only, _, mut data_only_events) = page_peer(false).await;
    let offer = offer_of(&data_only, &mut data_only_events).await;
    let no_audio = post(&client, port, offer, "application/sdp", None).await;
    assert_eq!(no_audio.status(), 400);
    assert!(no_audio.text().await.unwrap().contains("no audio"));
    data_only.close().await.unwrap();

    // A real call.
    let (peer, channel, mut events) = page_peer(true).await;
    let offer = offer_of(&peer, &mut events).await;
    let foreign = post(
        &client,
        port,
        offer.clone(),
        "application/sdp",
        Some("https://evil.example"),
    )
    .await;
    assert_eq!(foreign.status(), 403);
    assert!(foreign.text().await.unwrap().contains("allowed_origins"));
    let answered = post(&client, port, offer, "application/sdp", None).await;
    assert_eq!(answered.status(), 201);
    let location = answered
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap()
        .to_string();
    assert!(location.starts_with("/webrtc/calls/wrtc-"), "{location}");
    let answer = answered.text().await.unwrap();
    peer.set_remote_description(RTCSessionDescription::answer(answer).unwrap())
        .await
        .unwrap();
    let connected = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(event) = events.recv().await {
            match event {
                PageEvent::Connected => return true,
                PageEvent::Failed => return false,
                _ => {}
            }
        }
        false
    })
    .await;
    assert_eq!(connected, Ok(true), "the page's peer did not connect");

    // Over the limit of one line: 503 with Retry-After.
    let (second, _, mut second_events) = page_peer(true).await;
    let offer = offer_of(&second, &mut second_events).await;
    let busy = post(&client, port, offer, "application/sdp", None).await;
    assert_eq!(busy.status(), 503);
    assert!(busy.headers().contains_key("retry-after"));
    second.close().await.unwrap();

    // The greeting: captions, state, audio.
    let mut seen = Vec::new();
    let greeting = wait_message(&channel, &mut seen, Duration::from_secs(15), |m| {
        m["type"] == "caption" && m["role"] == "bot"
    })
    .await;
    assert!(greeting.is_some(), "no greeting caption: {seen:?}");
    assert!(seen.iter().any(|m| m["type"] == "ready"), "{seen:?}");
    let speaking = wait_message(&channel, &mut seen, Duration::from_secs(2), |m| {
        m["type"] == "state" && m["state"] == "speaking"
    })
    .await;
    assert!(speaking.is_some(), "{seen:?}");
    let listening = wait_message(&channel, &mut seen, Duration::from_secs(15), |m| {
        m["type"] == "state" && m["state"] == "listening"
    })
    .await;
    assert!(listening.is_some(), "the greeting never ended: {seen:?}");
    let mut audio_bytes = 0;
    let mut packets = 0;
    while let Ok(event) = events.try_recv() {
        if let PageEvent::AudioPacket(bytes) = event {
            audio_bytes += bytes;
            packets += 1;
        }
    }
    assert!(
        audio_bytes > 5000,
        "the bot's audio did not arrive ({audio_bytes} bytes in {packets} packets)"
    );

    // A typed question is answered like speech; garbage gets an error, the call goes on.
    channel.send_text("not json at all").await.unwrap();
    let error = wait_message(&channel, &mut seen, Duration::from_secs(5), |m| {
        m["type"] == "error"
    })
    .await;
    assert!(error.is_some(), "no error for garbage: {seen:?}");
    channel
        .send_text(r#"{"type":"text","text":"What time do you open on weekends?"}"#)
        .await
        .unwrap();
    let answer = wait_message(&channel, &mut seen, Duration::from_secs(20), |m| {
        m["type"] == "caption"
            && m["role"] == "bot"
            && m["text"].as_str().is_some_and(|t| t.contains("10 am"))
    })
    .await;
    assert!(
        answer.is_some(),
        "no answer to the typed question: {seen:?}"
    );
    assert!(
        seen.iter()
            .any(|m| m["role"] == "caller" && m["final"] == true),
        "{seen:?}"
    );
    // Hang up with DELETE: the line is freed.
    let url = format!("http://127.0.0.1:{port}{location}");
    assert_eq!(client.delete(&url).send().await.unwrap().status(), 204);
    let ended = wait_message(&channel, &mut seen, Duration::from_secs(5), |m| {
        m["type"] == "ended"
    })
    .await;
    assert_eq!(
        ended.map(|m| m["reason"].clone()),
        Some("caller_hung_up".into())
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while metric(port, "hotline_browser_calls_active") != Some(0.0) {
        assert!(Instant::now() < deadline, "the line was not freed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(client.delete(&url).send().await.unwrap().status(), 404);
    peer.close().await.unwrap();
}

/// Hundreds of POSTs (garbage, and real offers from peers that never connect) are each
/// answered with a status, the server stays up, and every line comes back once the
/// never-connected calls time out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_offers_is_refused_or_timed_out_and_leaks_nothing() {
    let port = free_port();
    let media_port = support::free_udp_port();
    let _server = start_server_with(
        port,
        (media_port, media_port.saturating_add(3)),
        &[
            ("HOTLINE_WEBRTC__MAX_CALLS", "4"),
            ("HOTLINE_WEBRTC__CONNECT_TIMEOUT_SECS", "2"),
        ],
    );
    let client = reqwest::Client::new();
    let (peer, _channel, mut events) = page_peer(true).await;
    // A real offer that nobody will complete (its answer is never applied).
    let offer = offer_of(&peer, &mut events).await;
    let mut requests = Vec::new();
    for n in 0..300 {
        let body = match n % 3 {
            0 => offer.clone(),
            1 => "v=0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n".to_string(),
            _ => "x".repeat(n * 300),
        };
        let client = client.clone();
        requests.push(tokio::spawn(async move {
            post(&client, port, body, "application/sdp", None)
                .await
                .status()
                .as_u16()
        }));
    }
    let mut statuses = std::collections::BTreeMap::new();
    for request in requests {
        *statuses.entry(request.await.unwrap()).or_insert(0) += 1;
    }
    assert_eq!(statuses.values().sum::<usize>(), 300, "{statuses:?}");
    assert!(
        statuses
            .keys()
            .all(|s| [201, 400, 413, 415, 503].contains(s)),
        "{statuses:?}"
    );
    assert!(statuses.get(&201).is_some_and(|&n| n <= 4), "{statuses:?}");
    assert!(statuses.contains_key(&503), "{statuses:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while metric(port, "hotline_browser_calls_active") != Some(0.0) {
        assert!(
            Instant::now() < deadline,
            "never-connected calls were not freed: {:?}",
            metric(port, "hotline_browser_calls_active")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(get(port, "/healthz").is_some(), "the server went down");
    peer.close().await.unwrap();
}
