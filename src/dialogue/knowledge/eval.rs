//! Evaluation of the dialogue stack on labelled caller questions (`hotline kb eval`).
//!
//! Cases are a tab-separated file with a header line and the columns `text`, `lang`
//! (zh | yue | en) and `expect` (an FAQ id, `transfer`, or `none`); other columns are ignored,
//! blank lines and lines starting with `#` are skipped. Each case is one single-turn request to
//! the engine the bot uses (policy layer included); its outcome is `transfer` when the reply
//! holds a transfer action, else the matched FAQ id, else `none`.
//!
//! Figures: top-1 accuracy per language over the cases expecting an FAQ id; transfer
//! precision and recall; accuracy on the cases expecting `none`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::dialogue::action::DialogueAction;
use crate::dialogue::engine::DialogueEngine;
use crate::dialogue::reply_event::ReplyEvent;
use crate::dialogue::request::DialogueRequest;
use crate::lang::Lang;

/// What a case expects the engine to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expectation {
    /// Answer from this FAQ topic.
    Faq(String),
    /// Hand the caller to a human.
    Transfer,
    /// Neither (the FAQ does not know; no transfer on a single turn).
    Nothing,
}

impl Expectation {
    fn parse(text: &str) -> Self {
        match text {
            "transfer" => Expectation::Transfer,
            "none" => Expectation::Nothing,
            id => Expectation::Faq(id.to_string()),
        }
    }

    /// The label written in case files and reports.
    pub fn label(&self) -> &str {
        match self {
            Expectation::Faq(id) => id,
            Expectation::Transfer => "transfer",
            Expectation::Nothing => "none",
        }
    }
}

/// One labelled question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalCase {
    /// 1-based line in the case file.
    pub line: usize,
    pub text: String,
    pub lang: Lang,
    pub expect: Expectation,
    /// The optional `split` column: `dev` (tuned on) or `test` (held out), reported apart.
    pub split: Option<String>,
}

/// A case file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum EvalCasesError {
    #[error("cannot read the case file {path}: {source}; check the path")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{source_name}:1: the header has no `{column}` column (found: {found}); the header must be the tab-separated columns text, lang, expect"
    )]
    MissingColumn {
        source_name: String,
        column: &'static str,
        found: String,
    },
    #[error(
        "{source_name}:{line}: {problem}; each line needs text, lang (zh, yue or en) and expect (an FAQ id, transfer or none), separated by tabs"
    )]
    BadLine {
        source_name: String,
        line: usize,
        problem: String,
    },
    #[error(
        "{source_name}:{line}: expect `{id}` is not an FAQ id of the knowledge base; use one of: {known}, or transfer, or none"
    )]
    UnknownFaqId {
        source_name: String,
        line: usize,
        id: String,
        known: String,
    },
    #[error("{source_name} holds no cases; add lines under the header text<TAB>lang<TAB>expect")]
    Empty { source_name: String },
}

