//! What the KPI dashboard is computed from: per call in a date range, its first language,
//! outcome, transfer reason, turns, barge-ins, CSAT, whether the same caller called again
//! within [`REPEAT_CONTACT_MS`] (first-contact resolution) and every answer's latency, read
//! in two statements (calls, then their turns' latencies). The figures themselves are made by the
//! review UI, so the store stays a store.

use std::collections::HashMap;

use rusqlite::params;

use super::call_record::CallOutcome;
use super::call_store::StoreError;
use super::sqlite_store::SqliteCallStore;

/// A caller who calls again within this time after a call was not helped the first time
/// (first-contact resolution counts the calls without such a repeat): 7 days.
pub const REPEAT_CONTACT_MS: i64 = 7 * 24 * 3_600_000;

/// The SQL condition "the same caller called again within [`REPEAT_CONTACT_MS`] after this
/// call" on a `calls` row, whose one parameter is [`REPEAT_CONTACT_MS`].
pub const REPEAT_CONTACT_SQL: &str = "EXISTS (SELECT 1 FROM calls later \
     WHERE later.caller = calls.caller AND later.started_at > calls.started_at \
     AND later.started_at <= calls.started_at + ?)";

/// One call as the KPIs see it.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiCall {
    pub id: i64,
    pub started_at: i64,
    /// The first language spoken, if any turn was.
    pub language: Option<String>,
    pub outcome: CallOutcome,
    pub transfer_reason: Option<String>,
    pub turn_count: u32,
    pub barge_ins: u32,
    pub csat: Option<u8>,
    /// Whether the same caller called again within [`REPEAT_CONTACT_MS`]: None when the
    /// caller's number was not given, or when that time has not passed yet without a repeat.
    pub repeat_contact: Option<bool>,
    /// Caller's last speech → first audio of the answer, per answered turn (ms).
    pub latencies_ms: Vec<u64>,
}

impl SqliteCallStore {
    /// Calls started in `[from, before)` (Unix ms), oldest first, their repeat contacts as
    /// known at `now` (Unix ms).
    pub fn kpi_calls(&self, from: i64, before: i64, now: i64) -> Result<Vec<KpiCall>, StoreError> {
        let connection = self.read_connection();
        let mut statement = connection.prepare_cached(&format!(
            "SELECT id, started_at, languages, outcome, transfer_reason, turn_count, barge_ins, \
             csat, CASE WHEN caller IS NULL OR caller = '' THEN NULL \
             WHEN {REPEAT_CONTACT_SQL} THEN 1 WHEN ? - started_at >= ? THEN 0 ELSE NULL END \
             FROM calls WHERE started_at >= ? AND started_at < ? ORDER BY started_at, id"
        ))?;
        let mut calls = statement
            .query_map(
                params![REPEAT_CONTACT_MS, now, REPEAT_CONTACT_MS, from, before],
                |row| {
                    let languages: String = row.get(2)?;
                    let outcome: String = row.get(3)?;
                    let csat: Option<i64> = row.get(7)?;
                    let repeat: Option<i64> = row.get(8)?;
                    Ok(KpiCall {
                        id: row.get(0)?,
                        started_at: row.get(1)?,
                        language: languages
                            .split(',')
                            .find(|l| !l.is_empty())
                            .map(str::to_string),
                        outcome: CallOutcome::from_name(&outcome).unwrap_or(CallOutcome::Failed),
                        transfer_reason: row.get(4)?,
                        turn_count: row.get(5)?,
                        barge_ins: row.get(6)?,
                        csat: csat.and_then(|c| u8::try_from(c).ok()),
                        repeat_contact: repeat.map(|r| r != 0),
                        latencies_ms: Vec::new(),
                    })
                },
            )?
            .collect::<Result<Vec<_>, _>>()?;
        let index: HashMap<i64, usize> = calls.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
        let mut statement = connection.prepare_cached(
            "SELECT t.call_id, t.voice_to_voice_ms FROM turns t JOIN calls c ON c.id = t.call_id \
             WHERE c.started_at >= ?1 AND c.started_at < ?2 AND t.voice_to_voice_ms IS NOT NULL",
        )?;
        let mut rows = statement.query(params![from, before])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let latency: i64 = row.get(1)?;
            if let Some(&i) = index.get(&id) {
                calls[i].latencies_ms.push(latency.max(0) as u64);
            }
        }
        Ok(calls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{CallFilter, CallQuery, CallStore, NewCall};

    #[test]
    fn a_caller_calling_again_within_seven_days_is_a_repeat_contact() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteCallStore::open(&dir.path().join("calls.sqlite")).unwrap();
        let day = 24 * 3_600_000;
        let call = |caller: Option<&str>, started_at: i64| {
            store
                .open_call(&NewCall {
                    leg_id: format!("leg-{started_at}"),
                    channel: "sip".into(),
                    caller: caller.map(str::to_string),
                    caller_unredacted: None,
                    started_at,
                })
                .unwrap()
        };
        let first = call(Some("h:alice"), 0);
        let again = call(Some("h:alice"), 2 * day);
        let much_later = call(Some("h:alice"), 20 * day);
        let bob = call(Some("h:bob"), day);
        let anonymous = call(None, day);
        let recent = call(Some("h:carol"), 29 * day);
        let now = 30 * day;
        let calls = store.kpi_calls(0, now, now).unwrap();
        let repeat = |id: i64| calls.iter().find(|c| c.id == id).unwrap().repeat_contact;
        assert_eq!(repeat(first), Some(true));
        assert_eq!(repeat(again), Some(false), "the next call is 18 days later");
        assert_eq!(repeat(much_later), Some(false));
        assert_eq!(repeat(bob), Some(false));
        assert_eq!(repeat(anonymous), None, "no number: unknown");
        assert_eq!(repeat(recent), None, "its 7 days have not passed");
        let listed = store
            .list_calls(&CallQuery {
                text: None,
                before_id: None,
                limit: 50,
                filter: CallFilter {
                    repeat_contact: true,
                    ..CallFilter::default()
                },
            })
            .unwrap();
        let ids: Vec<i64> = listed.iter().map(|c| c.id).collect();
        assert_eq!(ids, [first], "the call list's filter agrees");
    }
}
