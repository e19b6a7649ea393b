//! Counting the turns in a row that went without a satisfying answer.
//!
//! Engines are shared between calls and requests carry only the text of earlier turns, not
//! the events they produced, so the policy layer remembers each turn's outcome in an
//! [`UnresolvedLedger`] keyed by a fingerprint of the caller's turns up to it (the same
//! conversation so far gives the same key; the map is bounded). When a turn is not in the
//! ledger (restart, another process), the history is read instead: the bot said it was not
//! sure (the FAQ engine's sentence), or the caller repeated their previous question.
//!
//! A repeat is the caller's previous turn said again: equal after the knowledge base's text
//! folding, or sharing most character pairs (Dice ≥ [`REPEAT_SIMILARITY`]) when ASR wrote it
//! slightly differently.

use std::collections::{HashMap, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

use crate::dialogue::knowledge::engine::not_sure_sentence;
use crate::dialogue::language::match_text::TextAnalyzer;
use crate::lang::Lang;

/// Character-pair overlap from which two turns are the same question.
pub const REPEAT_SIMILARITY: f32 = 0.8;
/// Outcomes remembered; the oldest are forgotten first.
const LEDGER_CAPACITY: usize = 50_000;

/// A fingerprint of a conversation's caller turns (folded), to key their outcomes.
pub fn conversation_key<'a>(
    analyzer: &TextAnalyzer,
    caller_turns: impl IntoIterator<Item = &'a str>,
) -> u64 {
    let mut hasher = DefaultHasher::new();
    for turn in caller_turns {
        comparable(analyzer, turn).hash(&mut hasher);
    }
    hasher.finish()
}

/// True when `current` says `previous` again.
pub fn repeats(analyzer: &TextAnalyzer, current: &str, previous: &str) -> bool {
    let (a, b) = (
        comparable(analyzer, current),
        comparable(analyzer, previous),
    );
    // "好" or "ah" said twice is not a question asked again.
    if a.chars().count() < 2 || b.chars().count() < 2 {
        return false;
    }
    if a == b {
        return true;
    }
    let pairs = |s: &str| -> Vec<(char, char)> {
        let chars: Vec<char> = s.chars().collect();
        chars.windows(2).map(|w| (w[0], w[1])).collect()
    };
    let (pa, pb) = (pairs(&a), pairs(&b));
    if pa.len() < 3 || pb.len() < 3 {
        return false;
    }
    let mut unmatched = pb.clone();
    let mut shared = 0;
    for pair in &pa {
        if let Some(at) = unmatched.iter().position(|p| p == pair) {
            unmatched.swap_remove(at);
            shared += 1;
        }
    }
    2.0 * shared as f32 / (pa.len() + pb.len()) as f32 >= REPEAT_SIMILARITY
}

/// True when a bot turn is the FAQ engine's "not sure" answer in any language.
pub fn is_not_sure_reply(text: &str) -> bool {
    let text = text.trim();
    !text.is_empty()
        && Lang::ALL.iter().any(|&lang| {
            let sentence = not_sure_sentence(lang);
            let head: String = sentence.chars().take(8).collect();
            text.starts_with(&head) || sentence.starts_with(text)
        })
}

fn comparable(analyzer: &TextAnalyzer, text: &str) -> String {
    analyzer
        .fold(text)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// Remembered turn outcomes: conversation key → the turn was unresolved.
#[derive(Debug, Default)]
pub struct UnresolvedLedger {
    inner: Mutex<LedgerMap>,
}

#[derive(Debug, Default)]
struct LedgerMap {
    outcomes: HashMap<u64, bool>,
    order: VecDeque<u64>,
}

impl UnresolvedLedger {
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers whether the turn ending the conversation `key` went unresolved.
    pub fn record(&self, key: u64, unresolved: bool) {
        let Ok(mut map) = self.inner.lock() else {
            return;
        };
        if map.outcomes.insert(key, unresolved).is_none() {
            map.order.push_back(key);
        }
        while map.order.len() > LEDGER_CAPACITY {
            if let Some(old) = map.order.pop_front() {
                map.outcomes.remove(&old);
            }
        }
    }

    /// The remembered outcome of the turn ending the conversation `key`.
    pub fn get(&self, key: u64) -> Option<bool> {
        self.inner.lock().ok()?.outcomes.get(&key).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyzer() -> std::sync::Arc<TextAnalyzer> {
        TextAnalyzer::shared().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn repeats_across_scripts_punctuation_and_small_asr_changes() {
        let a = analyzer();
        assert!(repeats(&a, "運費點計？", "运费点计"));
        assert!(repeats(&a, "运费怎么算啊", "运费怎么算"));
        assert!(repeats(&a, "How much is shipping?", "how much is shipping"));
        assert!(!repeats(&a, "运费怎么算", "几点开门"));
        assert!(repeats(&a, "運費？", "运费"));
        assert!(!repeats(&a, "好", "好"));
    }

    #[test]
    fn ledger_remembers_and_forgets_the_oldest() {
        let ledger = UnresolvedLedger::new();
        for key in 0..(LEDGER_CAPACITY as u64 + 10) {
            ledger.record(key, key % 2 == 0);
        }
        assert_eq!(ledger.get(0), None);
        assert_eq!(ledger.get(LEDGER_CAPACITY as u64 + 8), Some(true));
        assert_eq!(ledger.get(LEDGER_CAPACITY as u64 + 9), Some(false));
    }

    #[test]
    fn conversation_keys_follow_the_folded_caller_turns() {
        let a = analyzer();
        assert_eq!(
            conversation_key(&a, ["運費點計？"]),
            conversation_key(&a, ["运费点计"])
        );
        assert_ne!(
            conversation_key(&a, ["运费", "几点"]),
            conversation_key(&a, ["几点", "运费"])
        );
    }

    #[test]
    fn not_sure_replies_are_recognised() {
        assert!(is_not_sure_reply(not_sure_sentence(Lang::Yue)));
        assert!(is_not_sure_reply("抱歉，这个问题我不太确定"));
        assert!(!is_not_sure_reply("我们的门店每天上午十点到晚上十点营业。"));
    }
}
