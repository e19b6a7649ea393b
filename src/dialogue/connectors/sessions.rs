//! Which conversation a request belongs to, for external bots that keep their own per-caller
//! state (Rasa's tracker per `sender`, one relay WebSocket per call).
//!
//! A [`DialogueRequest`] carries no call id, but its history holds the caller's earlier
//! utterances exactly as they were sent. So the id handed out for a turn is stored under the
//! caller's utterances up to and including it, and the next turn of the same call (whose
//! history ends with those utterances) finds it again. Two calls whose callers said exactly
//! the same things share an id until they differ; a call id on the request would remove
//! that limit.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::dialogue::request::{DialogueRequest, Speaker};

/// Conversations idle longer than this are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(2 * 3600);

/// Hands out and finds again per-conversation ids.
#[derive(Debug)]
pub struct ConversationIds {
    prefix: String,
    next: AtomicU64,
    known: Mutex<HashMap<u64, (String, Instant)>>,
}

impl ConversationIds {
    /// Ids look like `{prefix}-{start time}-{n}` (unique across restarts).
    pub fn new(prefix: &str) -> Self {
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self {
            prefix: format!("{prefix}-{started:x}"),
            next: AtomicU64::new(1),
            known: Mutex::new(HashMap::new()),
        }
    }

    /// The id of the conversation `request` continues (a new one for a first turn), and
    /// whether it is new.
    pub fn id_for(&self, request: &DialogueRequest) -> (String, bool) {
        let mut callers: Vec<&str> = request
            .history
            .iter()
            .filter(|t| t.speaker == Speaker::Caller)
            .map(|t| t.text.as_str())
            .collect();
        let now = Instant::now();
        let Ok(mut known) = self.known.lock() else {
            return (self.fresh(), true);
        };
        let found = if callers.is_empty() {
            None
        } else {
            known.get(&fingerprint(&callers)).map(|(id, _)| id.clone())
        };
        let is_new = found.is_none();
        let id = found.unwrap_or_else(|| self.fresh());
        callers.push(&request.transcript);
        known.insert(fingerprint(&callers), (id.clone(), now));
        if known.len() > 1024 {
            known.retain(|_, (_, seen)| now.duration_since(*seen) < FORGET_AFTER);
        }
        (id, is_new)
    }

    fn fresh(&self) -> String {
        format!(
            "{}-{}",
            self.prefix,
            self.next.fetch_add(1, Ordering::Relaxed)
        )
    }
}

fn fingerprint(utterances: &[&str]) -> u64 {
    let mut hasher = DefaultHasher::new();
    utterances.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::Turn;
    use crate::lang::Lang;

    #[test]
    fn turns_of_one_call_share_an_id_and_calls_differ() {
        let ids = ConversationIds::new("t");
        let (a1, new_a) = ids.id_for(&DialogueRequest::new("查订单", Lang::Zh));
        let (b1, new_b) = ids.id_for(&DialogueRequest::new("opening hours?", Lang::En));
        assert!(new_a && new_b && a1 != b1);
        let a2 = ids.id_for(
            &DialogueRequest::new("20241122000123", Lang::Zh).with_history(vec![
                Turn::caller("查订单", Lang::Zh),
                Turn::bot_interrupted("请告诉我", Lang::Zh),
            ]),
        );
        assert_eq!(a2, (a1.clone(), false));
        let a3 = ids.id_for(&DialogueRequest::new("谢谢", Lang::Zh).with_history(vec![
            Turn::caller("查订单", Lang::Zh),
            Turn::bot("请告诉我订单号。", Lang::Zh),
            Turn::caller("20241122000123", Lang::Zh),
            Turn::bot("已发货。", Lang::Zh),
        ]));
        assert_eq!(a3, (a1, false));
    }
}
