//! Text as the PII patterns see it, with a way back to the original.
//!
//! ASR and typed chat write the same number many ways: `９１２３ ４５６７`, `九一二三四五六七`,
//! `幺三八-零零一三-八零零零`, `+852 9123 4567`. Before matching, full-width characters become
//! ASCII, and inside a *digit run* (at least [`MIN_SPOKEN_RUN_DIGITS`] digits, written with
//! ASCII/full-width digits or the Chinese digit characters 零〇一二三四五六七八九 幺 两/兩,
//! possibly separated by spaces or dashes) every digit becomes ASCII and the separators are
//! dropped. Shorter runs are left alone, so `一个`, `两件` and `3 - 5 天` keep their meaning.
//! Every normalised character remembers the byte range of the original text it came from, so
//! a match can be redacted in the original, separators and all.

use std::ops::Range;

/// Fewest digits a run needs before Chinese digits in it are read as a number and its
/// separators dropped: the shortest personal number (an HKID's 6 digits) still qualifies.
pub const MIN_SPOKEN_RUN_DIGITS: usize = 6;

/// Most separator characters allowed between two digits of one run (`9123 - 4567`).
const MAX_SEPARATORS_BETWEEN_DIGITS: usize = 3;

/// The normalised form of a text and the original byte range of each normalised character.
#[derive(Debug, Clone)]
pub struct NormalisedText {
    text: String,
    /// Byte offset in `text` where each normalised character starts, ascending.
    starts: Vec<usize>,
    /// Original byte range of each normalised character.
    origins: Vec<Range<usize>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DigitScript {
    /// ASCII or full-width digits.
    Arabic,
    /// 一二三 … 零〇 幺 两.
    Chinese,
}

impl NormalisedText {
    /// Normalises `original` (see the module documentation).
    pub fn new(original: &str) -> Self {
        let chars: Vec<(usize, char)> = original.char_indices().collect();
        let range_of = |k: usize| {
            let (at, c) = chars[k];
            at..at + c.len_utf8()
        };
        let mut out = NormalisedText {
            text: String::with_capacity(original.len()),
            starts: Vec::with_capacity(chars.len()),
            origins: Vec::with_capacity(chars.len()),
        };
        let mut k = 0;
        while k < chars.len() {
            if spoken_digit(chars[k].1).is_none() {
                out.push(fold_full_width(chars[k].1), range_of(k));
                k += 1;
                continue;
            }
            let run = digit_run(&chars, k);
            let digits = run
                .iter()
                .filter(|&&i| spoken_digit(chars[i].1).is_some())
                .count();
            let end = run.last().map_or(k, |&last| last) + 1;
            if digits >= MIN_SPOKEN_RUN_DIGITS {
                for &i in &run {
                    if let Some((digit, _)) = spoken_digit(chars[i].1) {
                        out.push(digit, range_of(i));
                    }
                }
            } else {
                for (i, &(_, c)) in chars.iter().enumerate().take(end).skip(k) {
                    out.push(fold_full_width(c), range_of(i));
                }
            }
            k = end;
        }
        out
    }

    /// The normalised text the patterns run on.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The original byte range covered by the normalised byte range `span` (which must start
    /// and end on normalised character boundaries, as regex matches do).
    pub fn original_span(&self, span: Range<usize>) -> Range<usize> {
        if span.is_empty() {
            return 0..0;
        }
        let first = self.starts.partition_point(|&s| s < span.start);
        let last = self.starts.partition_point(|&s| s < span.end) - 1;
        self.origins[first].start..self.origins[last].end
    }

    fn push(&mut self, c: char, origin: Range<usize>) {
        self.starts.push(self.text.len());
        self.text.push(c);
        self.origins.push(origin);
    }
}

/// Indices of the characters of the digit run starting at `from` (digits and the separators
/// between them; a run ends before trailing separators).
fn digit_run(chars: &[(usize, char)], from: usize) -> Vec<usize> {
    let mut run = vec![from];
    let mut last_script = spoken_digit(chars[from].1).map(|(_, s)| s);
    let mut k = from + 1;
    while k < chars.len() {
        let mut gap = 0;
        while k + gap < chars.len() && is_separator(chars[k + gap].1) {
            gap += 1;
        }
        let Some((_, script)) = chars.get(k + gap).and_then(|&(_, c)| spoken_digit(c)) else {
            break;
        };
        // Across a separator only digits of the same script join: `第一 91234567` is not one
        // number, `九一二三 四五六七` is.
        if gap > MAX_SEPARATORS_BETWEEN_DIGITS || (gap > 0 && Some(script) != last_script) {
            break;
        }
        run.extend(k..=k + gap);
        last_script = Some(script);
        k += gap + 1;
    }
    run
}

/// The ASCII digit a character stands for inside a digit run, and how it is written.
fn spoken_digit(c: char) -> Option<(char, DigitScript)> {
    let arabic = |d: char| Some((d, DigitScript::Arabic));
    let chinese = |d: char| Some((d, DigitScript::Chinese));
    match c {
        '0'..='9' => arabic(c),
        '０'..='９' => arabic(fold_full_width(c)),
        '零' | '〇' => chinese('0'),
        '一' | '幺' => chinese('1'),
        '二' | '两' | '兩' => chinese('2'),
        '三' => chinese('3'),
        '四' => chinese('4'),
        '五' => chinese('5'),
        '六' => chinese('6'),
        '七' => chinese('7'),
        '八' => chinese('8'),
        '九' => chinese('9'),
        _ => None,
    }
}

fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{a0}' | '\u{3000}' | '-' | '－' | '‐' | '‑' | '–' | '—'
    )
}

/// Full-width ASCII (`Ｇ１２３＠`) as ASCII; other characters unchanged.
fn fold_full_width(c: char) -> char {
    match c {
        '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalised(text: &str) -> String {
        NormalisedText::new(text).as_str().to_string()
    }

    #[test]
    fn spoken_and_full_width_digit_runs_become_ascii_without_separators() {
        assert_eq!(normalised("电话九一二三 四五六七"), "电话91234567");
        assert_eq!(normalised("幺三八-零零一三-八零零零"), "13800138000");
        assert_eq!(normalised("１３８ ００１３ ８０００"), "13800138000");
        assert_eq!(normalised("+852 9123 - 4567"), "+85291234567");
        assert_eq!(normalised("一三二两两两两五六七八"), "13222225678");
        assert_eq!(normalised("〇零一二三四"), "001234");
    }

    #[test]
    fn short_runs_and_mixed_scripts_across_a_gap_keep_their_meaning() {
        // Full-width punctuation folds to ASCII; the short runs keep their Chinese digits.
        assert_eq!(normalised("我要两件，一个红色"), "我要两件,一个红色");
        assert_eq!(normalised("3 - 5 天"), "3 - 5 天");
        assert_eq!(normalised("第一 91234567"), "第一 91234567");
        assert_eq!(normalised("ＡＢ９８７６５４３"), "AB9876543");
    }

    #[test]
    fn normalised_spans_map_back_to_the_original_bytes() {
        let original = "打 九一二三 四五六七 啦";
        let text = NormalisedText::new(original);
        let start = text.as_str().find('9').unwrap_or_default();
        let span = text.original_span(start..start + 8);
        assert_eq!(&original[span], "九一二三 四五六七");
    }
}
