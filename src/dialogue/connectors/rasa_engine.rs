//! Connector for a Rasa bot over its REST channel: `POST {url}/webhooks/rest/webhook` with
//! `{"sender", "message", "metadata"}`, answered by `[{"recipient_id", "text"}, …]`. Each text
//! is spoken sentence by sentence; a custom payload `{"handoff": true, "reason", "summary"}`
//! hands the caller to a human. When Rasa fails, the caller hears the not-sure sentence.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::config::RasaConfig;
use super::sessions::ConversationIds;
use crate::dialogue::action::{DialogueAction, TransferReason};
use crate::dialogue::engine::DialogueEngine;
use crate::dialogue::engine_load_error::EngineLoadError;
use crate::dialogue::knowledge::engine::not_sure_sentence;
use crate::dialogue::reply_event::ReplyEvent;
use crate::dialogue::reply_stream::{DEFAULT_REPLY_BUFFER, ReplySender, ReplyStream};
use crate::dialogue::request::DialogueRequest;
use crate::lang::SentenceSplitter;

/// One message of Rasa's answer.
#[derive(Debug, Deserialize)]
struct RasaMessage {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    custom: Option<Value>,
}

#[derive(Debug, Clone)]
pub struct RasaEngine {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    http: reqwest::Client,
    endpoint: String,
    timeout: Duration,
    conversations: ConversationIds,
}

impl RasaEngine {
    pub fn new(config: &RasaConfig) -> Result<Self, EngineLoadError> {
        let endpoint = format!("{}/webhooks/rest/webhook", config.url.trim_end_matches('/'));
        reqwest::Url::parse(&endpoint).map_err(|e| EngineLoadError::BadUrl {
            setting: "[dialogue.rasa] url".to_string(),
            value: config.url.clone(),
            detail: e.to_string(),
            example: "http://127.0.0.1:5005",
        })?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .build()
            .map_err(|e| EngineLoadError::HttpClient(e.to_string()))?;
        Ok(Self {
            shared: Arc::new(Shared {
                http,
                endpoint,
                timeout: Duration::from_millis(config.timeout_ms.max(1)),
                conversations: ConversationIds::new("hotline"),
            }),
        })
    }
}

impl DialogueEngine for RasaEngine {
    fn name(&self) -> &str {
        "rasa"
    }

    fn respond(&self, request: DialogueRequest) -> ReplyStream {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!("the Rasa connector needs a tokio runtime; answering not-sure");
            return ReplyStream::ready(not_sure(&request));
        };
        let (tx, stream) = ReplyStream::channel(DEFAULT_REPLY_BUFFER);
        let shared = Arc::clone(&self.shared);
        runtime.spawn(async move { shared.answer(request, tx).await });
        stream
    }
}

impl Shared {
    async fn answer(&self, request: DialogueRequest, tx: ReplySender) {
        let (sender, _) = self.conversations.id_for(&request);
        let events = match self.ask(&sender, &request).await {
            Ok(messages) => events_of(messages, &request),
            Err(problem) => {
                tracing::warn!(endpoint = %self.endpoint, %problem, "Rasa did not answer; check [dialogue.rasa] url and the Rasa server (rasa run --enable-api with the rest channel in credentials.yml)");
                not_sure(&request)
            }
        };
        for event in events {
            if tx.send(event).await.is_err() {
                return;
            }
        }
    }

    async fn ask(
        &self,
        sender: &str,
        request: &DialogueRequest,
    ) -> Result<Vec<RasaMessage>, String> {
        let body = json!({
            "sender": sender,
            "message": request.transcript,
            "metadata": {"lang": request.lang, "channel": "hotline"},
        });
        let response = self
            .http
            .post(&self.endpoint)
            .json(&body)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!(
                "HTTP {}: {}",
                status.as_u16(),
                text.chars().take(200).collect::<String>()
            ));
        }
        serde_json::from_str(&text).map_err(|e| format!("not a list of messages ({e})"))
    }
}

