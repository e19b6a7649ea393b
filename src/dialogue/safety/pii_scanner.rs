//! Finds personal data in a caller's words (or any text) and replaces it with typed
//! placeholders, so it does not reach an LLM, an external bot, logs or stored transcripts.
//!
//! Numbers are found after [`NormalisedText`] has turned spoken and full-width digits into
//! ASCII. Identity and card numbers count only when their check digits pass (GB 11643, HKID,
//! Luhn with a card-scheme prefix): an order number that fails them is left as it is, because
//! redacting it would break the order lookup. Phones have no check digit; a digit run right
//! after an order/tracking-number cue is not taken for a phone for the same reason.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use super::pii_checks::{is_card_number, is_valid_hkid, is_valid_mainland_id};
use super::pii_normalised_text::NormalisedText;

/// What kind of personal data a match is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    /// Mainland resident identity card number (GB 11643).
    MainlandId,
    /// Hong Kong identity card number.
    Hkid,
    /// Payment card number.
    BankCard,
    /// Mainland mobile number.
    CnMobile,
    /// Hong Kong phone number.
    HkPhone,
    Email,
}

impl PiiKind {
    /// What replaces a match of this kind in redacted text.
    pub fn placeholder(self) -> &'static str {
        match self {
            PiiKind::MainlandId => "[ID]",
            PiiKind::Hkid => "[HKID]",
            PiiKind::BankCard => "[CARD]",
            PiiKind::CnMobile | PiiKind::HkPhone => "[PHONE]",
            PiiKind::Email => "[EMAIL]",
        }
    }

    /// A short name for the CLI and logs.
    pub fn name(self) -> &'static str {
        match self {
            PiiKind::MainlandId => "mainland_id",
            PiiKind::Hkid => "hkid",
            PiiKind::BankCard => "bank_card",
            PiiKind::CnMobile => "cn_mobile",
            PiiKind::HkPhone => "hk_phone",
            PiiKind::Email => "email",
        }
    }
}

/// One piece of personal data found in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PiiMatch {
    pub kind: PiiKind,
    /// Byte range in the scanned text, covering the separators and spoken digits it was
    /// written with.
    pub span: Range<usize>,
    /// The value in canonical form (ASCII digits, upper-case letters, `+` kept on phones).
    pub normalised: String,
}

/// Digit runs at least this long count even when letters touch them.
const MIN_UNGLUED_DIGITS: usize = 11;

/// Words that announce an order or tracking number: a digit run right after one is not a phone.
const ORDER_NUMBER_CUES: [&str; 12] = [
    "订单",
    "訂單",
    "单号",
    "單號",
    "运单",
    "運單",
    "编号",
    "編號",
    "order",
    "tracking",
    "invoice",
    "reference",
];
/// How many characters before a digit run are searched for an order-number cue.
const ORDER_CUE_WINDOW_CHARS: usize = 12;

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
        .expect("constant email pattern compiles")
});
static HKID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)([A-Z]{1,2})[ \-]?([0-9]{6})[ \-]?(?:\(\s*([0-9A])\s*\)|([0-9A]))")
        .expect("constant HKID pattern compiles")
});
static DIGIT_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\+?[0-9]+[Xx]?").expect("constant digit pattern compiles"));

/// Finds and redacts personal data. Stateless; [`PiiScanner::new`] is free to call.
#[derive(Debug, Clone, Copy, Default)]
pub struct PiiScanner;

impl PiiScanner {
    pub fn new() -> Self {
        PiiScanner
    }

