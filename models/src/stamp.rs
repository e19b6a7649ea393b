//! Verification stamps: after a file's digest has been checked, a small JSON note
//! (`.verified/<file>.stamp`) records its size, modification time and the digest that matched,
//! so later `fetch`/`list` calls can trust an unchanged file without re-hashing hundreds of
//! megabytes. Any change of size or mtime invalidates the stamp.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

/// Directory (inside the models directory) that holds the stamps.
pub const STAMP_DIR: &str = ".verified";

/// What was verified about a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub size: u64,
    pub mtime_ns: u128,
    /// The matching digest, as written in the manifest.
    pub digest: String,
    /// Label of the source that produced the file, when known.
    pub source: Option<String>,
}

fn stamp_path(models_dir: &Path, file_name: &str) -> PathBuf {
    models_dir
        .join(STAMP_DIR)
        .join(format!("{file_name}.stamp"))
}

/// Size and mtime (ns since the epoch) of a file.
pub fn file_identity(path: &Path) -> io::Result<(u64, u128)> {
    let meta = fs::metadata(path)?;
    let mtime = meta
        .modified()?
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Ok((meta.len(), mtime))
}

/// Records that `file_name` (in `models_dir`) matched `digest`.
pub fn write_stamp(
    models_dir: &Path,
    file_name: &str,
    digest: &str,
    source: Option<&str>,
) -> io::Result<Stamp> {
    let (size, mtime_ns) = file_identity(&models_dir.join(file_name))?;
    let stamp = Stamp {
        size,
        mtime_ns,
        digest: digest.to_string(),
        source: source.map(str::to_string),
    };
    let path = stamp_path(models_dir, file_name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let text = serde_json::to_string_pretty(&stamp).map_err(io::Error::other)?;
    let tmp = models_dir
        .join(STAMP_DIR)
        .join(format!("{file_name}.stamp.tmp"));
    fs::write(&tmp, text)?;
    fs::rename(&tmp, &path)?;
    Ok(stamp)
}

/// The stamp of `file_name` if the file still has the stamped size and mtime.
pub fn fresh_stamp(models_dir: &Path, file_name: &str) -> Option<Stamp> {
    let text = fs::read_to_string(stamp_path(models_dir, file_name)).ok()?;
    let stamp: Stamp = serde_json::from_str(&text).ok()?;
    let (size, mtime_ns) = file_identity(&models_dir.join(file_name)).ok()?;
    (stamp.size == size && stamp.mtime_ns == mtime_ns).then_some(stamp)
}

/// Deletes the stamp of `file_name` (missing stamps are fine).
pub fn remove_stamp(models_dir: &Path, file_name: &str) {
    let _ = fs::remove_file(stamp_path(models_dir, file_name));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_is_fresh_until_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("m.bin"), b"abc").unwrap();
        assert!(fresh_stamp(dir.path(), "m.bin").is_none());
        let stamp = write_stamp(dir.path(), "m.bin", "sha256:00", Some("src")).unwrap();
        assert_eq!(fresh_stamp(dir.path(), "m.bin"), Some(stamp));
        fs::write(dir.path().join("m.bin"), b"abcd").unwrap();
        assert!(fresh_stamp(dir.path(), "m.bin").is_none());
        remove_stamp(dir.path(), "m.bin");
        assert!(!stamp_path(dir.path(), "m.bin").exists());
    }
}
