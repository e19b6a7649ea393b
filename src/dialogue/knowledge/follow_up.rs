//! Multi-turn memory for retrieval: a short follow-up ("那周末呢？", "咁香港呢？", "What about
//! Sundays?") is searched together with the caller's previous question, so it is answered in
//! the topic the caller is still talking about.
//!
//! A turn is a follow-up when it is short (at most [`FOLLOW_UP_HAN`] Han characters or
//! [`FOLLOW_UP_WORDS`] Latin words) and there is an earlier caller turn. It is *marked* when
//! it also opens or closes like one (那 / 咁 / 仲有 / 另外 … 呢, "what about", "and …"): a marked
//! follow-up prefers the joined search; an unmarked one uses it only when it cannot be
//! answered on its own.

use crate::dialogue::request::{DialogueRequest, Speaker};
use crate::lang::is_han;

/// Longest Chinese follow-up, in Han characters.
pub const FOLLOW_UP_HAN: usize = 8;
/// Longest English follow-up, in words.
pub const FOLLOW_UP_WORDS: usize = 5;

const CHINESE_OPENERS: &[&str] = &[
    "那", "那么", "那个", "咁", "噉", "還有", "还有", "仲有", "另外", "至於", "至于", "如果", "又",
    "再",
];
const CHINESE_CLOSERS: &[&str] = &["呢", "啊呢", "嘞", "咧"];
const ENGLISH_OPENERS: &[&str] = &["what about", "how about", "and", "also", "what if", "then"];

/// A short turn and the caller's previous question it follows up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp<'a> {
    /// The previous caller turn.
    pub context: &'a str,
    /// The turn opens or closes like a follow-up.
    pub marked: bool,
}

/// The follow-up reading of `request`, when its transcript is short and there is an earlier
/// caller turn.
pub fn follow_up(request: &DialogueRequest) -> Option<FollowUp<'_>> {
    let context = request
        .history
        .iter()
        .rev()
        .find(|t| t.speaker == Speaker::Caller && !t.text.trim().is_empty())?;
    let text = request.transcript.trim();
    let han = text.chars().filter(|c| is_han(*c)).count();
    let words = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .count();
    let short = (han > 0 || words > 0) && han <= FOLLOW_UP_HAN && words <= FOLLOW_UP_WORDS;
    if !short {
        return None;
    }
    let core: String = text
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    let marked = CHINESE_OPENERS.iter().any(|o| core.starts_with(o))
        || CHINESE_CLOSERS.iter().any(|c| core.ends_with(c))
        || ENGLISH_OPENERS
            .iter()
            .any(|o| core.starts_with(&format!("{o} ")));
    Some(FollowUp {
        context: &context.text,
        marked,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::request::Turn;
    use crate::lang::Lang;

    fn after(previous: &str, now: &str) -> DialogueRequest {
        DialogueRequest::new(now, Lang::Zh).with_history(vec![
            Turn::caller(previous, Lang::Zh),
            Turn::bot("……", Lang::Zh),
        ])
    }

    #[test]
    fn short_turns_after_a_question_are_follow_ups() {
        let request = after("你们几点开门？", "那周末呢？");
        let found = follow_up(&request);
        assert_eq!(
            found,
            Some(FollowUp {
                context: "你们几点开门？",
                marked: true
            })
        );
        let request = after("How much is shipping?", "What about Hong Kong?");
        assert!(follow_up(&request).is_some_and(|f| f.marked));
        let request = after("运费怎么算", "香港");
        assert!(follow_up(&request).is_some_and(|f| !f.marked));
    }

    #[test]
    fn long_turns_and_first_turns_are_not() {
        assert_eq!(
            follow_up(&after("几点开门", "那我想问一下退款大概要多久才能到账")),
            None
        );
        assert_eq!(follow_up(&DialogueRequest::new("那周末呢", Lang::Zh)), None);
    }
}
