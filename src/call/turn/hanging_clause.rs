//! A clause left hanging at a pause: the caller stopped on a word that needs more after it (a
//! conjunction, 把, an article, a copula after its subject), so the pause is a breath inside the
//! turn ("我的手机号码是 …", "my order number is …"), not its end.
//!
//! Short answers that look alike are complete and stay so: "是" / "唔係" / "我也是" / "yes it
//! is" (a copula after a pronoun or adverb, or alone), "还有" alone ("there is some left"),
//! "I don't know where it is" (a question word earlier in the clause).

use crate::call::config::TurnTakingConfig;

/// Words before a copula that make it a complete short answer ("也是", "唔係", "我是").
const BEFORE_A_COMPLETE_COPULA: &str = "就也都不唔还還真正梗只倒总總我你他她它们們佢哋";

/// English words after which "is" / "are" ends a clause ("it is", "that is", "here they are").
const BEFORE_A_COMPLETE_IS: &[&str] = &[
    "it", "that", "this", "there", "here", "he", "she", "they", "we", "you", "i", "who", "what",
    "which", "where", "how", "when", "why", "one", "yes", "so",
];

/// Question words that make a trailing copula part of an embedded question ("… where my
/// package is").
const EMBEDDED_QUESTION_WORDS: &[&str] = &["what", "where", "how", "when", "why", "which", "who"];

/// Verbs after which "to" starts an infinitive that must follow ("I'd like to …").
const BEFORE_AN_INFINITIVE: &[&str] = &[
    "like", "want", "wants", "wanted", "need", "needs", "needed", "have", "has", "had", "going",
    "able", "trying", "tried", "wish", "hoping", "hope", "plan", "planning", "love",
];

/// Nouns a letter names ("plan a", "flat a", "tower a"): there "a" is a name, not an article.
const NAMED_BY_A_LETTER: &[&str] = &[
    "plan", "option", "type", "class", "grade", "vitamin", "block", "tower", "flat", "unit",
    "room", "zone", "floor", "building", "section", "part", "level", "category", "size", "form",
    "gate", "door", "seat", "row", "hall", "phase", "wing", "house",
];

/// Conjunctions that are a complete reply on their own ("还有": "there is some left").
const NEEDS_WORDS_BEFORE: &[&str] = &["还有", "還有", "还是", "還是"];

/// Whether `core` (lower-cased, trailing full stops and commas removed) ends on a word that
/// leaves its clause hanging.
pub(super) fn leaves_a_clause_hanging(core: &str, config: &TurnTakingConfig) -> bool {
    // Whisper may write a question mark after any rising voice ("Can you check the?").
    let core = core.trim_end_matches(['?', '？', ' ']);
    if core.is_empty() {
        return false;
    }
    let clause = core
        .rsplit([',', '，', '、', '.', '。', ';', '；', '!', '！', '?', '？'])
        .next()
        .unwrap_or(core)
        .trim();
    let words: Vec<&str> = clause
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .collect();
    let ends_on_listed_word = config.hanging_endings.iter().any(|ending| {
        let Some(before) = core.strip_suffix(ending.as_str()) else {
            return false;
        };
        if ending.is_ascii() {
            // Whole English words ("the", not "breathe"), and "a" not naming ("plan a").
            let whole_word = before.is_empty() || !before.ends_with(|c: char| c.is_alphanumeric());
            let named = ending == "a"
                && words
                    .len()
                    .checked_sub(2)
                    .is_some_and(|i| NAMED_BY_A_LETTER.contains(&words[i]));
            return whole_word && !named;
        }
        if NEEDS_WORDS_BEFORE.contains(&ending.as_str()) {
            return before.chars().any(char::is_alphanumeric);
        }
        if ending == "把" {
            // 一把 / 这把 are a measure word, not the 把 construction.
            return !before.ends_with(|c: char| "一两兩几幾这這那每".contains(c));
        }
        true
    });
    ends_on_listed_word || ends_on_a_bare_copula(core, &words) || ends_on_an_infinitive_to(&words)
}

/// 是 / 係 / "is" after the subject with nothing after it ("号码是", "the address is").
fn ends_on_a_bare_copula(core: &str, words: &[&str]) -> bool {
    if let Some(before) = core.strip_suffix('是').or_else(|| core.strip_suffix('係')) {
        return before
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() && !BEFORE_A_COMPLETE_COPULA.contains(c));
    }
    let [.., before, last] = words else {
        return false;
    };
    matches!(*last, "is" | "are" | "was" | "were")
        && !BEFORE_A_COMPLETE_IS.contains(before)
        && !words.iter().any(|w| EMBEDDED_QUESTION_WORDS.contains(w))
}

/// "to" after a verb that wants an infinitive ("I'd like to", "I need to").
fn ends_on_an_infinitive_to(words: &[&str]) -> bool {
    matches!(words, [.., before, "to"] if BEFORE_AN_INFINITIVE.contains(before))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hanging(text: &str) -> bool {
        leaves_a_clause_hanging(&text.to_lowercase(), &TurnTakingConfig::default())
    }

    #[test]
    fn words_that_need_more_after_them_leave_the_clause_hanging() {
        for text in [
            "我的手机号码是",
            "我想退货，但是",
            "能不能帮我把",
            "我個電話號碼係",
            "my order number is",
            "can you check the?",
            "i'd like to",
            "i called because",
            "can i get a",
        ] {
            assert!(hanging(text), "{text}");
        }
    }

    #[test]
    fn short_answers_and_finished_clauses_do_not() {
        for text in [
            "是",
            "唔係",
            "我也是",
            "我是",
            "还有",
            "给我一把",
            "yes it is",
            "i don't know where my package is",
            "i was told to",
            "i think so",
            "breathe",
            "i'd like plan a",
            "we live in tower a",
            "",
        ] {
            assert!(!hanging(text), "{text}");
        }
    }
}
