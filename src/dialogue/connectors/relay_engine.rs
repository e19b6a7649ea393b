//! Connector for an external bot speaking the ConversationRelay-style WebSocket protocol
//! ([`RelayOutbound`]/[`RelayInbound`]). Each call gets its own connection, opened with
//! `setup` on the call's first turn; every turn is a `prompt`, answered by `text` tokens
//! that go through the [`SentenceSplitter`] so each sentence is spoken as soon as it is
//! complete. `end` with `handoffData` becomes a transfer. When the caller barges in (the
//! reply stream is dropped), the bot is sent `interrupt` with what had been said.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::config::RelayConfig;
use super::relay_messages::{RelayInbound, RelayOutbound, lang_of_tag, relay_lang_tag};
use super::sessions::ConversationIds;
use crate::dialogue::action::{DialogueAction, TransferReason};
use crate::dialogue::engine::DialogueEngine;
use crate::dialogue::engine_load_error::EngineLoadError;
use crate::dialogue::knowledge::engine::not_sure_sentence;
use crate::dialogue::reply_event::ReplyEvent;
use crate::dialogue::reply_stream::{DEFAULT_REPLY_BUFFER, ReplySender, ReplyStream};
use crate::dialogue::request::DialogueRequest;
use crate::lang::Lang;
use crate::lang::SentenceSplitter;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One turn handed to a call's connection task.
struct Turn {
    request: DialogueRequest,
    reply: ReplySender,
}

#[derive(Debug, Clone)]
pub struct RelayEngine {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    config: RelayConfig,
    conversations: ConversationIds,
    connections: Mutex<HashMap<String, mpsc::Sender<Turn>>>,
}

impl RelayEngine {
    pub fn new(config: &RelayConfig) -> Result<Self, EngineLoadError> {
        let bad = |detail: String| EngineLoadError::BadUrl {
            setting: "[dialogue.relay] url".to_string(),
            value: config.url.clone(),
            detail,
            example: "ws://127.0.0.1:8765/relay",
        };
        let url = reqwest::Url::parse(&config.url).map_err(|e| bad(e.to_string()))?;
        if url.scheme() != "ws" {
            return Err(bad(
                "only ws:// is supported (wss needs tokio-tungstenite's TLS feature); put a TLS-terminating proxy in front of the bot or use ws:// on a private network".to_string(),
            ));
        }
        Ok(Self {
            shared: Arc::new(Shared {
                config: config.clone(),
                conversations: ConversationIds::new("hotline"),
                connections: Mutex::new(HashMap::new()),
            }),
        })
    }
}

impl DialogueEngine for RelayEngine {
    fn name(&self) -> &str {
        "relay"
    }

    fn respond(&self, request: DialogueRequest) -> ReplyStream {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!("the relay connector needs a tokio runtime; answering not-sure");
            return ReplyStream::ready(not_sure(request.lang));
        };
        let (tx, stream) = ReplyStream::channel(DEFAULT_REPLY_BUFFER);
        let shared = Arc::clone(&self.shared);
        runtime.spawn(async move { shared.hand_over(request, tx).await });
        stream
    }
}

impl Shared {
    /// Gives the turn to its call's connection, opening one on the call's first turn.
    async fn hand_over(self: Arc<Self>, request: DialogueRequest, reply: ReplySender) {
        let (id, _) = self.conversations.id_for(&request);
        let existing = self
            .connections
            .lock()
            .ok()
            .and_then(|c| c.get(&id).filter(|tx| !tx.is_closed()).cloned());
        let turns = match existing {
            Some(turns) => turns,
            None => match self.connect(&id).await {
                Ok(socket) => {
                    let (turns, queue) = mpsc::channel(4);
                    if let Ok(mut connections) = self.connections.lock() {
                        connections.insert(id.clone(), turns.clone());
                    }
                    tokio::spawn(Arc::clone(&self).run_connection(id.clone(), socket, queue));
                    turns
                }
                Err(problem) => {
                    tracing::warn!(url = %self.config.url, %problem, "cannot reach the relay bot; check [dialogue.relay] url and that the bot is listening");
                    send_all(&reply, not_sure(request.lang)).await;
                    return;
                }
            },
        };
        let lang = request.lang;
        if let Err(mpsc::error::SendError(turn)) = turns.send(Turn { request, reply }).await {
            send_all(&turn.reply, not_sure(lang)).await;
        }
    }

