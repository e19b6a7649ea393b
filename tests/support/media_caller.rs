//! A scripted caller on `/media` (the Twilio Media Streams WebSocket): starts a stream with a
//! caller number, sends paced 20 ms μ-law frames (silence, then a fixture question once the
//! greeting is over) and listens for the bot's audio.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Bot audio above this level counts as speech (the bot sends digital silence otherwise).
const AUDIBLE_DBFS: f32 = -45.0;

/// One call on `/media`.
pub struct MediaCaller {
    send: SplitSink<Socket, Message>,
    receive: SplitStream<Socket>,
    sid: String,
    /// When the `start` message was sent: the call's time zero, give or take a few ms.
    pub started: Instant,
    silence: String,
}

/// The fixture `name` as 20 ms μ-law payloads at 8 kHz.
pub fn question_payloads(name: &str) -> Vec<String> {
    let audio = hotline_audio::wav::read_wav_16k_mono(super::fixture(name)).unwrap();
    let narrow = hotline_audio::resample::resample_buffer(&audio.samples, 16_000, 8_000).unwrap();
    narrow
        .chunks(160)
        .map(|chunk| {
            let mut samples = [0i16; 160];
            samples[..chunk.len()].copy_from_slice(chunk);
            let mut codes = [0u8; 160];
            hotline_audio::g711::mulaw_encode_slice(&samples, &mut codes);
            BASE64.encode(codes)
        })
        .collect()
}

/// Level of one received payload, or None when the message is not bot media.
pub fn media_level(text: &str) -> Option<f32> {
    let message: serde_json::Value = serde_json::from_str(text).ok()?;
    if message["event"] != "media" {
        return None;
    }
    let codes = BASE64.decode(message["media"]["payload"].as_str()?).ok()?;
    let mut samples = vec![0i16; codes.len()];
    hotline_audio::g711::mulaw_decode_slice(&codes, &mut samples);
    Some(hotline_audio::level::dbfs(&samples))
}

impl MediaCaller {
    /// Connects and starts stream `sid` from `caller` in Mandarin.
    pub async fn start(port: u16, sid: &str, caller: &str) -> MediaCaller {
        MediaCaller::connect(&format!("ws://127.0.0.1:{port}/media"), sid, caller, None)
            .await
            .expect("WebSocket /media accepts connections")
    }

    /// Connects to `url` (which may carry `?token=`) and starts stream `sid` from `caller` in
    /// Mandarin, with `customParameters.token` when `parameter_token` is given; the error is
    /// the refusal of the upgrade (its HTTP response).
    pub async fn connect(
        url: &str,
        sid: &str,
        caller: &str,
        parameter_token: Option<&str>,
    ) -> Result<MediaCaller, tokio_tungstenite::tungstenite::Error> {
        let (socket, _) = tokio_tungstenite::connect_async(url).await?;
        let (mut send, receive) = socket.split();
        send.send(Message::text(
            r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#,
        ))
        .await?;
        let mut parameters = serde_json::json!({"lang": "zh", "from": caller});
        if let Some(token) = parameter_token {
            parameters["token"] = token.into();
        }
        let start = serde_json::json!({
            "event": "start", "sequenceNumber": "1", "streamSid": sid,
            "start": {"accountSid": "AC1", "streamSid": sid, "callSid": format!("CA{sid}"),
                "tracks": ["inbound"],
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                "customParameters": parameters}
        });
        send.send(Message::text(start.to_string())).await?;
        Ok(MediaCaller {
            send,
            receive,
            sid: sid.to_string(),
            started: Instant::now(),
            silence: BASE64.encode([0xFFu8; 160]),
        })
    }

