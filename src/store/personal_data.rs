//! `PersonalData`: what the store keeps of personal data, per `[store]`: transcripts redacted
//! by the dialogue's PII scanner (IDs, HKIDs, cards, phones, emails), the caller's number
//! hashed with a key kept in the store (so it cannot be found by hashing every number),
//! masked, or kept; unredacted copies only when `keep_unredacted` asks for them.

use sha2::{Digest, Sha256};

use super::config::{CallerIdPolicy, StoreConfig};
use crate::dialogue::redact_for_storage;

/// The personal-data rules the writer applies before anything is stored.
#[derive(Clone)]
pub struct PersonalData {
    redact_text: bool,
    keep_unredacted: bool,
    caller_id: CallerIdPolicy,
    /// The key of caller hashes (from the store's secrets).
    caller_key: Vec<u8>,
}

impl std::fmt::Debug for PersonalData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonalData")
            .field("redact_text", &self.redact_text)
            .field("keep_unredacted", &self.keep_unredacted)
            .field("caller_id", &self.caller_id)
            .finish_non_exhaustive()
    }
}

impl PersonalData {
    pub fn new(config: &StoreConfig, caller_key: Vec<u8>) -> Self {
        Self {
            redact_text: config.redact_pii,
            keep_unredacted: config.keep_unredacted,
            caller_id: config.caller_id,
            caller_key,
        }
    }

    /// `text` as it may be stored.
    pub fn text(&self, text: &str) -> String {
        redact_for_storage(text, self.redact_text).into_owned()
    }

    /// Whether unredacted copies are kept.
    pub fn keeps_unredacted(&self) -> bool {
        self.keep_unredacted
    }

    /// The caller's number as it may be stored, and the unredacted number when that is kept.
    pub fn caller(&self, caller: Option<&str>) -> (Option<String>, Option<String>) {
        let Some(caller) = caller.map(str::trim).filter(|c| !c.is_empty()) else {
            return (None, None);
        };
        let unredacted = self.keep_unredacted.then(|| caller.to_string());
        let shown = match self.caller_id {
            CallerIdPolicy::Keep => caller.to_string(),
            CallerIdPolicy::Redact => mask_caller(caller),
            CallerIdPolicy::Hash => {
                let mut hasher = Sha256::new();
                hasher.update(&self.caller_key);
                hasher.update(caller.as_bytes());
                let digest = hasher.finalize();
                let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
                format!("hash:{hex}")
            }
        };
        (Some(shown), unredacted)
    }
}

/// Every character but the last four digits masked (`+85291234567` → `********4567`).
pub fn mask_caller(caller: &str) -> String {
    let total_digits = caller.chars().filter(char::is_ascii_digit).count();
    let mut seen_digits = 0;
    caller
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                seen_digits += 1;
                if seen_digits > total_digits.saturating_sub(4) {
                    return c;
                }
            }
            '*'
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(caller_id: CallerIdPolicy, keep_unredacted: bool) -> PersonalData {
        let config = StoreConfig {
            caller_id,
            keep_unredacted,
            ..StoreConfig::default()
        };
        PersonalData::new(&config, b"key".to_vec())
    }

    #[test]
    fn callers_are_hashed_masked_or_kept() {
        let (hashed, original) = rules(CallerIdPolicy::Hash, false).caller(Some("+85291234567"));
        let hashed = hashed.unwrap();
        assert!(
            hashed.starts_with("hash:") && !hashed.contains("1234567"),
            "{hashed}"
        );
        assert_eq!(original, None);
        let other_key = PersonalData::new(&StoreConfig::default(), b"other".to_vec());
        assert_ne!(other_key.caller(Some("+85291234567")).0.unwrap(), hashed);
        assert_eq!(
            rules(CallerIdPolicy::Redact, false)
                .caller(Some("+85291234567"))
                .0,
            Some("********4567".into())
        );
        let (kept, original) = rules(CallerIdPolicy::Keep, true).caller(Some("alice"));
        assert_eq!(
            (kept.as_deref(), original.as_deref()),
            (Some("alice"), Some("alice"))
        );
        assert_eq!(rules(CallerIdPolicy::Keep, true).caller(None), (None, None));
    }

    #[test]
    fn transcripts_are_redacted() {
        let stored = rules(CallerIdPolicy::Hash, false).text("我的电话是 91234567，邮箱 a@b.com");
        assert!(
            !stored.contains("91234567") && !stored.contains("a@b.com"),
            "{stored}"
        );
    }
}
