//! The demo shop's shipped case questions (text and language), for benches that time the
//! dialogue stack on realistic turns.

use hotline::lang::Lang;

/// Every case of `src/dialogue/knowledge/eval_cases.tsv`, in file order.
pub fn shipped_questions() -> Vec<(String, Lang)> {
    include_str!("../../src/dialogue/knowledge/eval_cases.tsv")
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut cols = l.split('\t');
            let text = cols.next()?.to_string();
            let lang = cols.next()?.parse().ok()?;
            Some((text, lang))
        })
        .collect()
}