    /// Sends paced silence until the bot is heard (true) or `within` has passed, or the
    /// socket is closed (false).
    pub async fn hears_the_bot(&mut self, within: Duration) -> bool {
        let mut clock = tokio::time::interval(Duration::from_millis(20));
        let until = Instant::now() + within;
        while Instant::now() < until {
            tokio::select! {
                _ = clock.tick() => {
                    let message = self.media(&self.silence.clone());
                    if self.send.send(message).await.is_err() {
                        return false;
                    }
                }
                message = self.receive.next() => match message {
                    Some(Ok(Message::Text(text))) => {
                        if media_level(text.as_str()).is_some_and(|level| level >= AUDIBLE_DBFS) {
                            return true;
                        }
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return false,
                    Some(Ok(_)) => {}
                },
            }
        }
        false
    }

    /// Sends paced silence for `during` and counts the bot's media messages (audible or not):
    /// true when they kept coming (at least one every 100 ms on average), so the call is up.
    pub async fn still_streaming(&mut self, during: Duration) -> bool {
        let mut clock = tokio::time::interval(Duration::from_millis(20));
        let until = Instant::now() + during;
        let mut received = 0u128;
        while Instant::now() < until {
            tokio::select! {
                _ = clock.tick() => {
                    let message = self.media(&self.silence.clone());
                    if self.send.send(message).await.is_err() {
                        return false;
                    }
                }
                message = self.receive.next() => match message {
                    Some(Ok(Message::Text(text))) => {
                        if media_level(text.as_str()).is_some() {
                            received += 1;
                        }
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return false,
                    Some(Ok(_)) => {}
                },
            }
        }
        received * 100 >= during.as_millis()
    }

    /// Waits (at most `within`) for the server to close the socket; the close frame's reason
    /// ("" without one), or None when it stays open.
    pub async fn closed_by_server(&mut self, within: Duration) -> Option<String> {
        let until = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(until, self.receive.next()).await {
                Err(_) => return None,
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Some(frame.map_or(String::new(), |f| f.reason.to_string()));
                }
                Ok(None) | Ok(Some(Err(_))) => return Some(String::new()),
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    fn media(&self, payload: &str) -> Message {
        Message::text(format!(
            r#"{{"event":"media","streamSid":"{}","media":{{"track":"inbound","payload":"{payload}"}}}}"#,
            self.sid
        ))
    }

    /// Sends silence until the greeting is over, then `question`, then silence until the
    /// bot answers (true) or `deadline` after the call started (false).
    pub async fn ask(&mut self, question: &[String], deadline: Duration) -> bool {
        let mut clock = tokio::time::interval(Duration::from_millis(20));
        let mut greeting_heard = false;
        let mut last_audible: Option<Instant> = None;
        let mut next_frame = 0;
        let mut asked = false;
        while self.started.elapsed() < deadline {
            tokio::select! {
                _ = clock.tick() => {
                    let greeting_over = greeting_heard
                        && last_audible.is_some_and(|t| t.elapsed() > Duration::from_millis(800));
                    let payload = if greeting_over && next_frame < question.len() {
                        next_frame += 1;
                        asked = next_frame == question.len();
                        question[next_frame - 1].clone()
                    } else {
                        self.silence.clone()
                    };
                    let message = self.media(&payload);
                    if self.send.send(message).await.is_err() {
                        return false;
                    }
                }
                message = self.receive.next() => {
                    let Some(Ok(Message::Text(text))) = message else {
                        if message.is_none() { return false; }
                        continue;
                    };
                    if media_level(text.as_str()).is_some_and(|level| level >= AUDIBLE_DBFS) {
                        if asked {
                            return true;
                        }
                        greeting_heard = true;
                        last_audible = Some(Instant::now());
                    }
                }
            }
        }
        false
    }

    /// Sends paced silence for `duration` (the call stays up).
    pub async fn keep_talking(&mut self, duration: Duration) {
        let mut clock = tokio::time::interval(Duration::from_millis(20));
        let until = Instant::now() + duration;
        while Instant::now() < until {
            tokio::select! {
                _ = clock.tick() => {
                    let message = self.media(&self.silence.clone());
                    if self.send.send(message).await.is_err() {
                        return;
                    }
                }
                _ = self.receive.next() => {}
            }
        }
    }

    /// Sends paced silence until the bot has been quiet for `quiet` (or `at_most` passed).
    pub async fn listen_until_quiet(&mut self, quiet: Duration, at_most: Duration) {
        let mut clock = tokio::time::interval(Duration::from_millis(20));
        let until = Instant::now() + at_most;
        let mut last_audible = Instant::now();
        while Instant::now() < until && last_audible.elapsed() < quiet {
            tokio::select! {
                _ = clock.tick() => {
                    let message = self.media(&self.silence.clone());
                    if self.send.send(message).await.is_err() {
                        return;
                    }
                }
                message = self.receive.next() => {
                    if let Some(Ok(Message::Text(text))) = message
                        && media_level(text.as_str()).is_some_and(|level| level >= AUDIBLE_DBFS)
                    {
                        last_audible = Instant::now();
                    }
                }
            }
        }
    }

    /// Stops the stream and closes the socket: the caller hung up.
    pub async fn hang_up(mut self) {
        let stop = format!(r#"{{"event":"stop","streamSid":"{}"}}"#, self.sid);
        let _ = self.send.send(Message::text(stop)).await;
        let _ = self.send.close().await;
    }
}
