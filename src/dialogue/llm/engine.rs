//! The LLM engine: the FAQ answers first when it is sure (no model call: the biggest latency
//! win); otherwise an OpenAI-compatible model answers with the best FAQ passages in its
//! prompt, the call's history, and company APIs as tools. Its tokens go through the
//! [`SentenceSplitter`] so each sentence is spoken as soon as it is complete. A short filler
//! covers a slow first token; a total timeout falls back to the not-sure answer or a transfer.
//!
//! This engine sends the caller's words out of the process: wrap it in the
//! [`SafetyFilter`](crate::dialogue::SafetyFilter), which redacts personal data first.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

use super::client::{LlmClient, RoundEnd};
use super::config::{LlmConfig, LlmFallback, ToolConfig};
use super::error::LlmError;
use super::messages::chat_messages;
use super::secret_value::{EnvLookup, read_secret};
use super::tools::CompanyTools;
use crate::dialogue::action::{DialogueAction, TransferReason};
use crate::dialogue::engine::{DialogueEngine, EngineDescription};
use crate::dialogue::engine_load_error::EngineLoadError;
use crate::dialogue::knowledge::engine::not_sure_sentence;
use crate::dialogue::knowledge::knowledge_base::{Hit, KnowledgeBase};
use crate::dialogue::reply_event::ReplyEvent;
use crate::dialogue::reply_stream::{
    DEFAULT_REPLY_BUFFER, ReplySender, ReplyStream, ReplyStreamClosed,
};
use crate::dialogue::request::DialogueRequest;
use crate::lang::Lang;
use crate::lang::SentenceSplitter;

/// What is said once when the model has not started answering after
/// `first_token_timeout_ms`.
pub fn filler_sentence(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "我帮你查一查。",
        Lang::Yue => "我幫你查一查。",
        Lang::En => "Let me check that for you.",
    }
}

/// What is said before a transfer when the model could not answer.
pub fn transfer_sentence(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "抱歉，我帮您转接人工客服。",
        Lang::Yue => "唔好意思，我幫你轉駁人工客服。",
        Lang::En => "Sorry, let me put you through to a colleague.",
    }
}

/// FAQ first, then an OpenAI-compatible LLM.
#[derive(Debug, Clone)]
pub struct LlmEngine {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    knowledge: Arc<KnowledgeBase>,
    faq_threshold: f32,
    config: LlmConfig,
    client: LlmClient,
    tools: CompanyTools,
}

impl LlmEngine {
    /// An engine answering from `knowledge` (FAQ answers at `faq_threshold` and above) and
    /// the model of `config`, with `tools`; secrets are read through `env`.
    pub fn new(
        knowledge: Arc<KnowledgeBase>,
        faq_threshold: f32,
        config: &LlmConfig,
        tools: &[ToolConfig],
        env: EnvLookup<'_>,
    ) -> Result<Self, EngineLoadError> {
        reqwest::Url::parse(&config.base_url).map_err(|e| EngineLoadError::BadUrl {
            setting: "[dialogue.llm] base_url".to_string(),
            value: config.base_url.clone(),
            detail: e.to_string(),
            example: "http://127.0.0.1:11434/v1",
        })?;
        let api_key = read_secret(&config.api_key_env, "[dialogue.llm] api_key_env", env)?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| EngineLoadError::HttpClient(e.to_string()))?;
        let tools = CompanyTools::from_config(tools, http.clone(), env)?;
        let client = LlmClient::new(http, config.clone(), api_key);
        tracing::info!(endpoint = client.endpoint(), model = %config.model, tools = tools.definitions().len(), "LLM engine ready");
        Ok(Self {
            shared: Arc::new(Shared {
                knowledge,
                faq_threshold: faq_threshold.clamp(0.0, 1.0),
                config: config.clone(),
                client,
                tools,
            }),
        })
    }
}

impl DialogueEngine for LlmEngine {
    fn name(&self) -> &str {
        "llm"
    }

