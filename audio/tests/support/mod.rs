//! What the audio crate's model tests share: where the model files are.

use std::path::PathBuf;

/// `name` in `HOTLINE_MODELS_DIR` (default: the workspace `models/`); fails naming the file
/// and the command that fetches it when it is missing.
pub fn model_file(name: &str) -> PathBuf {
    let dir = std::env::var_os("HOTLINE_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models"));
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "test data missing: {} does not exist. Run `hotline models fetch --test-data` (or set \
         HOTLINE_MODELS_DIR to a directory holding it)",
        path.display()
    );
    path
}
