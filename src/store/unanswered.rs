//! Unanswered questions: the caller turns the bot had no confident FAQ answer for (no answer,
//! a "do you mean …?" question, or the turn that ended in a transfer), grouped by how alike
//! they are and counted, most asked first, so a supervisor sees what the FAQ is missing.
//! Closing words ("没有了，谢谢", "bye") and empty turns are not questions and are left out.
//! Grouping is lexical (shared character pairs of the folded text, shared English words),
//! cheap enough to run over a week of calls on every request.

use std::collections::HashSet;

use rusqlite::{Connection, params};
use serde::Serialize;

use super::call_store::StoreError;

/// A turn the bot did not answer confidently.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnansweredTurn {
    pub call_id: i64,
    pub started_at: i64,
    pub lang: String,
    /// As stored (PII-redacted per `[store]`).
    pub caller_text: String,
    /// The call was handed to a human right after this turn.
    pub then_transferred: bool,
}

/// Alike unanswered turns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnansweredGroup {
    /// How many turns the group holds.
    pub count: usize,
    /// The first (newest) turn's words.
    pub example: String,
    /// Up to [`TEXTS_PER_GROUP`] different wordings.
    pub texts: Vec<String>,
    pub languages: Vec<String>,
    /// Up to [`CALLS_PER_GROUP`] calls it was asked in, newest first.
    pub calls: Vec<i64>,
    /// Turns of the group after which the caller was handed to a human.
    pub transfers: usize,
}

pub const TEXTS_PER_GROUP: usize = 5;
pub const CALLS_PER_GROUP: usize = 20;
/// Two turns sharing this share of the smaller one's content (character pairs or words) are
/// one question.
const SAME_QUESTION: f32 = 0.5;
/// Characters of asking rather than of the subject (你们/可以/请问/怎么/吗 …): a character pair
/// made only of these says nothing about what is asked.
const FUNCTION_CHARS: &str = "你您们我他她它的了吗呢吧啊呀嘛可以请问想要会能不没有是这那哪里怎么什么时候多少一下个在和就还也都";
/// English words that say nothing about what is asked.
const STOP_WORDS: &[&str] = &[
    "a", "an", "the", "i", "you", "we", "my", "your", "me", "it", "is", "are", "am", "do", "does",
    "can", "could", "would", "will", "to", "of", "for", "in", "on", "at", "and", "or", "what",
    "how", "when", "where", "which", "have", "has", "there", "please", "hi", "hello", "want",
    "like", "just", "about", "if", "be", "get",
];