    fn respond(&self, request: DialogueRequest) -> ReplyStream {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!("the LLM engine needs a tokio runtime; answering not-sure");
            return ReplyStream::ready(fallback_events(&self.shared.config, &request, None));
        };
        let (tx, stream) = ReplyStream::channel(DEFAULT_REPLY_BUFFER);
        let shared = Arc::clone(&self.shared);
        runtime.spawn(async move { shared.answer(request, tx).await });
        stream
    }

    fn answer_openings(&self) -> Vec<(Lang, String)> {
        // A confident FAQ hit is spoken as written (see `answer`).
        self.shared.knowledge.answer_openings()
    }

    fn suggestions(&self, text: &str, lang: Lang, k: usize) -> Vec<Hit> {
        self.shared.knowledge.search(text, lang, k)
    }

    fn describe(&self) -> EngineDescription {
        EngineDescription {
            name: self.name().to_string(),
            entries: self.shared.knowledge.entries().len(),
        }
    }
}

impl Shared {
    async fn answer(self: Arc<Self>, request: DialogueRequest, tx: ReplySender) {
        let started = Instant::now();
        let hits = self.knowledge.search(
            &request.transcript,
            request.lang,
            self.config.passages.max(1),
        );
        let threshold = self
            .knowledge
            .answer_threshold(request.lang, self.faq_threshold);
        if let Some(best) = hits.first().filter(|h| h.score >= threshold) {
            let mut events = vec![ReplyEvent::Matched {
                faq_id: best.faq_id.clone(),
                score: best.score,
            }];
            events.extend(
                SentenceSplitter::split_whole(&best.answer)
                    .into_iter()
                    .map(|s| ReplyEvent::sentence(s, best.answer_lang)),
            );
            send_all(&tx, events).await;
            return;
        }
        let passages: Vec<Hit> = hits.iter().take(self.config.passages).cloned().collect();
        let messages = chat_messages(
            &request,
            &passages,
            &self.config.instructions,
            self.config.history_turns,
            !self.tools.is_empty(),
        );

        // The model task sends content fragments; the channel closes when it is done.
        let (content_tx, mut content) = mpsc::channel::<String>(64);
        let mut model = tokio::spawn(Arc::clone(&self).converse(messages, content_tx));
        let mut speaker = Speaker::new(tx, request.lang);
        let filler_at = started + Duration::from_millis(self.config.first_token_timeout_ms);
        let deadline = started + Duration::from_millis(self.config.total_timeout_ms);
        let mut filler_due = true;
        let failure = loop {
            tokio::select! {
                fragment = content.recv() => match fragment {
                    Some(text) => {
                        filler_due &= text.trim().is_empty();
                        if speaker.push(&text).await.is_err() {
                            model.abort();
                            return;
                        }
                    }
                    None => break match (&mut model).await {
                        Ok(result) => result.err(),
                        Err(e) => Some(LlmError::Read {
                            url: self.client.endpoint().to_string(),
                            detail: format!("the answer task ended abnormally: {e}"),
                        }),
                    },
                },
                _ = sleep_until(filler_at), if filler_due => {
                    filler_due = false;
                    if speaker.filler().await.is_err() {
                        model.abort();
                        return;
                    }
                }
                _ = sleep_until(deadline) => {
                    tracing::warn!(timeout_ms = self.config.total_timeout_ms, "LLM answer timed out");
                    model.abort();
                    if !speaker.answered() {
                        let best = hits.first();
                        send_all(&speaker.tx, fallback_events(&self.config, &request, best)).await;
                    }
                    return;
                }
            }
        };
        if let Some(error) = &failure {
            tracing::warn!(%error, "LLM answer failed");
        }
        if speaker.finish().await.is_err() {
            return;
        }
        if !speaker.answered() {
            send_all(
                &speaker.tx,
                fallback_events(&self.config, &request, hits.first()),
            )
            .await;
        }
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            failed = failure.is_some(),
            "LLM answer done"
        );
    }

    /// Runs the model (and its tool calls) to the end of the answer, sending content
    /// fragments to `text` as they come.
    async fn converse(
        self: Arc<Self>,
        mut messages: Vec<Value>,
        text: mpsc::Sender<String>,
    ) -> Result<(), LlmError> {
        let tools = self.tools.definitions();
        for round in 0..=self.config.max_tool_rounds {
            let (calls, said) = match self.client.round(&messages, &tools, &text).await? {
                RoundEnd::Answered | RoundEnd::Abandoned => return Ok(()),
                RoundEnd::ToolCalls { .. } if round == self.config.max_tool_rounds => {
                    return Err(LlmError::TooManyToolRounds(round + 1));
                }
                RoundEnd::ToolCalls { calls, text } => (calls, text),
            };
            if !said.trim().is_empty() {
                // What was said before the lookup ends as its own sentence.
                let _ = text.send("\n".to_string()).await;
            }
            messages.push(json!({
                "role": "assistant",
                "content": if said.is_empty() { Value::Null } else { Value::String(said) },
                "tool_calls": calls.iter().map(|c| json!({
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                })).collect::<Vec<_>>(),
            }));
            for call in &calls {
                let result = self.tools.call(call).await;
                messages.push(json!({"role": "tool", "tool_call_id": call.id, "content": result}));
            }
        }
        Ok(())
    }
}