/// Parses case-file text; `source_name` names it in errors. With `known_ids`, an `expect`
/// that is not one of them is an error (a typo would otherwise count as a miss).
pub fn parse_eval_cases(
    source_name: &str,
    text: &str,
    known_ids: Option<&[String]>,
) -> Result<Vec<EvalCase>, EvalCasesError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some((_, header)) = lines.next() else {
        return Err(EvalCasesError::Empty {
            source_name: source_name.to_string(),
        });
    };
    let columns: Vec<&str> = header
        .split('\t')
        .map(|c| c.trim().trim_start_matches('\u{feff}'))
        .collect();
    let column = |name: &'static str| {
        columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
            .ok_or_else(|| EvalCasesError::MissingColumn {
                source_name: source_name.to_string(),
                column: name,
                found: columns.join(","),
            })
    };
    let (text_col, lang_col, expect_col) = (column("text")?, column("lang")?, column("expect")?);
    let split_col = column("split").ok();
    let mut cases = Vec::new();
    for (line, row) in lines {
        let fields: Vec<&str> = row.split('\t').map(str::trim).collect();
        let bad = |problem: String| EvalCasesError::BadLine {
            source_name: source_name.to_string(),
            line,
            problem,
        };
        let get = |col: usize, name: &str| {
            fields
                .get(col)
                .copied()
                .filter(|f| !f.is_empty())
                .ok_or_else(|| bad(format!("the `{name}` field is missing or empty")))
        };
        let text = get(text_col, "text")?;
        let lang_text = get(lang_col, "lang")?;
        let lang: Lang = lang_text
            .parse()
            .map_err(|_| bad(format!("unknown lang `{lang_text}`")))?;
        let expect = Expectation::parse(get(expect_col, "expect")?);
        if let (Expectation::Faq(id), Some(known)) = (&expect, known_ids)
            && !known.iter().any(|k| k == id)
        {
            return Err(EvalCasesError::UnknownFaqId {
                source_name: source_name.to_string(),
                line,
                id: id.clone(),
                known: known.join(", "),
            });
        }
        let split = split_col
            .and_then(|c| fields.get(c).copied())
            .filter(|f| !f.is_empty())
            .map(str::to_string);
        cases.push(EvalCase {
            line,
            text: text.to_string(),
            lang,
            expect,
            split,
        });
    }
    if cases.is_empty() {
        return Err(EvalCasesError::Empty {
            source_name: source_name.to_string(),
        });
    }
    Ok(cases)
}

/// What the engine did with one case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseOutcome {
    pub text: String,
    pub lang: Lang,
    pub expect: String,
    /// The matched FAQ id, `transfer` or `none`.
    pub got: String,
    /// The retrieval score the engine reported (`Matched` or `NoMatch`); 1 for a transfer
    /// decided by a rule before retrieval.
    pub score: f32,
    /// Why a transfer happened (`caller_asked`, `distress`, `unresolved` ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_reason: Option<String>,
    /// `got` was offered in a confirm question ("do you mean …?") rather than answered.
    #[serde(default)]
    pub confirmed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
}

impl CaseOutcome {
    /// The right outcome: the expected answer (or a confirm question offering it first),
    /// transfer or none.
    pub fn is_correct(&self) -> bool {
        self.got == self.expect
    }

    /// Answered directly with an FAQ topic that was not the one expected (a transfer or
    /// "none" was expected, or another topic): the worst outcome for a caller.
    pub fn is_wrong_answer(&self) -> bool {
        !self.confirmed && self.got != self.expect && self.got != "none" && self.got != "transfer"
    }
}

/// Top-1 accuracy of one language.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Accuracy {
    pub correct: usize,
    pub total: usize,
    /// `correct / total`, or 1 when there are no cases.
    pub accuracy: f64,
}

impl Accuracy {
    fn of(correct: usize, total: usize) -> Self {
        Self {
            correct,
            total,
            accuracy: ratio(correct, total),
        }
    }
}

/// Transfer decisions against the cases expecting one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransferFigures {
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
    pub precision: f64,
    pub recall: f64,
}

/// The figures of an evaluation and every case's outcome, in input order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    pub cases_total: usize,
    /// Per language code, over cases expecting an FAQ id.
    pub top1: BTreeMap<String, Accuracy>,
    /// Over all cases expecting an FAQ id.
    pub top1_overall: Accuracy,
    pub transfer: TransferFigures,
    pub none_accuracy: Accuracy,
    /// Per language: cases answered directly with a wrong FAQ topic, over all its cases.
    pub wrong_answer: BTreeMap<String, Accuracy>,
    /// Per language: FAQ cases answered directly (not via a confirm question) and right.
    pub answered_directly: BTreeMap<String, Accuracy>,
    /// The same figures for each `split` of the case file (dev, test), without the cases.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub splits: BTreeMap<String, EvalReport>,
    pub cases: Vec<CaseOutcome>,
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// Runs every case through `engine`, one single-turn request each.
pub async fn evaluate(engine: &dyn DialogueEngine, cases: &[EvalCase]) -> EvalReport {
    let mut outcomes = Vec::with_capacity(cases.len());
    for case in cases {
        let events = engine
            .respond(DialogueRequest::new(case.text.clone(), case.lang))
            .collect()
            .await;
        outcomes.push(outcome_of(case, &events));
    }
    summarise(outcomes)
}

