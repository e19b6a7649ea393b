//! The models directory as the engine sees it: where each model's files live, whether they are
//! present and verified (`list`, cheap, from stamps; `verify`, full re-hash), and the entry point
//! for fetching (see `fetch.rs`). Files are stored flat: `<dir>/<file name>`.

use std::path::{Path, PathBuf};

use crate::digest::{Digest, hash_file};
use crate::download::DownloadLimits;
use crate::manifest::{Manifest, ManifestError, ModelEntry, ModelGroup};
use crate::stamp::{fresh_stamp, remove_stamp, write_stamp};

/// Environment variable that overrides the models directory.
pub const MODELS_DIR_ENV: &str = "HOTLINE_MODELS_DIR";

/// A models directory plus the manifest describing it.
pub struct ModelStore {
    pub(crate) dir: PathBuf,
    pub(crate) manifest: Manifest,
    pub(crate) limits: DownloadLimits,
}

/// Errors of store look-ups.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unknown model `{id}`; known models: {known}")]
    UnknownModel { id: String, known: String },
    #[error("model `{id}` has no file `{name}`; its files: {files}")]
    UnknownFile {
        id: String,
        name: String,
        files: String,
    },
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

/// State of one file on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// Not on disk.
    Missing,
    /// On disk but not checked since it last changed (`list` does not hash; run `verify`).
    Unchecked { size: u64 },
    /// Matched a manifest digest.
    Verified {
        digest: String,
        source: Option<String>,
    },
    /// On disk but matches no digest the manifest accepts.
    Mismatch { size: u64, sha256: String },
    /// On disk; the manifest knows no digest for it (reason given there).
    Unverifiable { reason: String },
}

/// One file of a model and its state.
#[derive(Debug, Clone)]
pub struct FileStatus {
    pub name: String,
    pub path: PathBuf,
    pub state: FileState,
}

/// A model and the state of its files.
#[derive(Debug, Clone)]
pub struct ModelStatus {
    pub id: String,
    pub purpose: String,
    pub group: ModelGroup,
    pub required: bool,
    pub files: Vec<FileStatus>,
}

impl ModelStatus {
    /// Every file present and verified.
    pub fn is_verified(&self) -> bool {
        self.files
            .iter()
            .all(|f| matches!(f.state, FileState::Verified { .. }))
    }

    /// Every file on disk (verified or not).
    pub fn is_present(&self) -> bool {
        self.files.iter().all(|f| f.state != FileState::Missing)
    }
}

impl ModelStore {
    /// A store over `dir` using the embedded manifest.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, ManifestError> {
        Ok(Self::with_manifest(dir, Manifest::embedded()?))
    }

    /// A store over `dir` using `manifest`.
    pub fn with_manifest(dir: impl Into<PathBuf>, manifest: Manifest) -> Self {
        Self {
            dir: dir.into(),
            manifest,
            limits: DownloadLimits::default(),
        }
    }

    /// Replaces the connect/stall timeouts used by `fetch`.
    pub fn with_download_limits(mut self, limits: DownloadLimits) -> Self {
        self.limits = limits;
        self
    }

    /// `$HOTLINE_MODELS_DIR`, else this crate's directory in the source tree (`models/`).
    pub fn default_dir() -> PathBuf {
        match std::env::var_os(MODELS_DIR_ENV) {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The manifest entry of `id`.
    pub fn model(&self, id: &str) -> Result<&ModelEntry, StoreError> {
        self.manifest
            .model(id)
            .ok_or_else(|| StoreError::UnknownModel {
                id: id.to_string(),
                known: self
                    .manifest
                    .models
                    .iter()
                    .map(|m| m.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Path of the model's main file (whether or not it exists).
    pub fn path(&self, id: &str) -> Result<PathBuf, StoreError> {
        Ok(self.dir.join(&self.model(id)?.main_file().name))
    }

    /// Path of a named file of the model (whether or not it exists).
    pub fn file_path(&self, id: &str, name: &str) -> Result<PathBuf, StoreError> {
        let model = self.model(id)?;
        match model.file(name) {
            Some(file) => Ok(self.dir.join(&file.name)),
            None => Err(StoreError::UnknownFile {
                id: id.to_string(),
                name: name.to_string(),
                files: model
                    .files
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// Ids fetched by a plain `fetch`.
    pub fn default_ids(&self) -> Vec<&str> {
        self.manifest.default_ids()
    }

    /// Ids of a group.
    pub fn ids_in_group(&self, group: ModelGroup) -> Vec<&str> {
        self.manifest.ids_in_group(group)
    }

    /// All models with the state of their files, from stamps only (no hashing).
    pub fn list(&self) -> Vec<ModelStatus> {
        self.manifest
            .models
            .iter()
            .map(|model| self.status(model, false))
            .collect()
    }

    /// Re-hashes the files of `ids` (all models when empty), refreshing stamps.
    pub fn verify(&self, ids: &[&str]) -> Result<Vec<ModelStatus>, StoreError> {
        let models: Vec<&ModelEntry> = if ids.is_empty() {
            self.manifest.models.iter().collect()
        } else {
            ids.iter()
                .map(|id| self.model(id))
                .collect::<Result<_, _>>()?
        };
        Ok(models.into_iter().map(|m| self.status(m, true)).collect())
    }

    fn status(&self, model: &ModelEntry, rehash: bool) -> ModelStatus {
        ModelStatus {
            id: model.id.clone(),
            purpose: model.purpose.clone(),
            group: model.group,
            required: model.required,
            files: model
                .files
                .iter()
                .map(|file| FileStatus {
                    name: file.name.clone(),
                    path: self.dir.join(&file.name),
                    state: self.file_state(model, &file.name, rehash),
                })
                .collect(),
        }
    }

    /// State of one file; with `rehash` (or no fresh stamp when `rehash_if_stale`) it is hashed.
    pub(crate) fn file_state(&self, model: &ModelEntry, name: &str, rehash: bool) -> FileState {
        let path = self.dir.join(name);
        let Ok(meta) = std::fs::metadata(&path) else {
            return FileState::Missing;
        };
        let accepted = model.accepted_digests(name);
        if accepted.is_empty() {
            let reason = model
                .sources
                .iter()
                .filter_map(|s| s.yields.get(name)?.unverifiable.clone())
                .next()
                .unwrap_or_else(|| "no digest known".to_string());
            return FileState::Unverifiable { reason };
        }
        if !rehash {
            if let Some(stamp) = fresh_stamp(&self.dir, name)
                && accepted.iter().any(|(_, d)| d.to_string() == stamp.digest)
            {
                return FileState::Verified {
                    digest: stamp.digest,
                    source: stamp.source,
                };
            }
            return FileState::Unchecked { size: meta.len() };
        }
        let previous_source = fresh_stamp(&self.dir, name).and_then(|s| s.source);
        let digests: Vec<&Digest> = accepted.iter().map(|(_, d)| *d).collect();
        let computed = match hash_file(&path, digests.iter().copied()) {
            Ok(computed) => computed,
            Err(_) => return FileState::Unchecked { size: meta.len() },
        };
        let matched = accepted
            .iter()
            .find(|(size, d)| *size == computed.size && computed.matches(d));
        match matched {
            Some((_, digest)) => {
                let digest = digest.to_string();
                let _ = write_stamp(&self.dir, name, &digest, previous_source.as_deref());
                FileState::Verified {
                    digest,
                    source: previous_source,
                }
            }
            None => {
                remove_stamp(&self.dir, name);
                FileState::Mismatch {
                    size: computed.size,
                    sha256: computed.sha256,
                }
            }
        }
    }
}
