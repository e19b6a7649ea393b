//! One request to an OpenAI-compatible `/chat/completions` endpoint, streamed: content
//! fragments are passed on as they arrive (thoughts removed), tool calls are reassembled and
//! returned when the round ends.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::chunk::ChatChunk;
use super::config::LlmConfig;
use super::error::{LlmError, status_hint};
use super::secret_value::SecretValue;
use super::think_filter::ThinkFilter;
use super::tool_calls::{ToolCall, ToolCallAssembler};

/// How a round ended.
#[derive(Debug, PartialEq)]
pub enum RoundEnd {
    /// The model finished its answer.
    Answered,
    /// The model wants these tools run; `text` is what it said before asking.
    ToolCalls { calls: Vec<ToolCall>, text: String },
    /// Whoever reads the content went away (caller barged in, answer timed out).
    Abandoned,
}

/// Talks to one chat-completions endpoint.
#[derive(Debug, Clone)]
pub struct LlmClient {
    http: reqwest::Client,
    endpoint: String,
    api_key: Option<SecretValue>,
    config: LlmConfig,
}

impl LlmClient {
    pub fn new(http: reqwest::Client, config: LlmConfig, api_key: Option<SecretValue>) -> Self {
        let endpoint = format!("{}/chat/completions", config.base_url.trim_end_matches('/'));
        Self {
            http,
            endpoint,
            api_key,
            config,
        }
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Sends `messages` (and `tools`, when any) and forwards the answer's content fragments
    /// to `content` as they arrive.
    pub async fn round(
        &self,
        messages: &[Value],
        tools: &[Value],
        content: &mpsc::Sender<String>,
    ) -> Result<RoundEnd, LlmError> {
        let stream = tools.is_empty() || self.config.stream_with_tools;
        let mut body = json!({
            "model": self.config.model,
            "messages": messages,
            "stream": stream,
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
        });
        if !tools.is_empty() {
            body["tools"] = Value::from(tools.to_vec());
        }
        if stream && self.config.include_usage {
            body["stream_options"] = json!({"include_usage": true});
        }
        let mut request = self.http.post(&self.endpoint).json(&body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key.expose());
        }
        if stream {
            request = request.header(reqwest::header::ACCEPT, "text/event-stream");
        }
        let mut response = request.send().await.map_err(|e| LlmError::Connect {
            url: self.endpoint.clone(),
            detail: error_chain(&e),
        })?;
        let status = response.status();
        if !status.is_success() {
            let body = tokio::time::timeout(Duration::from_secs(2), response.text())
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            return Err(LlmError::Status {
                url: self.endpoint.clone(),
                status: status.as_u16(),
                body: body.chars().take(300).collect(),
                hint: status_hint(status.as_u16(), &self.config.api_key_env),
            });
        }
        let mut round = RoundReader::default();
        if !stream {
            let text = response.text().await.map_err(|e| self.read_error(&e))?;
            let chunk: ChatChunk =
                serde_json::from_str(&text).map_err(|e| LlmError::Malformed {
                    detail: e.to_string(),
                })?;
            round.chunk(chunk, content).await?;
            return round.finish(content).await;
        }
        let mut sse = super::sse::SseDecoder::new();
        loop {
            let bytes = match response.chunk().await {
                Ok(Some(bytes)) => bytes,
                Ok(None) => break,
                Err(e) => return Err(self.read_error(&e)),
            };
            for data in sse.push(&bytes) {
                if round.event(&data, content).await? {
                    return round.finish(content).await;
                }
            }
            if round.abandoned {
                return Ok(RoundEnd::Abandoned);
            }
        }
        for data in sse.finish() {
            if round.event(&data, content).await? {
                break;
            }
        }
        round.finish(content).await
    }

    fn read_error(&self, e: &reqwest::Error) -> LlmError {
        LlmError::Read {
            url: self.endpoint.clone(),
            detail: error_chain(e),
        }
    }
}

/// The state of one streamed round.
#[derive(Default)]
struct RoundReader {
    think: ThinkFilter,
    tool_calls: ToolCallAssembler,
    text: String,
    abandoned: bool,
    /// Characters of chain of thought received (and dropped), for the debug log.
    reasoning_chars: usize,
    finish_reason: Option<String>,
}

impl RoundReader {
    /// Handles one SSE payload; true at `[DONE]`.
    async fn event(
        &mut self,
        data: &str,
        content: &mpsc::Sender<String>,
    ) -> Result<bool, LlmError> {
        let data = data.trim();
        if data == "[DONE]" {
            return Ok(true);
        }
        if data.is_empty() {
            return Ok(false);
        }
        match serde_json::from_str::<ChatChunk>(data) {
            Ok(chunk) => self.chunk(chunk, content).await?,
            // One garbled chunk is skipped rather than losing the answer.
            Err(e) => {
                tracing::debug!(error = %e, chunk = %data, "unreadable LLM stream chunk skipped")
            }
        }
        Ok(false)
    }

    async fn chunk(
        &mut self,
        chunk: ChatChunk,
        content: &mpsc::Sender<String>,
    ) -> Result<(), LlmError> {
        if let Some(error) = &chunk.error {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .map_or_else(|| error.to_string(), str::to_string);
            return Err(LlmError::InStream(message));
        }
        if let Some(usage) = &chunk.usage {
            tracing::debug!(%usage, "LLM usage");
        }
        if let Some(reason) = chunk.first_choice().and_then(|c| c.finish_reason.clone()) {
            self.finish_reason = Some(reason);
        }
        let Some(part) = chunk.first_choice().and_then(|c| c.content_part()) else {
            return Ok(()); // usage-only chunk (`choices: []`)
        };
        // Chain of thought is counted for the log, never spoken.
        self.reasoning_chars += part
            .reasoning_content
            .as_deref()
            .map_or(0, |r| r.chars().count());
        for delta in part.tool_calls.iter().flatten() {
            self.tool_calls.push(delta);
        }
        if let Some(text) = part.content.as_deref() {
            let speakable = self.think.push(text);
            self.forward(speakable, content).await;
        }
        Ok(())
    }

    async fn forward(&mut self, text: String, content: &mpsc::Sender<String>) {
        if text.is_empty() || self.abandoned {
            return;
        }
        self.text.push_str(&text);
        if content.send(text).await.is_err() {
            self.abandoned = true;
        }
    }

    async fn finish(mut self, content: &mpsc::Sender<String>) -> Result<RoundEnd, LlmError> {
        if self.finish_reason.as_deref() == Some("length") {
            tracing::warn!(
                "the LLM answer was cut at max_tokens; raise [dialogue.llm] max_tokens or ask for shorter answers in instructions"
            );
        }
        if self.reasoning_chars > 0 {
            tracing::debug!(chars = self.reasoning_chars, "LLM reasoning dropped");
        }
        let rest = self.think.finish();
        self.forward(rest, content).await;
        if self.abandoned {
            return Ok(RoundEnd::Abandoned);
        }
        // Some servers end a tool-calling round with finish_reason "stop": the calls decide.
        let calls = self.tool_calls.finish();
        if calls.is_empty() {
            Ok(RoundEnd::Answered)
        } else {
            Ok(RoundEnd::ToolCalls {
                calls,
                text: self.text,
            })
        }
    }
}

/// An error and its causes on one line (reqwest hides the useful part in `source()`).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
