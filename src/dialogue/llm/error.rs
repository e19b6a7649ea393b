//! Why one LLM answer failed. The engine logs it and falls back (not-sure sentence or
//! transfer); the caller never hears it.

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error(
        "cannot reach the LLM at {url}: {detail}; check [dialogue.llm] base_url and that the server is running"
    )]
    Connect { url: String, detail: String },

    #[error("the LLM at {url} answered HTTP {status}: {body}; {hint}")]
    Status {
        url: String,
        status: u16,
        body: String,
        hint: &'static str,
    },

    #[error("the LLM response from {url} broke off: {detail}; check the server's logs")]
    Read { url: String, detail: String },

    #[error(
        "the LLM response is not chat-completions JSON ({detail}); check that base_url points at an OpenAI-compatible /v1"
    )]
    Malformed { detail: String },

    #[error(
        "the LLM reported an error in its stream: {0}; check the model name and the server's limits"
    )]
    InStream(String),

    #[error(
        "the LLM kept calling tools for {0} rounds without answering; raise [dialogue.llm] max_tool_rounds or make the tool descriptions clearer"
    )]
    TooManyToolRounds(usize),
}

/// What to check for an HTTP status from the LLM server.
pub fn status_hint(status: u16, api_key_env: &str) -> &'static str {
    match status {
        401 | 403 if api_key_env.is_empty() => {
            "the server wants an API key: set [dialogue.llm] api_key_env to the variable that holds it"
        }
        401 | 403 => {
            "the API key was refused: check the key in the variable named by [dialogue.llm] api_key_env"
        }
        404 => "check [dialogue.llm] base_url (it should end in /v1) and model",
        400 | 422 => {
            "the server rejected the request: check model, max_tokens and the tools' parameter schemas"
        }
        429 => "rate limited: lower the call volume or raise the account's limits",
        _ => "the server failed: check its logs",
    }
}
