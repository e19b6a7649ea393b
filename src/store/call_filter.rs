//! [`CallFilter`]: which calls the review UI's call list (and its KPI links) narrows to:
//! a date range, channel, language, outcome, transfer reason, FAQ answered, slow answers,
//! CSAT, sentiment, repeat contacts. Turned into SQL conditions with bound values only, so nothing a reviewer types
//! reaches the SQL text.

use rusqlite::types::Value;

use super::call_record::CallOutcome;
use super::kpi_calls::{REPEAT_CONTACT_MS, REPEAT_CONTACT_SQL};

/// An answer slower than this (caller's last speech → first audio of the answer) is slow.
pub const SLOW_ANSWER_MS: i64 = 3000;

/// Conditions on calls; the default lets every call through.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallFilter {
    /// Calls started at or after this Unix time (ms).
    pub started_from: Option<i64>,
    /// Calls started before this Unix time (ms).
    pub started_before: Option<i64>,
    /// `sip`, `media_stream`, `browser`.
    pub channel: Option<String>,
    /// A language spoken in the call (`zh`, `yue`, `en`).
    pub language: Option<String>,
    pub outcome: Option<CallOutcome>,
    pub transfer_reason: Option<String>,
    /// A turn answered with this FAQ entry.
    pub faq_id: Option<String>,
    /// Only calls with an answer slower than [`SLOW_ANSWER_MS`].
    pub slow_answers: bool,
    /// Only calls with a CSAT score of at most this (1-5); calls without one are left out.
    pub csat_at_most: Option<u8>,
    /// Only calls with a CSAT score (any).
    pub with_csat: bool,
    /// Only calls in which the caller interrupted the bot.
    pub with_barge_ins: bool,
    /// Only calls after which the same caller called again within
    /// [`REPEAT_CONTACT_MS`](super::kpi_calls::REPEAT_CONTACT_MS) (not resolved first time).
    pub repeat_contact: bool,
    /// The call's sentiment (`angry`, `negative`, `neutral`, `positive`).
    pub sentiment: Option<String>,
}

impl CallFilter {
    /// Whether no condition is set.
    pub fn is_empty(&self) -> bool {
        *self == CallFilter::default()
    }

    /// `AND ...` conditions on the `calls` table (aliased `calls`) and their values, in order,
    /// for a statement whose earlier parameters are positional (`?`).
    pub fn sql(&self) -> (String, Vec<Value>) {
        let mut sql = String::new();
        let mut values = Vec::new();
        if let Some(from) = self.started_from {
            sql.push_str(" AND calls.started_at >= ?");
            values.push(Value::Integer(from));
        }
        if let Some(before) = self.started_before {
            sql.push_str(" AND calls.started_at < ?");
            values.push(Value::Integer(before));
        }
        if let Some(channel) = &self.channel {
            sql.push_str(" AND calls.channel = ?");
            values.push(Value::Text(channel.clone()));
        }
        if let Some(language) = &self.language {
            // `languages` is a comma-separated list.
            sql.push_str(" AND instr(',' || calls.languages || ',', ?) > 0");
            values.push(Value::Text(format!(",{language},")));
        }
        if let Some(outcome) = self.outcome {
            sql.push_str(" AND calls.outcome = ?");
            values.push(Value::Text(outcome.as_str().to_string()));
        }
        if let Some(reason) = &self.transfer_reason {
            sql.push_str(" AND calls.transfer_reason = ?");
            values.push(Value::Text(reason.clone()));
        }
        if let Some(faq) = &self.faq_id {
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM turns t WHERE t.call_id = calls.id AND t.faq_id = ?)",
            );
            values.push(Value::Text(faq.clone()));
        }
        if self.slow_answers {
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM turns t WHERE t.call_id = calls.id AND t.voice_to_voice_ms > ?)",
            );
            values.push(Value::Integer(SLOW_ANSWER_MS));
        }
        if let Some(at_most) = self.csat_at_most {
            sql.push_str(" AND calls.csat <= ?");
            values.push(Value::Integer(i64::from(at_most)));
        }
        if self.with_csat {
            sql.push_str(" AND calls.csat IS NOT NULL");
        }
        if self.with_barge_ins {
            sql.push_str(" AND calls.barge_ins > 0");
        }
        if let Some(sentiment) = &self.sentiment {
            sql.push_str(" AND calls.sentiment = ?");
            values.push(Value::Text(sentiment.clone()));
        }
        if self.repeat_contact {
            sql.push_str(" AND ");
            sql.push_str(REPEAT_CONTACT_SQL);
            values.push(Value::Integer(REPEAT_CONTACT_MS));
        }
        (sql, values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_condition_is_bound_not_spliced() {
        let filter = CallFilter {
            channel: Some("sip' OR 1=1 --".into()),
            language: Some("yue".into()),
            slow_answers: true,
            ..CallFilter::default()
        };
        let (sql, values) = filter.sql();
        assert!(!sql.contains("OR 1=1"), "{sql}");
        assert_eq!(sql.matches('?').count(), values.len());
        assert_eq!(values[1], Value::Text(",yue,".into()));
        assert!(CallFilter::default().is_empty());
        assert_eq!(CallFilter::default().sql().0, "");
    }
}