/// Turns content fragments into spoken sentences.
struct Speaker {
    tx: ReplySender,
    lang: Lang,
    splitter: SentenceSplitter,
    /// Sentences of the answer itself (the filler does not count).
    answer_sentences: usize,
}

impl Speaker {
    fn new(tx: ReplySender, lang: Lang) -> Self {
        Self {
            tx,
            lang,
            splitter: SentenceSplitter::new(),
            answer_sentences: 0,
        }
    }

    async fn push(&mut self, text: &str) -> Result<(), ReplyStreamClosed> {
        for sentence in self.splitter.push(text) {
            self.say(sentence).await?;
        }
        Ok(())
    }

    async fn finish(&mut self) -> Result<(), ReplyStreamClosed> {
        for sentence in self.splitter.finish() {
            self.say(sentence).await?;
        }
        Ok(())
    }

    async fn say(&mut self, sentence: String) -> Result<(), ReplyStreamClosed> {
        self.answer_sentences += 1;
        self.tx
            .send(ReplyEvent::sentence(sentence, self.lang))
            .await
    }

    async fn filler(&mut self) -> Result<(), ReplyStreamClosed> {
        self.tx
            .send(ReplyEvent::sentence(filler_sentence(self.lang), self.lang))
            .await
    }

    fn answered(&self) -> bool {
        self.answer_sentences > 0
    }
}

async fn send_all(tx: &ReplySender, events: Vec<ReplyEvent>) {
    for event in events {
        if tx.send(event).await.is_err() {
            return;
        }
    }
}

/// What is said when the model gave no answer: not sure (recorded as unmatched) or a transfer.
fn fallback_events(
    config: &LlmConfig,
    request: &DialogueRequest,
    best: Option<&Hit>,
) -> Vec<ReplyEvent> {
    let lang = request.lang;
    match config.on_timeout {
        LlmFallback::NotSure => vec![
            ReplyEvent::NoMatch {
                best_faq_id: best.map(|h| h.faq_id.clone()),
                best_score: best.map_or(0.0, |h| h.score),
            },
            ReplyEvent::sentence(not_sure_sentence(lang), lang),
        ],
        LlmFallback::Transfer => vec![
            ReplyEvent::sentence(transfer_sentence(lang), lang),
            ReplyEvent::Action(DialogueAction::Transfer {
                reason: TransferReason::EngineDecided("the LLM did not answer in time".to_string()),
                summary: format!("Caller asked: {}", request.transcript),
            }),
        ],
    }
}
