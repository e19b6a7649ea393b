//! Settings of the LLM engine (`[dialogue.llm]`) and of the company APIs it may call as tools
//! (`[[dialogue.tools]]`).

use serde::{Deserialize, Serialize};

/// `[dialogue.llm]`: an OpenAI-compatible chat-completions server (OpenAI, DeepSeek, Qwen
/// compatible mode, Ollama, vLLM, llama.cpp server).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    /// API root up to and including the version, e.g. `https://api.deepseek.com/v1` or
    /// `http://127.0.0.1:11434/v1` (Ollama); `/chat/completions` is appended.
    pub base_url: String,
    pub model: String,
    /// Name of the environment variable holding the API key (sent as `Bearer`). Empty: no
    /// key (local servers). The key itself never appears in configuration files or logs.
    pub api_key_env: String,
    pub temperature: f32,
    pub max_tokens: u32,
    /// FAQ passages (best retrieval hits) put in the system prompt.
    pub passages: usize,
    /// Earlier turns of the call sent with each request (most recent kept).
    pub history_turns: usize,
    /// Without a first word from the model after this long, a short filler ("let me check")
    /// is spoken, once.
    pub first_token_timeout_ms: u64,
    /// The whole answer must be done by then; otherwise `on_timeout` decides what is said.
    pub total_timeout_ms: u64,
    /// What happens when the model fails or times out before saying anything.
    pub on_timeout: LlmFallback,
    /// Company-specific instructions added to the system prompt (name, tone, scope).
    pub instructions: String,
    /// Most tool-call rounds per answer (a model looping on tools is cut off).
    pub max_tool_rounds: usize,
    /// Stream also when tools are declared. Turn off for servers that drop streamed tool
    /// calls (some Ollama versions): requests with tools are then sent with `stream: false`.
    pub stream_with_tools: bool,
    /// Ask for the final usage chunk (`stream_options.include_usage`), logged at debug level.
    pub include_usage: bool,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            base_url: "http://127.0.0.1:11434/v1".to_string(),
            model: "qwen2.5:7b-instruct".to_string(),
            api_key_env: String::new(),
            temperature: 0.3,
            max_tokens: 300,
            passages: 3,
            history_turns: 12,
            first_token_timeout_ms: 1200,
            total_timeout_ms: 12_000,
            on_timeout: LlmFallback::NotSure,
            instructions: String::new(),
            max_tool_rounds: 3,
            stream_with_tools: true,
            include_usage: false,
        }
    }
}

/// What the caller hears when the model cannot answer in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LlmFallback {
    /// The FAQ engine's "not sure, I can transfer you" sentence.
    NotSure,
    /// Hand the caller to a human right away.
    Transfer,
}

/// One `[[dialogue.tools]]` entry: a company HTTP API the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ToolConfig {
    /// Function name the model uses (`order_status`).
    pub name: String,
    /// What it does and when to use it, for the model.
    pub description: String,
    /// JSON schema of the arguments: a JSON string or a TOML table.
    pub parameters: serde_json::Value,
    /// Endpoint; `{arg}` placeholders are filled from the arguments
    /// (`https://erp.example.com/api/orders/{order_id}`).
    pub url: String,
    /// GET sends the remaining arguments as query parameters, POST as a JSON body.
    pub method: ToolMethod,
    /// Name of the environment variable holding the `Authorization` header value. Empty: none.
    pub auth_header_env: String,
    pub timeout_ms: u64,
}

impl Default for ToolConfig {
    fn default() -> Self {
        Self {
            name: String::new(),
            description: String::new(),
            parameters: serde_json::json!({"type": "object", "properties": {}}),
            url: String::new(),
            method: ToolMethod::Get,
            auth_header_env: String::new(),
            timeout_ms: 3000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ToolMethod {
    #[serde(alias = "get")]
    Get,
    #[serde(alias = "post")]
    Post,
}
