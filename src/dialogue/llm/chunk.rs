//! The JSON an OpenAI-compatible server sends: one streamed chunk (`choices[].delta`) or a
//! whole non-streamed response (`choices[].message`). Every field is optional because
//! servers differ: a final usage chunk has `choices: []`, vLLM may omit tool-call ids,
//! DeepSeek adds `reasoning_content` (read here only so it can be ignored on purpose).

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct ChatChunk {
    #[serde(default)]
    pub choices: Vec<ChunkChoice>,
    #[serde(default)]
    pub usage: Option<serde_json::Value>,
    /// Some servers report failures inside the stream: `data: {"error": {...}}`.
    #[serde(default)]
    pub error: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ChunkChoice {
    #[serde(default)]
    pub index: Option<u32>,
    /// Streamed responses.
    #[serde(default)]
    pub delta: Option<Delta>,
    /// Non-streamed responses.
    #[serde(default)]
    pub message: Option<Delta>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Delta {
    #[serde(default)]
    pub content: Option<String>,
    /// Chain of thought (DeepSeek-R1, Qwen3): must never reach the caller.
    #[serde(default)]
    pub reasoning_content: Option<String>,
    #[serde(default)]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ToolCallDelta {
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub function: Option<FunctionDelta>,
}

#[derive(Debug, Default, Deserialize)]
pub struct FunctionDelta {
    #[serde(default)]
    pub name: Option<String>,
    /// A fragment of the JSON arguments string (a whole object on some non-streaming servers).
    #[serde(default)]
    pub arguments: Option<serde_json::Value>,
}

impl ChatChunk {
    /// The first choice (the only one asked for); `None` for usage-only chunks.
    pub fn first_choice(&self) -> Option<&ChunkChoice> {
        self.choices
            .iter()
            .find(|c| c.index.unwrap_or(0) == 0)
            .or(self.choices.first())
    }
}

impl ChunkChoice {
    /// The delta of a streamed chunk or the message of a whole response.
    pub fn content_part(&self) -> Option<&Delta> {
        self.delta.as_ref().or(self.message.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_chunks_reasoning_and_missing_fields_parse() {
        let usage: ChatChunk = serde_json::from_str(
            r#"{"id":"x","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":3}}"#,
        )
        .unwrap_or_default();
        assert!(usage.first_choice().is_none());
        assert!(usage.usage.is_some());

        let reasoning: ChatChunk = serde_json::from_str(
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":"Let me think"}}]}"#,
        )
        .unwrap_or_default();
        let delta = reasoning.first_choice().and_then(ChunkChoice::content_part);
        assert_eq!(delta.and_then(|d| d.content.as_deref()), None);
        assert_eq!(
            delta.and_then(|d| d.reasoning_content.as_deref()),
            Some("Let me think")
        );

        let tool: ChatChunk = serde_json::from_str(
            r#"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"{\"a\""}}]},"finish_reason":null}]}"#,
        )
        .unwrap_or_default();
        let calls = tool
            .first_choice()
            .and_then(ChunkChoice::content_part)
            .and_then(|d| d.tool_calls.as_ref())
            .map_or(0, Vec::len);
        assert_eq!(calls, 1);
    }
}
