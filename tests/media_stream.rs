//! `hotline serve` answers a caller over the Twilio Media Streams WebSocket (`/media`): the
//! greeting plays, a Mandarin question sent as paced μ-law gets a spoken answer within a few
//! seconds, malformed messages do not end the call, and `/metrics` counts the call.

mod support;

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

/// Bot audio above this level counts as speech (the bot sends digital silence otherwise).
const AUDIBLE_DBFS: f32 = -45.0;

use support::media_caller::{media_level, question_payloads};
use support::{free_port, http_get as get};

/// Kills the server when the test ends, passed or not.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(port: u16) -> Server {
    let mut server = Server(
        support::hotline()
            .env("HOTLINE_SERVER__LISTEN", format!("127.0.0.1:{port}"))
            .arg("serve")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    while get(port, "/healthz").is_none() {
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!("hotline serve exited early: {status}");
        }
        assert!(Instant::now() < deadline, "no /healthz answer within 90 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    server
}

fn media(payload: &str) -> String {
    format!(
        r#"{{"event":"media","streamSid":"MZtest","media":{{"track":"inbound","payload":"{payload}"}}}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_on_a_media_stream_gets_a_spoken_answer() {
    let port = free_port();
    let _server = start_server(port);
    let (socket, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/media"))
        .await
        .expect("WebSocket /media accepts connections");
    let (mut send, mut receive) = socket.split();
    send.send(Message::text(
        r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#,
    ))
    .await
    .unwrap();
    send.send(Message::text(
        r#"{"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZtest","callSid":"CAtest","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},"customParameters":{"lang":"zh"}},"streamSid":"MZtest"}"#,
    ))
    .await
    .unwrap();

    let silence = BASE64.encode([0xFFu8; 160]);
    let question = question_payloads("zh_2_tel.wav");
    let mut clock = tokio::time::interval(Duration::from_millis(20));
    let started = Instant::now();
    // Phases: wait for the greeting to start and end, ask, wait for the answer.
    let mut greeting_heard = false;
    let mut last_audible: Option<Instant> = None;
    let mut asked_at: Option<Instant> = None;
    let mut next_question_frame = 0;
    let mut frames_received = 0u32;
    let mut answer_after: Option<Duration> = None;
    let mut marks: Vec<String> = Vec::new();
    while answer_after.is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no answer within 60 s (greeting heard: {greeting_heard}, asked: {})",
            asked_at.is_some()
        );
        tokio::select! {
            _ = clock.tick() => {
                let greeting_over = greeting_heard
                    && last_audible.is_some_and(|t| t.elapsed() > Duration::from_millis(800));
                let payload = if greeting_over && next_question_frame < question.len() {
                    if next_question_frame == 0 {
                        // Malformed messages in the middle of the call: logged, skipped.
                        send.send(Message::text("{this is not json")).await.unwrap();
                        send.send(Message::text(media("@@not base64@@"))).await.unwrap();
                        send.send(Message::text(r#"{"event":"dtmf","dtmf":{"digit":"99"}}"#)).await.unwrap();
                    }
                    next_question_frame += 1;
                    if next_question_frame == question.len() {
                        asked_at = Some(Instant::now());
                    }
                    &question[next_question_frame - 1]
                } else {
                    &silence
                };
                send.send(Message::text(media(payload))).await.unwrap();
            }
            message = receive.next() => {
                let message = message.expect("the server keeps the call open").unwrap();
                let Message::Text(text) = message else { continue };
                let parsed: serde_json::Value =
                    serde_json::from_str(text.as_str()).unwrap_or_default();
                if parsed["event"] == "mark" {
                    marks.push(parsed["mark"]["name"].as_str().unwrap_or("").to_string());
                    continue;
                }
                let Some(level) = media_level(text.as_str()) else { continue };
                frames_received += 1;
                if level >= AUDIBLE_DBFS {
                    last_audible = Some(Instant::now());
                    greeting_heard = true;
                    if let Some(asked) = asked_at {
                        answer_after = Some(asked.elapsed());
                    }
                }
            }
        }
    }
    let answer_after = answer_after.unwrap();
    // The greeting's end was labelled for the telephony side to confirm playback.
    assert_eq!(
        marks.first().map(String::as_str),
        Some("turn1-sentence1"),
        "{marks:?}"
    );
    assert!(
        answer_after < Duration::from_secs(8),
        "the answer started {answer_after:?} after the question ended"
    );
    // Bot frames are paced: about one per 20 ms since the call started.
    let expected = started.elapsed().as_millis() as u32 / 20;
    assert!(
        frames_received + 25 >= expected && frames_received <= expected + 5,
        "{frames_received} frames in {:?}",
        started.elapsed()
    );
    let metrics = get(port, "/metrics").expect("/metrics answers");
    assert!(metrics.contains("hotline_calls_active 1"), "{metrics}");
    assert!(
        metrics.contains("# TYPE hotline_voice_to_voice_seconds histogram"),
        "{metrics}"
    );
    eprintln!("answer audible {answer_after:?} after the question's last frame was sent");

    // The caller hangs up: the call ends and the metrics see it.
    send.send(Message::text(
        r#"{"event":"stop","stop":{"callSid":"CAtest"}}"#,
    ))
    .await
    .unwrap();
    let _ = send.close().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = get(port, "/metrics").unwrap_or_default();
        if metrics.contains("hotline_calls_active 0") {
            assert!(metrics.contains("hotline_calls_total 1"), "{metrics}");
            break;
        }
        assert!(Instant::now() < deadline, "the call did not end: {metrics}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