    async fn connect(&self, id: &str) -> Result<Socket, String> {
        let (mut socket, _) = tokio::time::timeout(
            Duration::from_secs(5),
            tokio_tungstenite::connect_async(self.config.url.as_str()),
        )
        .await
        .map_err(|_| "connection timed out".to_string())?
        .map_err(|e| e.to_string())?;
        let setup = RelayOutbound::Setup {
            session_id: id.to_string(),
            from: self.config.from.clone(),
            to: self.config.to.clone(),
            custom_parameters: self.config.custom_parameters.clone(),
        };
        send_message(&mut socket, &setup).await?;
        Ok(socket)
    }

    /// Serves one call's turns until the bot ends the session, the socket closes, or the
    /// call has been idle for `idle_close_s`.
    async fn run_connection(
        self: Arc<Self>,
        id: String,
        mut socket: Socket,
        mut turns: mpsc::Receiver<Turn>,
    ) {
        let idle = Duration::from_secs(self.config.idle_close_s.max(1));
        loop {
            let turn = tokio::select! {
                turn = turns.recv() => turn,
                inbound = socket.next() => match inbound {
                    // Tokens of an interrupted reply, pings: nothing to do between turns.
                    Some(Ok(_)) => continue,
                    _ => None,
                },
                _ = tokio::time::sleep(idle) => None,
            };
            let Some(turn) = turn else { break };
            match self.serve_turn(&mut socket, turn).await {
                TurnEnd::Continue => {}
                TurnEnd::Closed => break,
            }
        }
        if let Ok(mut connections) = self.connections.lock() {
            connections.remove(&id);
        }
        let _ = socket.close(None).await;
    }

    async fn serve_turn(&self, socket: &mut Socket, turn: Turn) -> TurnEnd {
        let Turn { request, reply } = turn;
        let prompt = RelayOutbound::Prompt {
            voice_prompt: request.transcript.clone(),
            lang: relay_lang_tag(request.lang).to_string(),
            last: true,
        };
        if let Err(problem) = send_message(socket, &prompt).await {
            tracing::warn!(%problem, "relay bot connection lost");
            send_all(&reply, not_sure(request.lang)).await;
            return TurnEnd::Closed;
        }
        let mut speech = TurnSpeech::new(reply, request.lang);
        let reply_timeout = Duration::from_millis(self.config.reply_timeout_ms.max(1));
        loop {
            let inbound = match tokio::time::timeout(reply_timeout, socket.next()).await {
                Err(_) => {
                    tracing::warn!(
                        timeout_ms = self.config.reply_timeout_ms,
                        "relay bot went quiet mid-reply"
                    );
                    speech.end(true).await;
                    return TurnEnd::Continue;
                }
                Ok(Some(Ok(Message::Text(text)))) => text,
                Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) => {
                    speech.end(true).await;
                    return TurnEnd::Closed;
                }
                Ok(Some(Ok(_))) => continue,
            };
            match serde_json::from_str::<RelayInbound>(inbound.as_str()) {
                Ok(RelayInbound::Text {
                    token, last, lang, ..
                }) => {
                    if let Some(lang) = lang.as_deref().and_then(lang_of_tag) {
                        speech.lang = lang;
                    }
                    if !speech.push(&token).await {
                        let interrupt = speech.interrupt();
                        let _ = send_message(socket, &interrupt).await;
                        return TurnEnd::Continue;
                    }
                    if last {
                        speech.end(true).await;
                        return TurnEnd::Continue;
                    }
                }
                Ok(RelayInbound::End { handoff_data }) => {
                    speech.end(false).await;
                    if let Some(data) = handoff_data {
                        let action = handoff(&data, &request);
                        let _ = speech.reply.send(ReplyEvent::Action(action)).await;
                    }
                    return TurnEnd::Closed;
                }
                Ok(RelayInbound::Other) => {}
                Err(e) => tracing::debug!(error = %e, "unreadable relay message skipped"),
            }
        }
    }
}

enum TurnEnd {
    Continue,
    Closed,
}

/// The reply being spoken for one turn.
struct TurnSpeech {
    reply: ReplySender,
    lang: Lang,
    splitter: SentenceSplitter,
    said: Vec<String>,
    first_at: Option<Instant>,
}

impl TurnSpeech {
    fn new(reply: ReplySender, lang: Lang) -> Self {
        Self {
            reply,
            lang,
            splitter: SentenceSplitter::new(),
            said: Vec::new(),
            first_at: None,
        }
    }

