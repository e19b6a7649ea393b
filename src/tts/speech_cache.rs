//! `SpeechCache`: synthesized sentences kept for reuse. A contact center's bot says the same
//! sentences all day (greeting, FAQ answers, transfer notices); synthesizing them again costs
//! 30-400 ms before the first frame each time (Piper more than espeak-ng). Sentences are keyed
//! by language and exact text, bounded by a byte budget, least recently used out first.
//! A few sentences are pinned outside the budget (the holding phrase and the apology a call
//! says when a part is slow or fails: they must be there when the voice is what broke).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::lang::Lang;

/// A bounded, shared map from (language, sentence) to its 16 kHz samples.
#[derive(Debug)]
pub struct SpeechCache {
    budget_bytes: usize,
    entries: Mutex<Entries>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// A kept sentence: its samples and when it was last used (the cache's own clock).
type Kept = (Arc<[i16]>, u64);

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<(Lang, String), Kept>,
    /// Never evicted, not counted in the budget.
    pinned: HashMap<(Lang, String), Arc<[i16]>>,
    bytes: usize,
    clock: u64,
}

impl SpeechCache {
    /// A cache holding at most `budget_bytes` of samples (0: keeps nothing).
    pub fn new(budget_bytes: usize) -> Self {
        Self {
            budget_bytes,
            entries: Mutex::new(Entries::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The samples of `text` in `lang`, if kept (counts a hit or a miss).
    pub fn get(&self, lang: Lang, text: &str) -> Option<Arc<[i16]>> {
        let mut entries = self.lock();
        if let Some(samples) = entries.pinned.get(&(lang, text.to_string())) {
            let samples = Arc::clone(samples);
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Some(samples);
        }
        entries.clock += 1;
        let now = entries.clock;
        let found = entries
            .map
            .get_mut(&(lang, text.to_string()))
            .map(|(samples, used)| {
                *used = now;
                Arc::clone(samples)
            });
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Keep `samples` as the speech of `text` in `lang`, evicting the least recently used
    /// sentences beyond the budget. A sentence larger than the whole budget is not kept.
    pub fn put(&self, lang: Lang, text: &str, samples: Arc<[i16]>) {
        let size = samples.len() * 2;
        if size == 0 || size > self.budget_bytes {
            return;
        }
        let mut entries = self.lock();
        entries.clock += 1;
        let now = entries.clock;
        if let Some((old, _)) = entries.map.insert((lang, text.to_string()), (samples, now)) {
            entries.bytes -= old.len() * 2;
        }
        entries.bytes += size;
        while entries.bytes > self.budget_bytes {
            let Some(oldest) = entries
                .map
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(key, _)| key.clone())
            else {
                break;
            };
            if let Some((evicted, _)) = entries.map.remove(&oldest) {
                entries.bytes -= evicted.len() * 2;
            }
        }
    }

    /// Keep `samples` as the speech of `text` in `lang` for good (outside the budget).
    pub fn pin(&self, lang: Lang, text: &str, samples: Arc<[i16]>) {
        if samples.is_empty() {
            return;
        }
        self.lock().pinned.insert((lang, text.to_string()), samples);
    }

    /// Whether `text` in `lang` is pinned.
    pub fn is_pinned(&self, lang: Lang, text: &str) -> bool {
        self.lock().pinned.contains_key(&(lang, text.to_string()))
    }

    /// (hits, misses) since start.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(n: usize) -> Arc<[i16]> {
        Arc::from(vec![1i16; n])
    }

    #[test]
    fn keeps_sentences_per_language_and_counts_hits() {
        let cache = SpeechCache::new(1000);
        cache.put(Lang::Zh, "您好", samples(10));
        assert_eq!(cache.get(Lang::Zh, "您好").map(|s| s.len()), Some(10));
        assert!(cache.get(Lang::Yue, "您好").is_none());
        assert_eq!(cache.counts(), (1, 1));
    }

    #[test]
    fn evicts_the_least_recently_used_beyond_the_budget() {
        let cache = SpeechCache::new(100); // 50 samples
        cache.put(Lang::En, "a", samples(20));
        cache.put(Lang::En, "b", samples(20));
        assert!(cache.get(Lang::En, "a").is_some()); // a is now newer than b
        cache.put(Lang::En, "c", samples(20));
        assert!(cache.get(Lang::En, "b").is_none());
        assert!(cache.get(Lang::En, "a").is_some());
        assert!(cache.get(Lang::En, "c").is_some());
        // Too large for the whole budget: not kept, nothing evicted.
        cache.put(Lang::En, "huge", samples(60));
        assert!(cache.get(Lang::En, "huge").is_none());
        assert!(cache.get(Lang::En, "a").is_some());
    }

    #[test]
    fn a_pinned_sentence_outlives_the_budget() {
        let cache = SpeechCache::new(40); // 20 samples
        cache.pin(Lang::Zh, "抱歉", samples(30));
        cache.put(Lang::Zh, "a", samples(20));
        cache.put(Lang::Zh, "b", samples(20));
        assert!(cache.get(Lang::Zh, "a").is_none());
        assert_eq!(cache.get(Lang::Zh, "抱歉").map(|s| s.len()), Some(30));
        assert!(cache.is_pinned(Lang::Zh, "抱歉"));
    }

    #[test]
    fn a_zero_budget_keeps_nothing() {
        let cache = SpeechCache::new(0);
        cache.put(Lang::En, "a", samples(1));
        assert!(cache.get(Lang::En, "a").is_none());
    }
}
