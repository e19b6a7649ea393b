//! Why the configured dialogue engine could not be built: which setting, and how to fix it.

use super::faq_error::FaqError;

#[derive(Debug, thiserror::Error)]
pub enum EngineLoadError {
    #[error(transparent)]
    Faq(#[from] FaqError),

    #[error(
        "environment variable {var} (named by {setting}) is not set: export it with the secret, or set {setting} = \"\" if the server needs none"
    )]
    MissingSecret { var: String, setting: String },

    #[error("{setting} = {value:?} is not a usable URL ({detail}); write it like {example}")]
    BadUrl {
        setting: String,
        value: String,
        detail: String,
        example: &'static str,
    },

    #[error(
        "[[dialogue.tools]] entry `{tool}`: {problem}; each tool needs a name, a description, a url and a JSON-schema object as parameters (a JSON string or a TOML table)"
    )]
    BadTool { tool: String, problem: String },

    #[error(
        "cannot build the HTTP client: {0}; this is a TLS/platform problem, rebuild with reqwest's rustls-tls feature"
    )]
    HttpClient(String),

    #[error(
        "embedding the FAQ failed: {0}; set [dialogue] embedding_model = \"none\" to match by words only"
    )]
    Embedding(String),
}
