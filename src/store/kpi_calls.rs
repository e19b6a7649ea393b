//! What the KPI dashboard is computed from: per call in a date range, its first language,
//! outcome, transfer reason, turns, barge-ins, CSAT and every answer's latency, read in two
//! statements (calls, then their turns' latencies). The figures themselves are made by the
//! review UI, so the store stays a store.

use std::collections::HashMap;

use rusqlite::params;

use super::call_record::CallOutcome;
use super::call_store::StoreError;
use super::sqlite_store::SqliteCallStore;

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
    /// Caller's last speech → first audio of the answer, per answered turn (ms).
    pub latencies_ms: Vec<u64>,
}

impl SqliteCallStore {
    /// Calls started in `[from, before)` (Unix ms), oldest first.
    pub fn kpi_calls(&self, from: i64, before: i64) -> Result<Vec<KpiCall>, StoreError> {
        let connection = self.read_connection();
        let mut statement = connection.prepare_cached(
            "SELECT id, started_at, languages, outcome, transfer_reason, turn_count, barge_ins, \
             csat FROM calls WHERE started_at >= ?1 AND started_at < ?2 ORDER BY started_at, id",
        )?;
        let mut calls = statement
            .query_map(params![from, before], |row| {
                let languages: String = row.get(2)?;
                let outcome: String = row.get(3)?;
                let csat: Option<i64> = row.get(7)?;
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
                    latencies_ms: Vec::new(),
                })
            })?
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