    /// Every piece of personal data in `text`, in order of position, never overlapping.
    pub fn scan(&self, text: &str) -> Vec<PiiMatch> {
        let normalised = NormalisedText::new(text);
        let norm = normalised.as_str();
        let mut found: Vec<(Range<usize>, PiiKind, String)> = Vec::new();
        let taken = |found: &[(Range<usize>, PiiKind, String)], span: &Range<usize>| {
            found
                .iter()
                .any(|(r, _, _)| r.start < span.end && span.start < r.end)
        };

        for m in EMAIL.find_iter(norm) {
            found.push((m.range(), PiiKind::Email, m.as_str().to_string()));
        }
        for caps in HKID.captures_iter(norm) {
            let Some(whole) = caps.get(0) else { continue };
            let (letters, digits) = (&caps[1], &caps[2]);
            let check = caps
                .get(3)
                .or(caps.get(4))
                .and_then(|c| c.as_str().chars().next());
            let alone = !char_before(norm, whole.start())
                .is_some_and(|c| c.is_ascii_alphanumeric())
                && !char_after(norm, whole.end()).is_some_and(|c| c.is_ascii_alphanumeric());
            if let Some(check) = check
                && alone
                && !taken(&found, &whole.range())
                && is_valid_hkid(letters, digits, check)
            {
                let canonical = format!("{letters}{digits}{check}").to_ascii_uppercase();
                found.push((whole.range(), PiiKind::Hkid, canonical));
            }
        }
        for m in DIGIT_RUN.find_iter(norm) {
            // A short run glued to letters is a code (`C5678901`, `v2`), not a number; long
            // runs are read even when ASR glued them to a word (`ID360426…`).
            let glued = char_before(norm, m.start()).is_some_and(|c| c.is_ascii_alphabetic())
                || char_after(norm, m.end()).is_some_and(|c| c.is_ascii_alphabetic());
            if taken(&found, &m.range()) || (glued && m.len() < MIN_UNGLUED_DIGITS) {
                continue;
            }
            let original = normalised.original_span(m.range());
            let after_order_cue = follows_order_cue(text, original.start);
            if let Some((kind, canonical)) = classify_number(m.as_str(), after_order_cue) {
                found.push((m.range(), kind, canonical));
            }
        }

        let mut matches: Vec<PiiMatch> = found
            .into_iter()
            .map(|(span, kind, normalised_value)| PiiMatch {
                kind,
                span: normalised.original_span(span),
                normalised: normalised_value,
            })
            .collect();
        matches.sort_by_key(|m| m.span.start);
        matches
    }

    /// `text` with every match replaced by its kind's placeholder (`[ID]`, `[HKID]`, `[CARD]`,
    /// `[PHONE]`, `[EMAIL]`).
    pub fn redact(&self, text: &str) -> String {
        let mut redacted = String::with_capacity(text.len());
        let mut copied = 0;
        for m in self.scan(text) {
            redacted.push_str(&text[copied..m.span.start]);
            redacted.push_str(m.kind.placeholder());
            copied = m.span.end;
        }
        redacted.push_str(&text[copied..]);
        redacted
    }
}

/// The kind of a digit run (optionally `+`-prefixed, optionally ending in `X`), if it is one.
fn classify_number(run: &str, after_order_cue: bool) -> Option<(PiiKind, String)> {
    let plus = run.starts_with('+');
    let digits = run.trim_start_matches('+');
    if digits.len() == 18 && !plus && is_valid_mainland_id(digits) {
        return Some((PiiKind::MainlandId, digits.to_ascii_uppercase()));
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let canonical = || format!("{}{digits}", if plus { "+" } else { "" });
    if !after_order_cue {
        let is_cn_mobile = |national: &&str| {
            national.len() == 11
                && national.starts_with('1')
                && (b'3'..=b'9').contains(&national.as_bytes()[1])
        };
        if national_candidates(digits, plus, "86")
            .iter()
            .any(is_cn_mobile)
        {
            return Some((PiiKind::CnMobile, canonical()));
        }
        let is_hk_phone = |national: &&str| {
            national.len() == 8 && (b'2'..=b'9').contains(&national.as_bytes()[0])
        };
        if national_candidates(digits, plus, "852")
            .iter()
            .any(is_hk_phone)
        {
            return Some((PiiKind::HkPhone, canonical()));
        }
    }
    if !plus && is_card_number(digits) {
        return Some((PiiKind::BankCard, digits.to_string()));
    }
    None
}

/// The numbers a phone may be once its country code (`+CC`, `00CC` or a bare `CC`) is removed;
/// without `+` the digits themselves are a candidate too.
fn national_candidates<'a>(digits: &'a str, plus: bool, code: &str) -> Vec<&'a str> {
    if plus {
        return digits.strip_prefix(code).into_iter().collect();
    }
    let stripped = digits
        .strip_prefix("00")
        .and_then(|rest| rest.strip_prefix(code))
        .or_else(|| digits.strip_prefix(code));
    std::iter::once(digits).chain(stripped).collect()
}

fn follows_order_cue(text: &str, at: usize) -> bool {
    let before: String = text[..at]
        .chars()
        .rev()
        .take(ORDER_CUE_WINDOW_CHARS)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<String>()
        .to_lowercase();
    ORDER_NUMBER_CUES.iter().any(|cue| before.contains(cue))
}

fn char_before(text: &str, at: usize) -> Option<char> {
    text[..at].chars().next_back()
}

fn char_after(text: &str, at: usize) -> Option<char> {
    text[at..].chars().next()
}