fn outcome_of(case: &EvalCase, events: &[ReplyEvent]) -> CaseOutcome {
    let mut matched = None;
    let mut score = None;
    let mut transfer_reason = None;
    let mut confirmed = false;
    for event in events {
        match event {
            ReplyEvent::Confirm { faq_ids, score: s } => {
                matched = faq_ids.first().cloned();
                score = Some(*s);
                confirmed = true;
            }
            ReplyEvent::Matched { faq_id, score: s } => {
                matched = Some(faq_id.clone());
                score = Some(*s);
            }
            ReplyEvent::NoMatch { best_score, .. } => score = Some(*best_score),
            ReplyEvent::Action(DialogueAction::Transfer { reason, .. }) => {
                let label = serde_json::to_value(reason)
                    .ok()
                    .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string))
                    .unwrap_or_else(|| "transfer".to_string());
                transfer_reason = Some(label);
            }
            _ => {}
        }
    }
    let got = if transfer_reason.is_some() {
        "transfer".to_string()
    } else {
        matched.unwrap_or_else(|| "none".to_string())
    };
    CaseOutcome {
        text: case.text.clone(),
        lang: case.lang,
        expect: case.expect.label().to_string(),
        got,
        score: score.unwrap_or(if transfer_reason.is_some() { 1.0 } else { 0.0 }),
        confirmed: confirmed && transfer_reason.is_none(),
        transfer_reason,
        split: case.split.clone(),
    }
}