    /// False when the caller is no longer listening.
    async fn push(&mut self, token: &str) -> bool {
        for sentence in self.splitter.push(token) {
            if !self.say(sentence).await {
                return false;
            }
        }
        !self.reply.is_closed()
    }

    async fn say(&mut self, sentence: String) -> bool {
        self.first_at.get_or_insert_with(Instant::now);
        let sent = self
            .reply
            .send(ReplyEvent::sentence(sentence.clone(), self.lang))
            .await
            .is_ok();
        if sent {
            self.said.push(sentence);
        }
        sent
    }

    /// Speaks what is left; with `not_sure_if_silent`, a reply that said nothing becomes
    /// the not-sure answer.
    async fn end(&mut self, not_sure_if_silent: bool) {
        for sentence in self.splitter.finish() {
            if !self.say(sentence).await {
                return;
            }
        }
        if not_sure_if_silent && self.said.is_empty() {
            send_all(&self.reply, not_sure(self.lang)).await;
        }
    }

    fn interrupt(&self) -> RelayOutbound {
        RelayOutbound::Interrupt {
            utterance_until_interrupt: self.said.join(" "),
            duration_until_interrupt_ms: self
                .first_at
                .map_or(0, |at| at.elapsed().as_millis() as u64),
        }
    }
}

