//! The KPI figures from the store's [`KpiCall`]s, per day or week and per language (the
//! caller's first language), plus a row for all languages: calls, containment (answered by
//! the bot), transfer rate and reasons, answer latency p50/p95, slow answers (> 3 s),
//! barge-in rate, CSAT. Sans-IO, so the arithmetic is tested without a store.

use std::collections::BTreeMap;

use super::dates::week_start_ms;
use crate::store::{CallOutcome, KpiCall, SLOW_ANSWER_MS};

const DAY_MS: i64 = 86_400_000;

/// How calls are grouped in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
}

impl Period {
    /// The start (UTC) of the period holding `ms`.
    pub fn start_of(self, ms: i64) -> i64 {
        match self {
            Period::Day => ms.div_euclid(DAY_MS) * DAY_MS,
            Period::Week => week_start_ms(ms),
        }
    }

    pub fn days(self) -> i64 {
        match self {
            Period::Day => 1,
            Period::Week => 7,
        }
    }
}

/// A row of the dashboard: a period, and a language or all (None).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RowKey {
    pub period_start: i64,
    pub language: Option<String>,
}

/// The figures of one row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    pub calls: u32,
    /// Calls that ended (not in progress): what the rates are shares of.
    pub finished: u32,
    pub answered_by_bot: u32,
    pub transferred: u32,
    pub reasons: BTreeMap<String, u32>,
    latencies_ms: Vec<u64>,
    /// Calls with an answer slower than 3 s.
    pub slow_calls: u32,
    pub turns: u32,
    pub barge_ins: u32,
    pub calls_with_barge_ins: u32,
    pub csat_sum: u32,
    pub csat_count: u32,
    /// Calls whose repeat contact is known (a caller number, and a repeat or the whole
    /// window passed): what first-contact resolution is a share of.
    pub contact_known: u32,
    /// Of those, the calls the same caller called again after.
    pub repeat_contacts: u32,
}

impl Figures {
    fn add(&mut self, call: &KpiCall) {
        self.calls += 1;
        if call.outcome != CallOutcome::InProgress {
            self.finished += 1;
        }
        match call.outcome {
            CallOutcome::AnsweredByBot => self.answered_by_bot += 1,
            CallOutcome::Transferred => {
                self.transferred += 1;
                let reason = call
                    .transfer_reason
                    .clone()
                    .unwrap_or_else(|| "unknown".into());
                *self.reasons.entry(reason).or_default() += 1;
            }
            _ => {}
        }
        self.latencies_ms.extend(&call.latencies_ms);
        if call.latencies_ms.iter().any(|&l| l as i64 > SLOW_ANSWER_MS) {
            self.slow_calls += 1;
        }
        self.turns += call.turn_count;
        self.barge_ins += call.barge_ins;
        if call.barge_ins > 0 {
            self.calls_with_barge_ins += 1;
        }
        if let Some(csat) = call.csat {
            self.csat_sum += u32::from(csat);
            self.csat_count += 1;
        }
        if let Some(repeat) = call.repeat_contact {
            self.contact_known += 1;
            self.repeat_contacts += u32::from(repeat);
        }
    }

    /// First-contact resolution: the share of calls (whose repeat contact is known) after which
    /// the same caller did not call again within 7 days.
    pub fn first_contact_resolution(&self) -> Option<f64> {
        (self.contact_known > 0).then(|| {
            f64::from(self.contact_known - self.repeat_contacts) / f64::from(self.contact_known)
        })
    }

    /// `part` as a share of the finished calls, when there are any.
    pub fn share(&self, part: u32) -> Option<f64> {
        (self.finished > 0).then(|| f64::from(part) / f64::from(self.finished))
    }

    /// The answer latency at quantile `q` (nearest rank), when any turn was answered.
    pub fn latency_quantile(&self, q: f64) -> Option<u64> {
        let mut sorted = self.latencies_ms.clone();
        sorted.sort_unstable();
        let n = sorted.len();
        if n == 0 {
            return None;
        }
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        Some(sorted[rank - 1])
    }

