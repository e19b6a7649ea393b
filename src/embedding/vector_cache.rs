//! FAQ vectors kept on disk by content hash, so a restart or a reload of the same FAQ does not
//! embed every phrasing again (≈ 20 ms each). A changed FAQ, kind or model gives another hash;
//! a damaged file is ignored and rewritten.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::embedder::Embedder;
use super::embedding_error::{EmbeddingError, TextKind};

const MAGIC: &[u8; 4] = b"HLV1";

/// A folder of vector files, one per distinct (model, kind, texts).
#[derive(Debug, Clone)]
pub struct VectorCache {
    dir: PathBuf,
}

impl VectorCache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The file that holds the vectors of `texts`.
    pub fn path_for(&self, model: &str, kind: TextKind, texts: &[String]) -> PathBuf {
        let mut hash = Sha256::new();
        hash.update(model.as_bytes());
        hash.update([0, kind as u8]);
        for text in texts {
            hash.update(text.as_bytes());
            hash.update([0]);
        }
        let digest = hash.finalize();
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{hex}.vec"))
    }

    /// The stored vectors, when the file exists and holds `count` vectors of `dim`.
    pub fn read(path: &Path, count: usize, dim: usize) -> Option<Vec<Vec<f32>>> {
        let bytes = std::fs::read(path).ok()?;
        let header = 12;
        if bytes.len() != header + count * dim * 4 || &bytes[..4] != MAGIC {
            return None;
        }
        let stored_dim = u32::from_le_bytes(bytes[4..8].try_into().ok()?) as usize;
        let stored_count = u32::from_le_bytes(bytes[8..12].try_into().ok()?) as usize;
        if stored_dim != dim || stored_count != count {
            return None;
        }
        let values: Vec<f32> = bytes[header..]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Some(values.chunks(dim).map(<[f32]>::to_vec).collect())
    }

    /// Stores vectors (written to a temporary file, then renamed: a reader never sees half).
    pub fn write(path: &Path, vectors: &[Vec<f32>], dim: usize) -> std::io::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut bytes = Vec::with_capacity(12 + vectors.len() * dim * 4);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&(dim as u32).to_le_bytes());
        bytes.extend_from_slice(&(vectors.len() as u32).to_le_bytes());
        for vector in vectors {
            for value in vector {
                bytes.extend_from_slice(&value.to_le_bytes());
            }
        }
        let partial = path.with_extension("vec.partial");
        let mut file = std::fs::File::create(&partial)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        std::fs::rename(partial, path)
    }
}

/// Embeds `texts` as `kind`, reading them from / keeping them in `cache`.
pub fn embed_cached(
    embedder: &Embedder,
    texts: &[String],
    kind: TextKind,
    cache: Option<&VectorCache>,
) -> Result<Vec<Vec<f32>>, EmbeddingError> {
    let dim = embedder.dim();
    let path = cache.map(|c| c.path_for(embedder.model(), kind, texts));
    let stored = path
        .as_ref()
        .and_then(|p| VectorCache::read(p, texts.len(), dim));
    let vectors = match stored {
        Some(vectors) => vectors,
        None => {
            let started = std::time::Instant::now();
            let vectors = embedder.embed_all_blocking(texts, kind)?;
            tracing::info!(
                texts = texts.len(),
                ?kind,
                ms = started.elapsed().as_millis() as u64,
                "FAQ texts embedded"
            );
            if let Some(path) = &path
                && let Err(e) = VectorCache::write(path, &vectors, dim)
            {
                tracing::warn!(path = %path.display(), error = %e, "cannot keep FAQ embeddings on disk; they will be computed again at the next start");
            }
            vectors
        }
    };
    Ok(vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_and_a_damaged_file_is_ignored() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let cache = VectorCache::new(dir.path());
        let texts = vec!["运费多少".to_string(), "how much is shipping".to_string()];
        let path = cache.path_for("m", TextKind::Query, &texts);
        assert_ne!(path, cache.path_for("m", TextKind::Passage, &texts));
        assert_ne!(path, cache.path_for("other", TextKind::Query, &texts));
        let vectors = vec![vec![0.5, -0.25, 1.0], vec![0.0, 2.0, -1.5]];
        VectorCache::write(&path, &vectors, 3).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(VectorCache::read(&path, 2, 3), Some(vectors));
        assert_eq!(VectorCache::read(&path, 3, 3), None, "wrong count");
        let mut bytes = std::fs::read(&path).unwrap_or_default();
        bytes.truncate(bytes.len() - 1);
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(VectorCache::read(&path, 2, 3), None, "truncated");
    }
}
