//! The finished recordings' peaks ([`crate::store::recording_peaks`]) kept in memory, so a call
//! opened again draws without reading its file: a bounded least-recently-used set of the
//! JSON the review page gets, each checked against the file's path, length and modification
//! time before it is used. Only finished recordings are put here (the caller decides): one
//! still being written grows, and is read afresh each time.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use bytes::Bytes;

/// Recordings whose peaks are kept: ~60 KB each, so a few MB in all.
pub const PEAKS_CACHED: usize = 128;

/// Which file the peaks were read from, as it was then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStamp {
    pub path: PathBuf,
    pub len: u64,
    pub modified: Option<SystemTime>,
}

impl FileStamp {
    /// The stamp of the open file `file` found at `path`.
    pub fn of(path: &Path, file: &std::fs::File) -> std::io::Result<Self> {
        let meta = file.metadata()?;
        Ok(Self {
            path: path.to_path_buf(),
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

#[derive(Debug)]
struct Entry {
    call: i64,
    stamp: FileStamp,
    json: Bytes,
    last_used: u64,
}

#[derive(Debug, Default)]
struct Entries {
    list: Vec<Entry>,
    clock: u64,
}

/// Peaks JSON by call id, at most `capacity` of them.
#[derive(Debug)]
pub struct PeaksCache {
    entries: Mutex<Entries>,
    capacity: usize,
}

impl Default for PeaksCache {
    fn default() -> Self {
        Self::new(PEAKS_CACHED)
    }
}

impl PeaksCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(Entries::default()),
            capacity,
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        // Nothing here can be left half-changed by a panic: the data is fine.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Call `call`'s peaks, if kept and read from the file `stamp` describes.
    pub fn get(&self, call: i64, stamp: &FileStamp) -> Option<Bytes> {
        let mut entries = self.entries();
        entries.clock += 1;
        let now = entries.clock;
        let entry = entries
            .list
            .iter_mut()
            .find(|e| e.call == call && e.stamp == *stamp)?;
        entry.last_used = now;
        Some(entry.json.clone())
    }

    /// Keeps call `call`'s peaks (replacing older ones), dropping the least recently used
    /// recording's when full.
    pub fn put(&self, call: i64, stamp: FileStamp, json: Bytes) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries();
        entries.clock += 1;
        let last_used = entries.clock;
        entries.list.retain(|e| e.call != call);
        if entries.list.len() >= self.capacity
            && let Some(oldest) = entries
                .list
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(i, _)| i)
        {
            entries.list.swap_remove(oldest);
        }
        entries.list.push(Entry {
            call,
            stamp,
            json,
            last_used,
        });
    }

    /// Recordings kept now.
    pub fn len(&self) -> usize {
        self.entries().list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(name: &str, len: u64) -> FileStamp {
        FileStamp {
            path: PathBuf::from(name),
            len,
            modified: None,
        }
    }

    #[test]
    fn peaks_are_used_only_for_the_file_they_were_read_from() {
        let cache = PeaksCache::new(4);
        cache.put(1, stamp("a.wav", 100), Bytes::from_static(b"[1]"));
        assert_eq!(cache.get(1, &stamp("a.wav", 100)).unwrap(), "[1]");
        assert!(
            cache.get(1, &stamp("a.wav", 200)).is_none(),
            "the file grew"
        );
        assert!(cache.get(1, &stamp("b.wav", 100)).is_none(), "another file");
        assert!(cache.get(2, &stamp("a.wav", 100)).is_none(), "another call");
        cache.put(1, stamp("a.wav", 200), Bytes::from_static(b"[2]"));
        assert_eq!(cache.len(), 1, "replaced, not added");
        assert_eq!(cache.get(1, &stamp("a.wav", 200)).unwrap(), "[2]");
    }

    #[test]
    fn the_least_recently_used_recording_goes_first_when_full() {
        let cache = PeaksCache::new(2);
        cache.put(1, stamp("1", 1), Bytes::from_static(b"1"));
        cache.put(2, stamp("2", 1), Bytes::from_static(b"2"));
        assert!(cache.get(1, &stamp("1", 1)).is_some());
        cache.put(3, stamp("3", 1), Bytes::from_static(b"3"));
        assert_eq!(cache.len(), 2);
        assert!(cache.get(2, &stamp("2", 1)).is_none(), "2 was the oldest");
        assert!(cache.get(1, &stamp("1", 1)).is_some());
        assert!(cache.get(3, &stamp("3", 1)).is_some());
        let off = PeaksCache::new(0);
        off.put(1, stamp("1", 1), Bytes::from_static(b"1"));
        assert!(off.is_empty());
    }
}