    /// Barge-ins per turn.
    pub fn barge_in_rate(&self) -> Option<f64> {
        (self.turns > 0).then(|| f64::from(self.barge_ins) / f64::from(self.turns))
    }

    pub fn csat_average(&self) -> Option<f64> {
        (self.csat_count > 0).then(|| f64::from(self.csat_sum) / f64::from(self.csat_count))
    }
}

/// The dashboard's rows (newest period first; in each, all languages then each language)
/// and the figures over everything.
pub fn figures(calls: &[KpiCall], period: Period) -> (Vec<(RowKey, Figures)>, Figures) {
    let mut rows: BTreeMap<RowKey, Figures> = BTreeMap::new();
    let mut total = Figures::default();
    for call in calls {
        let period_start = period.start_of(call.started_at);
        total.add(call);
        rows.entry(RowKey {
            period_start,
            language: None,
        })
        .or_default()
        .add(call);
        rows.entry(RowKey {
            period_start,
            language: Some(call.language.clone().unwrap_or_else(|| "none".into())),
        })
        .or_default()
        .add(call);
    }
    let mut rows: Vec<_> = rows.into_iter().collect();
    // Newest first; within a period, "all" (None sorts first) then the languages.
    rows.sort_by(|a, b| {
        b.0.period_start
            .cmp(&a.0.period_start)
            .then(a.0.language.cmp(&b.0.language))
    });
    (rows, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(day: i64, lang: &str, outcome: CallOutcome, latencies: &[u64]) -> KpiCall {
        KpiCall {
            id: day,
            started_at: day * DAY_MS + 1000,
            language: Some(lang.into()),
            outcome,
            transfer_reason: (outcome == CallOutcome::Transferred).then(|| "caller_asked".into()),
            turn_count: latencies.len() as u32,
            barge_ins: u32::from(lang == "en"),
            csat: (outcome == CallOutcome::AnsweredByBot).then_some(5),
            repeat_contact: match lang {
                "zh" => Some(false),
                "en" => Some(true),
                _ => None,
            },
            latencies_ms: latencies.to_vec(),
        }
    }

    #[test]
    fn figures_per_day_and_language() {
        let calls = [
            call(0, "zh", CallOutcome::AnsweredByBot, &[800, 1200]),
            call(0, "en", CallOutcome::Transferred, &[3500]),
            call(0, "zh", CallOutcome::InProgress, &[]),
            call(1, "yue", CallOutcome::AnsweredByBot, &[900]),
        ];
        let (rows, total) = figures(&calls, Period::Day);
        let keys: Vec<(i64, Option<&str>)> = rows
            .iter()
            .map(|(k, _)| (k.period_start, k.language.as_deref()))
            .collect();
        assert_eq!(
            keys,
            vec![
                (DAY_MS, None),
                (DAY_MS, Some("yue")),
                (0, None),
                (0, Some("en")),
                (0, Some("zh")),
            ]
        );
        let day0 = &rows[2].1;
        assert_eq!((day0.calls, day0.finished), (3, 2));
        assert_eq!(day0.share(day0.answered_by_bot), Some(0.5));
        assert_eq!(day0.share(day0.transferred), Some(0.5));
        assert_eq!(day0.reasons.get("caller_asked"), Some(&1));
        assert_eq!(day0.latency_quantile(0.5), Some(1200));
        assert_eq!(day0.latency_quantile(0.95), Some(3500));
        assert_eq!(day0.slow_calls, 1);
        assert_eq!(day0.barge_in_rate(), Some(1.0 / 3.0));
        assert_eq!(day0.csat_average(), Some(5.0));
        // Two zh calls without a repeat, one en call with one; the yue call's is unknown.
        assert_eq!(day0.first_contact_resolution(), Some(2.0 / 3.0));
        assert_eq!(rows[1].1.first_contact_resolution(), None);
        assert_eq!((total.contact_known, total.repeat_contacts), (3, 1));
        assert_eq!(total.calls, 4);
        assert_eq!(total.latency_quantile(0.5), Some(900));
        assert_eq!(Figures::default().latency_quantile(0.5), None);
        assert_eq!(Figures::default().share(1), None);
    }
}