/// The transfer for an `end` message's `handoffData` (a JSON string, by convention with
/// `reasonCode`/`reason` and `summary`; anything else is passed on as the summary).
fn handoff(data: &str, request: &DialogueRequest) -> DialogueAction {
    let parsed: Option<Value> = serde_json::from_str(data).ok();
    let field = |names: &[&str]| {
        names.iter().find_map(|name| {
            parsed
                .as_ref()
                .and_then(|v| v.get(*name))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
    };
    DialogueAction::Transfer {
        reason: TransferReason::EngineDecided(
            field(&["reason", "reasonCode"])
                .unwrap_or_else(|| "the relay bot handed off".to_string()),
        ),
        summary: field(&["summary"]).unwrap_or_else(|| {
            if parsed.is_some() {
                format!("Caller said: {}; handoff data: {data}", request.transcript)
            } else {
                data.to_string()
            }
        }),
    }
}

async fn send_message(socket: &mut Socket, message: &RelayOutbound) -> Result<(), String> {
    let text = serde_json::to_string(message).map_err(|e| e.to_string())?;
    socket
        .send(Message::Text(text.into()))
        .await
        .map_err(|e| e.to_string())
}

async fn send_all(tx: &ReplySender, events: Vec<ReplyEvent>) {
    for event in events {
        if tx.send(event).await.is_err() {
            return;
        }
    }
}

fn not_sure(lang: Lang) -> Vec<ReplyEvent> {
    vec![
        ReplyEvent::NoMatch {
            best_faq_id: None,
            best_score: 0.0,
        },
        ReplyEvent::sentence(not_sure_sentence(lang), lang),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;
    use tokio::net::TcpListener;

    use super::*;
    use crate::dialogue::Turn as HistoryTurn;

    /// A relay bot double: answers each `prompt` with the next scripted list of messages
    /// (with a pause before each) and records everything it receives.
    async fn start_bot(
        script: Vec<Vec<(u64, Value)>>,
    ) -> (String, Arc<Mutex<Vec<Value>>>, Arc<Mutex<usize>>) {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let url = format!(
            "ws://{}/relay",
            listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
        );
        let received = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0usize));
        let (seen, count) = (Arc::clone(&received), Arc::clone(&connections));
        tokio::spawn(async move {
            let mut replies = script.into_iter();
            while let Ok((stream, _)) = listener.accept().await {
                if let Ok(mut n) = count.lock() {
                    *n += 1;
                }
                let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else {
                    continue;
                };
                while let Some(Ok(Message::Text(text))) = socket.next().await {
                    let message: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
                    let is_prompt = message["type"] == "prompt";
                    if let Ok(mut seen) = seen.lock() {
                        seen.push(message);
                    }
                    if !is_prompt {
                        continue;
                    }
                    for (pause_ms, reply) in replies.next().unwrap_or_default() {
                        tokio::time::sleep(Duration::from_millis(pause_ms)).await;
                        let _ = socket.send(Message::Text(reply.to_string().into())).await;
                    }
                }
            }
        });
        (url, received, connections)
    }

    fn text(token: &str, last: bool) -> Value {
        json!({"type": "text", "token": token, "last": last})
    }

    fn engine(url: &str) -> RelayEngine {
        RelayEngine::new(&RelayConfig {
            url: url.to_string(),
            custom_parameters: BTreeMap::from([("shop".to_string(), "demo".to_string())]),
            from: "+85291234567".to_string(),
            reply_timeout_ms: 2000,
            ..RelayConfig::default()
        })
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn one_connection_per_call_tokens_become_sentences_and_end_hands_off() {
        let (url, received, connections) = start_bot(vec![
            vec![
                (0, text("你好，", false)),
                (10, text("我係客服", false)),
                (10, text("機械人。有咩", false)),
                (10, text("可以幫你？", true)),
            ],
            vec![
                (0, text("好，幫你轉真人。", false)),
                (
                    10,
                    json!({"type": "end", "handoffData": "{\"reasonCode\":\"live-agent-handoff\",\"reason\":\"caller asked\",\"summary\":\"wants an agent\"}"}),
                ),
            ],
        ])
        .await;
        let relay = engine(&url);
        let first = relay
            .respond(DialogueRequest::new("你好", Lang::Yue))
            .collect()
            .await;
        assert_eq!(
            first,
            [
                ReplyEvent::sentence("你好，我係客服機械人。", Lang::Yue),
                ReplyEvent::sentence("有咩可以幫你？", Lang::Yue),
            ]
        );
        let second = relay
            .respond(
                DialogueRequest::new("我要搵真人", Lang::Yue).with_history(vec![
                    HistoryTurn::caller("你好", Lang::Yue),
                    HistoryTurn::bot("你好，我係客服機械人。有咩可以幫你？", Lang::Yue),
                ]),
            )
            .collect()
            .await;
        assert_eq!(
            second,
            [
                ReplyEvent::sentence("好，幫你轉真人。", Lang::Yue),
                ReplyEvent::Action(DialogueAction::Transfer {
                    reason: TransferReason::EngineDecided("caller asked".to_string()),
                    summary: "wants an agent".to_string(),
                }),
            ]
        );
        assert_eq!(connections.lock().map(|n| *n).unwrap_or(0), 1);
        let seen = received.lock().map(|r| r.clone()).unwrap_or_default();
        assert_eq!(seen.len(), 3, "{seen:?}");
        assert_eq!(seen[0]["type"], "setup");
        assert_eq!(seen[0]["customParameters"]["shop"], "demo");
        assert_eq!(seen[0]["from"], "+85291234567");
        assert!(seen[0]["sessionId"].as_str().is_some_and(|s| !s.is_empty()));
        assert_eq!(
            seen[1],
            json!({"type": "prompt", "voicePrompt": "你好", "lang": "zh-HK", "last": true})
        );
        assert_eq!(seen[2]["voicePrompt"], "我要搵真人");
    }

    #[tokio::test]
    async fn barge_in_sends_interrupt_with_what_was_said() {
        let (url, received, _) = start_bot(vec![vec![
            (0, text("First sentence. ", false)),
            (200, text("Second sentence. ", false)),
            (10, text("Third.", true)),
        ]])
        .await;
        let relay = engine(&url);
        let mut stream = relay.respond(DialogueRequest::new("hello", Lang::En));
        assert_eq!(
            stream.next().await,
            Some(ReplyEvent::sentence("First sentence.", Lang::En))
        );
        drop(stream); // the caller talks over the reply
        let mut interrupt = None;
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let seen = received.lock().map(|r| r.clone()).unwrap_or_default();
            interrupt = seen.into_iter().find(|m| m["type"] == "interrupt");
            if interrupt.is_some() {
                break;
            }
        }
        let interrupt = interrupt.unwrap_or_else(|| panic!("no interrupt reached the bot"));
        assert_eq!(interrupt["utteranceUntilInterrupt"], "First sentence.");
        assert!(
            interrupt["durationUntilInterruptMs"]
                .as_u64()
                .is_some_and(|ms| ms >= 150)
        );
    }

    #[tokio::test]
    async fn an_unreachable_bot_gives_the_not_sure_answer() {
        let events = engine("ws://127.0.0.1:9/relay")
            .respond(DialogueRequest::new("hello", Lang::En))
            .collect()
            .await;
        assert_eq!(
            events[1],
            ReplyEvent::sentence(not_sure_sentence(Lang::En), Lang::En)
        );
        assert!(
            RelayEngine::new(&RelayConfig {
                url: "wss://bot.example.com".to_string(),
                ..RelayConfig::default()
            })
            .is_err()
        );
    }
}