fn summarise(cases: Vec<CaseOutcome>) -> EvalReport {
    let mut splits = BTreeMap::new();
    let names: std::collections::BTreeSet<String> =
        cases.iter().filter_map(|c| c.split.clone()).collect();
    if names.len() > 1 || cases.iter().any(|c| c.split.is_none()) && !names.is_empty() {
        for name in names {
            let of_split: Vec<CaseOutcome> = cases
                .iter()
                .filter(|c| c.split.as_deref() == Some(name.as_str()))
                .cloned()
                .collect();
            let mut report = summarise(of_split);
            report.cases.clear();
            splits.insert(name, report);
        }
    }
    let mut wrong_answer = BTreeMap::new();
    let mut answered_directly = BTreeMap::new();
    for lang in Lang::ALL {
        let of_lang: Vec<&CaseOutcome> = cases.iter().filter(|c| c.lang == lang).collect();
        if of_lang.is_empty() {
            continue;
        }
        let wrong = of_lang.iter().filter(|c| c.is_wrong_answer()).count();
        wrong_answer.insert(lang.code().to_string(), Accuracy::of(wrong, of_lang.len()));
        let faq: Vec<&&CaseOutcome> = of_lang
            .iter()
            .filter(|c| c.expect != "transfer" && c.expect != "none")
            .collect();
        let direct = faq
            .iter()
            .filter(|c| c.is_correct() && !c.confirmed)
            .count();
        answered_directly.insert(lang.code().to_string(), Accuracy::of(direct, faq.len()));
    }
    let mut top1 = BTreeMap::new();
    for lang in Lang::ALL {
        let of_lang = cases
            .iter()
            .filter(|c| c.lang == lang && c.expect != "transfer" && c.expect != "none");
        let (correct, total) = of_lang.fold((0, 0), |(c, t), case| {
            (c + usize::from(case.is_correct()), t + 1)
        });
        if total > 0 {
            top1.insert(lang.code().to_string(), Accuracy::of(correct, total));
        }
    }
    let faq_cases = cases
        .iter()
        .filter(|c| c.expect != "transfer" && c.expect != "none");
    let (faq_correct, faq_total) = faq_cases.fold((0, 0), |(c, t), case| {
        (c + usize::from(case.is_correct()), t + 1)
    });
    let count = |f: &dyn Fn(&CaseOutcome) -> bool| cases.iter().filter(|c| f(c)).count();
    let true_positives = count(&|c| c.expect == "transfer" && c.got == "transfer");
    let false_positives = count(&|c| c.expect != "transfer" && c.got == "transfer");
    let false_negatives = count(&|c| c.expect == "transfer" && c.got != "transfer");
    let none_total = count(&|c| c.expect == "none");
    let none_correct = count(&|c| c.expect == "none" && c.got == "none");
    EvalReport {
        cases_total: cases.len(),
        top1,
        top1_overall: Accuracy::of(faq_correct, faq_total),
        transfer: TransferFigures {
            true_positives,
            false_positives,
            false_negatives,
            precision: ratio(true_positives, true_positives + false_positives),
            recall: ratio(true_positives, true_positives + false_negatives),
        },
        none_accuracy: Accuracy::of(none_correct, none_total),
        wrong_answer,
        answered_directly,
        splits,
        cases,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::action::TransferReason;
    use crate::dialogue::reply_stream::ReplyStream;

    const CASES: &str = "# demo\ntext\tlang\texpect\n运费怎么算\tzh\tshipping_fee\n转人工\tzh\ttransfer\n\nhello\ten\tnone\n";

    #[test]
    fn parses_cases_and_names_bad_lines() {
        let cases = parse_eval_cases("c.tsv", CASES, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cases.len(), 3);
        assert_eq!(cases[0].line, 3);
        assert_eq!(cases[1].expect, Expectation::Transfer);
        assert_eq!(cases[2].expect, Expectation::Nothing);
        let bad = parse_eval_cases("c.tsv", "text\tlang\texpect\nhi\tfr\tnone\n", None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(bad.starts_with("c.tsv:2: unknown lang `fr`"), "{bad}");
        let missing = parse_eval_cases("c.tsv", "text,lang,expect\n", None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(missing.contains("no `text` column"), "{missing}");
        let known = vec!["shipping_fee".to_string()];
        let typo = parse_eval_cases(
            "c.tsv",
            "text\tlang\texpect\nx\tzh\tshiping_fee\n",
            Some(&known),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(typo.contains("`shiping_fee` is not an FAQ id"), "{typo}");
    }

    /// Answers `运费` questions, transfers on `人工`, knows nothing else.
    struct Scripted;

    impl DialogueEngine for Scripted {
        fn name(&self) -> &str {
            "scripted"
        }
        fn respond(&self, request: DialogueRequest) -> ReplyStream {
            let events = if request.transcript.contains("人工") {
                vec![ReplyEvent::Action(DialogueAction::Transfer {
                    reason: TransferReason::CallerAsked,
                    summary: String::new(),
                })]
            } else if request.transcript.contains("运费") {
                vec![ReplyEvent::Matched {
                    faq_id: "shipping_fee".into(),
                    score: 0.8,
                }]
            } else {
                vec![ReplyEvent::NoMatch {
                    best_faq_id: None,
                    best_score: 0.1,
                }]
            };
            ReplyStream::ready(events)
        }
    }

    #[tokio::test]
    async fn figures_count_what_the_engine_did() {
        let text = "text\tlang\texpect\n运费怎么算\tzh\tshipping_fee\n几点开门\tzh\topening_hours\n转人工\tzh\ttransfer\n我要人工\tyue\tnone\nhello\ten\tnone\n";
        let cases = parse_eval_cases("c.tsv", text, None).unwrap_or_else(|e| panic!("{e}"));
        let report = evaluate(&Scripted, &cases).await;
        assert_eq!(report.top1["zh"], Accuracy::of(1, 2));
        assert!(!report.top1.contains_key("en"));
        assert_eq!(report.transfer.true_positives, 1);
        assert_eq!(report.transfer.false_positives, 1);
        assert_eq!(report.transfer.precision, 0.5);
        assert_eq!(report.transfer.recall, 1.0);
        assert_eq!(report.none_accuracy, Accuracy::of(1, 2));
        assert_eq!(report.cases[1].got, "none");
        assert_eq!(report.cases[1].score, 0.1);
        assert_eq!(
            report.cases[2].transfer_reason.as_deref(),
            Some("caller_asked")
        );
    }
}