fn events_of(messages: Vec<RasaMessage>, request: &DialogueRequest) -> Vec<ReplyEvent> {
    let mut events = Vec::new();
    let mut handoff = None;
    for message in messages {
        if let Some(text) = &message.text {
            events.extend(
                SentenceSplitter::split_whole(text)
                    .into_iter()
                    .map(|s| ReplyEvent::sentence(s, request.lang)),
            );
        }
        if let Some(custom) = &message.custom
            && custom.get("handoff").and_then(Value::as_bool) == Some(true)
        {
            let field = |name: &str| custom.get(name).and_then(Value::as_str).map(str::to_string);
            handoff = Some(DialogueAction::Transfer {
                reason: TransferReason::EngineDecided(
                    field("reason").unwrap_or_else(|| "the Rasa bot handed off".to_string()),
                ),
                summary: field("summary")
                    .unwrap_or_else(|| format!("Caller said: {}", request.transcript)),
            });
        }
    }
    if events.is_empty() && handoff.is_none() {
        return not_sure(request);
    }
    events.extend(handoff.map(ReplyEvent::Action));
    events
}

fn not_sure(request: &DialogueRequest) -> Vec<ReplyEvent> {
    vec![
        ReplyEvent::NoMatch {
            best_faq_id: None,
            best_score: 0.0,
        },
        ReplyEvent::sentence(not_sure_sentence(request.lang), request.lang),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::Turn;
    use crate::dialogue::test_support::mock_http_server::{MockHttpServer, MockResponse};
    use crate::lang::Lang;

    fn engine(url: &str) -> RasaEngine {
        RasaEngine::new(&RasaConfig {
            url: url.to_string(),
            timeout_ms: 2000,
        })
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn texts_become_sentences_and_a_handoff_payload_a_transfer() {
        let rasa = MockHttpServer::start(vec![
            MockResponse::json(200, r#"[{"recipient_id":"x","text":"你好！请问有什么可以帮您？"}]"#),
            MockResponse::json(
                200,
                r#"[{"recipient_id":"x","text":"好的，马上为您转接。"},{"recipient_id":"x","custom":{"handoff":true,"reason":"refund dispute","summary":"wants a refund"}}]"#,
            ),
        ])
        .await;
        let engine = engine(&format!("{}/", rasa.base));
        let first = engine
            .respond(DialogueRequest::new("你好", Lang::Zh))
            .collect()
            .await;
        assert_eq!(
            first,
            [
                ReplyEvent::sentence("你好！", Lang::Zh),
                ReplyEvent::sentence("请问有什么可以帮您？", Lang::Zh)
            ]
        );
        let second = engine
            .respond(
                DialogueRequest::new("我要退款", Lang::Zh).with_history(vec![
                    Turn::caller("你好", Lang::Zh),
                    Turn::bot("你好！请问有什么可以帮您？", Lang::Zh),
                ]),
            )
            .collect()
            .await;
        assert_eq!(
            second,
            [
                ReplyEvent::sentence("好的，马上为您转接。", Lang::Zh),
                ReplyEvent::Action(DialogueAction::Transfer {
                    reason: TransferReason::EngineDecided("refund dispute".to_string()),
                    summary: "wants a refund".to_string(),
                })
            ]
        );
        let requests = rasa.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(
            (requests[0].method.as_str(), requests[0].path.as_str()),
            ("POST", "/webhooks/rest/webhook")
        );
        let (a, b) = (requests[0].json(), requests[1].json());
        assert_eq!(a["message"], "你好");
        assert_eq!(a["metadata"]["lang"], "zh");
        assert_eq!(a["sender"], b["sender"], "one Rasa conversation per call");
    }

    #[tokio::test]
    async fn a_failing_or_silent_bot_gives_the_not_sure_answer() {
        let rasa = MockHttpServer::start(vec![
            MockResponse::json(500, "{}"),
            MockResponse::json(200, "[]"),
        ])
        .await;
        let failing = engine(&rasa.base);
        for _ in 0..2 {
            let events = failing
                .respond(DialogueRequest::new("hello", Lang::En))
                .collect()
                .await;
            assert!(
                matches!(events[0], ReplyEvent::NoMatch { .. }),
                "{events:?}"
            );
            assert_eq!(
                events[1],
                ReplyEvent::sentence(not_sure_sentence(Lang::En), Lang::En)
            );
        }
        let unreachable = engine("http://127.0.0.1:9");
        let events = unreachable
            .respond(DialogueRequest::new("hello", Lang::Yue))
            .collect()
            .await;
        assert_eq!(
            events[1],
            ReplyEvent::sentence(not_sure_sentence(Lang::Yue), Lang::Yue)
        );
    }
}