/// The unanswered turns of calls started at or after `since` (unix ms), newest first.
pub(super) fn unanswered_turns(
    connection: &Connection,
    since: i64,
    limit: usize,
) -> Result<Vec<UnansweredTurn>, StoreError> {
    let mut statement = connection.prepare_cached(
        "SELECT t.call_id, c.started_at, t.lang, t.caller_text, \
                (c.outcome = 'transferred' AND t.turn_index = c.turn_count) \
         FROM turns t JOIN calls c ON c.id = t.call_id \
         WHERE c.started_at >= ?1 AND t.caller_text != '' \
           AND (t.faq_id IS NULL OR (c.outcome = 'transferred' AND t.turn_index = c.turn_count)) \
         ORDER BY c.started_at DESC, t.turn_index DESC LIMIT ?2",
    )?;
    let turns = statement
        .query_map(params![since, limit.clamp(1, 100_000) as i64], |row| {
            Ok(UnansweredTurn {
                call_id: row.get(0)?,
                started_at: row.get(1)?,
                lang: row.get(2)?,
                caller_text: row.get(3)?,
                then_transferred: row.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(turns)
}

/// Groups `turns` (newest first) by likeness; `fold` maps text to the form compared
/// (Traditional/Cantonese folded to Simplified). Largest groups first.
pub fn group_unanswered(
    turns: &[UnansweredTurn],
    fold: impl Fn(&str) -> String,
) -> Vec<UnansweredGroup> {
    let mut groups: Vec<(HashSet<String>, UnansweredGroup)> = Vec::new();
    for turn in turns {
        if crate::dialogue::is_closing(&turn.caller_text) {
            continue;
        }
        let features = features(&fold(&turn.caller_text));
        if features.is_empty() {
            continue;
        }
        let home = groups
            .iter()
            .position(|(seed, _)| overlap(seed, &features) >= SAME_QUESTION);
        let group = match home {
            Some(i) => &mut groups[i].1,
            None => {
                groups.push((
                    features,
                    UnansweredGroup {
                        count: 0,
                        example: turn.caller_text.clone(),
                        texts: Vec::new(),
                        languages: Vec::new(),
                        calls: Vec::new(),
                        transfers: 0,
                    },
                ));
                let last = groups.len() - 1;
                &mut groups[last].1
            }
        };
        group.count += 1;
        group.transfers += usize::from(turn.then_transferred);
        if group.texts.len() < TEXTS_PER_GROUP && !group.texts.contains(&turn.caller_text) {
            group.texts.push(turn.caller_text.clone());
        }
        if !group.languages.contains(&turn.lang) {
            group.languages.push(turn.lang.clone());
        }
        if group.calls.len() < CALLS_PER_GROUP && !group.calls.contains(&turn.call_id) {
            group.calls.push(turn.call_id);
        }
    }
    let mut groups: Vec<UnansweredGroup> = groups.into_iter().map(|(_, g)| g).collect();
    groups.sort_by_key(|g| std::cmp::Reverse(g.count));
    groups
}

/// Character pairs of the Chinese runs and lower-cased words of the rest.
fn features(text: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut han: Vec<char> = Vec::new();
    let mut word = String::new();
    let flush_han = |han: &mut Vec<char>, out: &mut HashSet<String>| {
        match han.len() {
            0 => {}
            1 if !FUNCTION_CHARS.contains(han[0]) => {
                out.insert(han[0].to_string());
            }
            1 => {}
            _ => {
                for pair in han.windows(2) {
                    if !pair.iter().all(|c| FUNCTION_CHARS.contains(*c)) {
                        out.insert(pair.iter().collect());
                    }
                }
            }
        }
        han.clear();
    };
    for c in text.chars() {
        if crate::lang::is_han(c) {
            keep_word(&mut word, &mut out);
            han.push(c);
        } else {
            flush_han(&mut han, &mut out);
            if c.is_alphanumeric() {
                word.extend(c.to_lowercase());
            } else {
                keep_word(&mut word, &mut out);
            }
        }
    }
    flush_han(&mut han, &mut out);
    keep_word(&mut word, &mut out);
    out
}

/// Moves a finished English word into `out` unless it is a stop word.
fn keep_word(word: &mut String, out: &mut HashSet<String>) {
    let taken = std::mem::take(word);
    if !taken.is_empty() && !STOP_WORDS.contains(&taken.as_str()) {
        out.insert(taken);
    }
}

/// Shared features over the smaller set's size (the overlap coefficient).
fn overlap(a: &HashSet<String>, b: &HashSet<String>) -> f32 {
    let smaller = a.len().min(b.len());
    if smaller == 0 {
        0.0
    } else {
        a.intersection(b).count() as f32 / smaller as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(call_id: i64, text: &str, lang: &str, transferred: bool) -> UnansweredTurn {
        UnansweredTurn {
            call_id,
            started_at: 1_000 - call_id,
            lang: lang.into(),
            caller_text: text.into(),
            then_transferred: transferred,
        }
    }

    #[test]
    fn alike_questions_are_counted_together_largest_first() {
        let turns = vec![
            turn(1, "你们可以开发票吗", "zh", false),
            turn(2, "do you ship to taiwan", "en", false),
            turn(3, "可以开发票吗？", "zh", true),
            turn(4, "没有了，谢谢", "zh", false),
            turn(5, "能不能开发票", "zh", false),
            turn(6, "Do you ship to Taiwan?", "en", false),
            turn(7, "", "zh", false),
        ];
        let groups = group_unanswered(&turns, |t| t.to_string());
        assert_eq!(groups.len(), 2, "{groups:#?}");
        assert_eq!(groups[0].count, 3);
        assert_eq!(groups[0].example, "你们可以开发票吗");
        assert_eq!(groups[0].calls, vec![1, 3, 5]);
        assert_eq!(groups[0].transfers, 1);
        assert_eq!(groups[1].count, 2);
        assert_eq!(groups[1].languages, vec!["en".to_string()]);
    }

    #[test]
    fn different_questions_stay_apart() {
        let turns = vec![
            turn(1, "你们可以开发票吗", "zh", false),
            turn(2, "包裹什么时候到", "zh", false),
            turn(3, "can I pay by cheque", "en", false),
            turn(4, "你们可以送货上门吗", "zh", false),
            turn(5, "do you sell gift cards", "en", false),
            turn(6, "do you ship to taiwan", "en", false),
        ];
        assert_eq!(group_unanswered(&turns, |t| t.to_string()).len(), 6);
    }

    #[test]
    fn the_store_returns_turns_without_an_answer_and_the_one_before_a_transfer() {
        use crate::store::{
            CallEnding, CallOutcome, CallStore, NewCall, NewTurn, SqliteCallStore, TurnEntry,
            TurnTimings,
        };
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteCallStore::open(&dir.path().join("calls.sqlite")).unwrap();
        let add = |id: i64, index: u32, text: &str, faq: Option<&str>| {
            let entry = TurnEntry {
                index,
                lang: "zh".into(),
                caller_text: text.into(),
                bot_text: String::new(),
                bot_text_heard: String::new(),
                faq_id: faq.map(str::to_string),
                faq_confidence: None,
                outcome: "answered".into(),
                timings: TurnTimings::default(),
            };
            store
                .add_turn(
                    id,
                    &NewTurn {
                        entry,
                        unredacted: None,
                        search_text: text.into(),
                    },
                )
                .unwrap();
        };
        let call = |n: i64, outcome: CallOutcome| {
            let id = store
                .open_call(&NewCall {
                    leg_id: format!("leg-{n}"),
                    channel: "sip".into(),
                    caller: None,
                    caller_unredacted: None,
                    started_at: n * 1000,
                })
                .unwrap();
            (id, outcome)
        };
        let (answered, answered_outcome) = call(10, CallOutcome::AnsweredByBot);
        add(answered, 1, "几点开门", Some("opening_hours"));
        add(answered, 2, "可以开发票吗", None);
        let (handed, handed_outcome) = call(20, CallOutcome::Transferred);
        add(handed, 1, "我的包裹丢了", Some("lost_parcel"));
        add(handed, 2, "赔多少钱", Some("lost_parcel"));
        let (old, old_outcome) = call(1, CallOutcome::CallerHungUp);
        add(old, 1, "太早的问题", None);
        for (id, outcome) in [
            (answered, answered_outcome),
            (handed, handed_outcome),
            (old, old_outcome),
        ] {
            store
                .close_call(
                    id,
                    &CallEnding {
                        ended_at: 30_000,
                        outcome,
                        ended_by: None,
                        transfer_reason: None,
                        languages: vec!["zh".into()],
                        barge_ins: 0,
                        csat: None,
                        sentiment: None,
                    },
                )
                .unwrap();
        }
        let turns = store.unanswered_turns(5_000, 100).unwrap();
        let texts: Vec<(&str, bool)> = turns
            .iter()
            .map(|t| (t.caller_text.as_str(), t.then_transferred))
            .collect();
        assert_eq!(texts, vec![("赔多少钱", true), ("可以开发票吗", false)]);
    }
}
