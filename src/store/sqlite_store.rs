//! `SqliteCallStore`: the [`CallStore`] on one SQLite file (bundled SQLite, WAL, foreign keys
//! on). One connection writes (the store writer, the retention job), another reads (the API),
//! so a slow search never holds up a write and WAL lets both run at once.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params, params_from_iter};

use super::call_record::{
    BridgedLineEntry, CallDetail, CallOutcome, CallRecord, RecordingStatus, TurnEntry, TurnTimings,
    UnredactedTurn,
};
use super::call_store::{
    CallEnding, CallQuery, CallStore, ExpiredCall, LocalRecording, NewBridgedLine, NewCall,
    NewTurn, StoreError, UnfinishedCall,
};
use super::schema::migrate;
use super::search_text::{SearchPattern, SearchText, short_query_grams};

/// How long a statement waits for the other connection's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The call store on SQLite.
pub struct SqliteCallStore {
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
    search: SearchText,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteCallStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteCallStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

const CALL_COLUMNS: &str = "id, leg_id, channel, caller, started_at, ended_at, languages, outcome, \
     ended_by, transfer_reason, csat, sentiment, turn_count, barge_ins, recording_status, \
     recording_ms, legal_hold";

impl SqliteCallStore {
    /// Opens (creating it and its folder when missing) and migrates the store at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(|source| StoreError::Folder {
                path: folder.to_path_buf(),
                source,
            })?;
        }
        let mut writer = Connection::open(path)?;
        configure(&writer)?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        migrate(&mut writer)?;
        let reader = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&reader)?;
        Ok(Self {
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            search: SearchText::shared(),
            path: path.to_path_buf(),
        })
    }

    /// Where the database file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The writing connection (users, tokens and the audit log share it).
    pub(super) fn write_connection(&self) -> MutexGuard<'_, Connection> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The reading connection (the API, the review UI).
    pub(super) fn read_connection(&self) -> MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The folding used for the search index (the writer folds turns with it).
    pub fn search_text(&self) -> &SearchText {
        &self.search
    }
}

fn configure(connection: &Connection) -> Result<(), rusqlite::Error> {
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.pragma_update(None, "foreign_keys", true)?;
    // WAL with NORMAL: a killed process loses nothing committed; only a power cut can lose
    // the last transactions.
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

fn call_from_row(row: &Row<'_>) -> rusqlite::Result<CallRecord> {
    let outcome: String = row.get(7)?;
    let recording_status: String = row.get(14)?;
    let languages: String = row.get(6)?;
    let csat: Option<i64> = row.get(10)?;
    Ok(CallRecord {
        id: row.get(0)?,
        leg_id: row.get(1)?,
        channel: row.get(2)?,
        caller: row.get(3)?,
        started_at: row.get(4)?,
        ended_at: row.get(5)?,
        languages: languages
            .split(',')
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        outcome: CallOutcome::from_name(&outcome).unwrap_or(CallOutcome::Failed),
        ended_by: row.get(8)?,
        transfer_reason: row.get(9)?,
        csat: csat.and_then(|c| u8::try_from(c).ok()),
        sentiment: row.get(11)?,
        turn_count: row.get(12)?,
        barge_ins: row.get(13)?,
        recording_status: RecordingStatus::from_name(&recording_status)
            .unwrap_or(RecordingStatus::Failed),
        recording_ms: row.get(15)?,
        legal_hold: row.get(16)?,
    })
}

fn turn_from_row(row: &Row<'_>) -> rusqlite::Result<TurnEntry> {
    let ms = |i: usize| -> rusqlite::Result<Option<u64>> {
        Ok(row.get::<_, Option<i64>>(i)?.map(|v| v.max(0) as u64))
    };
    let required = |i: usize| -> rusqlite::Result<u64> { Ok(row.get::<_, i64>(i)?.max(0) as u64) };
    Ok(TurnEntry {
        index: row.get(0)?,
        lang: row.get(1)?,
        caller_text: row.get(2)?,
        bot_text: row.get(3)?,
        bot_text_heard: row.get(4)?,
        faq_id: row.get(5)?,
        faq_confidence: row.get::<_, Option<f64>>(6)?.map(|c| c as f32),
        outcome: row.get(7)?,
        timings: TurnTimings {
            speech_start_ms: required(8)?,
            speech_end_ms: required(9)?,
            end_of_turn_ms: required(10)?,
            asr_final_ms: required(11)?,
            first_sentence_ms: ms(12)?,
            first_audio_ms: ms(13)?,
            bot_audio_start_ms: ms(14)?,
            bot_audio_end_ms: ms(15)?,
            barge_in_onset_ms: ms(16)?,
            playback_stopped_ms: ms(17)?,
            voice_to_voice_ms: ms(18)?,
        },
    })
}

fn opt_ms(value: Option<u64>) -> Option<i64> {
    value.map(|v| v as i64)
}

impl CallStore for SqliteCallStore {
    fn open_call(&self, call: &NewCall) -> Result<i64, StoreError> {
        let connection = self.write_connection();
        connection.execute(
            "INSERT INTO calls (leg_id, channel, caller, caller_unredacted, started_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                call.leg_id,
                call.channel,
                call.caller,
                call.caller_unredacted,
                call.started_at
            ],
        )?;
        Ok(connection.last_insert_rowid())
    }

    fn add_turn(&self, id: i64, turn: &NewTurn) -> Result<(), StoreError> {
        let mut connection = self.write_connection();
        let transaction = connection.transaction()?;
        let entry = &turn.entry;
        let t = &entry.timings;
        transaction.execute(
            "INSERT INTO turns (call_id, turn_index, lang, caller_text, bot_text, bot_text_heard, \
             caller_text_unredacted, bot_text_heard_unredacted, faq_id, faq_confidence, outcome, \
             speech_start_ms, speech_end_ms, end_of_turn_ms, asr_final_ms, first_sentence_ms, \
             first_audio_ms, bot_audio_start_ms, bot_audio_end_ms, barge_in_onset_ms, \
             playback_stopped_ms, voice_to_voice_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
             ?18, ?19, ?20, ?21, ?22)",
            params![
                id,
                entry.index,
                entry.lang,
                entry.caller_text,
                entry.bot_text,
                entry.bot_text_heard,
                turn.unredacted.as_ref().map(|u| &u.caller_text),
                turn.unredacted.as_ref().map(|u| &u.bot_text_heard),
                entry.faq_id,
                entry.faq_confidence.map(f64::from),
                entry.outcome,
                t.speech_start_ms as i64,
                t.speech_end_ms as i64,
                t.end_of_turn_ms as i64,
                t.asr_final_ms as i64,
                opt_ms(t.first_sentence_ms),
                opt_ms(t.first_audio_ms),
                opt_ms(t.bot_audio_start_ms),
                opt_ms(t.bot_audio_end_ms),
                opt_ms(t.barge_in_onset_ms),
                opt_ms(t.playback_stopped_ms),
                opt_ms(t.voice_to_voice_ms),
            ],
        )?;
        transaction.execute(
            "UPDATE calls SET turn_count = turn_count + 1, \
             barge_ins = barge_ins + ?2 WHERE id = ?1",
            params![id, i64::from(t.barge_in_onset_ms.is_some())],
        )?;
        append_search_text(&transaction, id, &turn.search_text)?;
        transaction.commit()?;
        Ok(())
    }

    fn set_handover_summary(&self, id: i64, summary: &str) -> Result<(), StoreError> {
        self.write_connection().execute(
            "UPDATE calls SET handover_summary = ?2 WHERE id = ?1",
            params![id, summary],
        )?;
        Ok(())
    }

    fn add_bridged_line(&self, id: i64, line: &NewBridgedLine) -> Result<(), StoreError> {
        let mut connection = self.write_connection();
        let transaction = connection.transaction()?;
        let entry = &line.entry;
        transaction.execute(
            "INSERT INTO bridged_lines (call_id, speaker, text, start_ms, end_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                id,
                entry.speaker,
                entry.text,
                entry.start_ms as i64,
                entry.end_ms as i64
            ],
        )?;
        append_search_text(&transaction, id, &line.search_text)?;
        transaction.commit()?;
        Ok(())
    }

    fn close_call(&self, id: i64, ending: &CallEnding) -> Result<(), StoreError> {
        let connection = self.write_connection();
        let changed = connection.execute(
            "UPDATE calls SET ended_at = ?2, outcome = ?3, ended_by = ?4, transfer_reason = ?5, \
             languages = ?6, barge_ins = MAX(barge_ins, ?7), csat = COALESCE(?8, csat), \
             sentiment = COALESCE(?9, sentiment) WHERE id = ?1",
            params![
                id,
                ending.ended_at,
                ending.outcome.as_str(),
                ending.ended_by,
                ending.transfer_reason,
                ending.languages.join(","),
                ending.barge_ins,
                ending.csat,
                ending.sentiment,
            ],
        )?;
        if changed == 0 {
            return Err(StoreError::NoSuchCall(id));
        }
        Ok(())
    }

    fn set_recording(
        &self,
        id: i64,
        status: RecordingStatus,
        path: Option<&Path>,
        length_ms: Option<i64>,
    ) -> Result<(), StoreError> {
        let connection = self.write_connection();
        let path = path.map(|p| p.to_string_lossy().into_owned());
        connection.execute(
            "UPDATE calls SET recording_status = ?2, \
             recording_path = COALESCE(?3, recording_path), \
             recording_ms = COALESCE(?4, recording_ms) WHERE id = ?1",
            params![id, status.as_str(), path, length_ms],
        )?;
        Ok(())
    }

    fn list_calls(&self, query: &CallQuery) -> Result<Vec<CallRecord>, StoreError> {
        let limit = query.limit.clamp(1, 1000) as i64;
        let before = query.before_id.unwrap_or(i64::MAX);
        let pattern = query.text.as_deref().and_then(|t| self.search.pattern(t));
        let mut values = vec![SqlValue::Integer(before)];
        let text = match pattern {
            None => "",
            Some(SearchPattern::Match(phrase)) => {
                values.push(SqlValue::Text(phrase));
                " AND id IN (SELECT rowid FROM call_text WHERE call_text MATCH ?)"
            }
            Some(SearchPattern::Gram(gram)) => {
                values.push(SqlValue::Text(gram));
                " AND id IN (SELECT rowid FROM call_grams WHERE call_grams MATCH ?)"
            }
            Some(SearchPattern::Like(like)) => {
                values.push(SqlValue::Text(like));
                " AND id IN (SELECT rowid FROM call_text WHERE body LIKE ? ESCAPE '\\')"
            }
        };
        let (conditions, filter_values) = query.filter.sql();
        values.extend(filter_values);
        values.push(SqlValue::Integer(limit));
        let connection = self.read_connection();
        let mut statement = connection.prepare_cached(&format!(
            "SELECT {CALL_COLUMNS} FROM calls WHERE id < ?{text}{conditions} \
             ORDER BY started_at DESC, id DESC LIMIT ?"
        ))?;
        let calls = statement
            .query_map(params_from_iter(values), call_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(calls)
    }

    fn call_detail(&self, id: i64) -> Result<Option<CallDetail>, StoreError> {
        let connection = self.read_connection();
        let Some(call) = connection
            .query_row(
                &format!("SELECT {CALL_COLUMNS} FROM calls WHERE id = ?1"),
                [id],
                call_from_row,
            )
            .optional()?
        else {
            return Ok(None);
        };
        let mut statement = connection.prepare_cached(
            "SELECT turn_index, lang, caller_text, bot_text, bot_text_heard, faq_id, \
             faq_confidence, outcome, speech_start_ms, speech_end_ms, end_of_turn_ms, \
             asr_final_ms, first_sentence_ms, first_audio_ms, bot_audio_start_ms, \
             bot_audio_end_ms, barge_in_onset_ms, playback_stopped_ms, voice_to_voice_ms \
             FROM turns WHERE call_id = ?1 ORDER BY turn_index",
        )?;
        let turns = statement
            .query_map([id], turn_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        let mut statement = connection.prepare_cached(
            "SELECT speaker, text, start_ms, end_ms FROM bridged_lines \
             WHERE call_id = ?1 ORDER BY start_ms, id",
        )?;
        let after_transfer = statement
            .query_map([id], |row| {
                Ok(BridgedLineEntry {
                    speaker: row.get(0)?,
                    text: row.get(1)?,
                    start_ms: row.get::<_, i64>(2)?.max(0) as u64,
                    end_ms: row.get::<_, i64>(3)?.max(0) as u64,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let handover_summary: Option<String> = connection
            .query_row(
                "SELECT handover_summary FROM calls WHERE id = ?1",
                [id],
                |row| row.get(0),
            )
            .optional()?
            .flatten();
        Ok(Some(CallDetail {
            call,
            turns,
            after_transfer,
            handover_summary,
        }))
    }

    fn unredacted(&self, id: i64) -> Result<(Option<String>, Vec<UnredactedTurn>), StoreError> {
        let connection = self.read_connection();
        let caller: Option<String> = connection
            .query_row(
                "SELECT caller_unredacted FROM calls WHERE id = ?1",
                [id],
                |row| row.get(0),
            )
            .optional()?
            .flatten();
        let mut statement = connection.prepare_cached(
            "SELECT caller_text_unredacted, bot_text_heard_unredacted FROM turns \
             WHERE call_id = ?1 AND caller_text_unredacted IS NOT NULL ORDER BY turn_index",
        )?;
        let turns = statement
            .query_map([id], |row| {
                Ok(UnredactedTurn {
                    caller_text: row.get(0)?,
                    bot_text_heard: row.get::<_, Option<String>>(1)?.unwrap_or_default(),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok((caller, turns))
    }

    fn recording_path(&self, id: i64) -> Result<Option<PathBuf>, StoreError> {
        let connection = self.read_connection();
        let path: Option<String> = connection
            .query_row(
                "SELECT recording_path FROM calls WHERE id = ?1 \
                 AND recording_status IN ('recording', 'complete', 'recovered')",
                [id],
                |row| row.get(0),
            )
            .optional()?
            .flatten();
        Ok(path.map(PathBuf::from))
    }

    fn local_recordings_ended_before(
        &self,
        cutoff: i64,
        wav_only: bool,
    ) -> Result<Vec<LocalRecording>, StoreError> {
        let connection = self.read_connection();
        let mut statement = connection.prepare_cached(
            "SELECT id, recording_path, recording_status FROM calls \
             WHERE ended_at IS NOT NULL AND ended_at < ?1 \
             AND recording_status IN ('complete', 'recovered') \
             AND recording_path NOT LIKE '%://%' \
             AND (?2 = 0 OR lower(recording_path) LIKE '%.wav') ORDER BY id",
        )?;
        let calls = statement
            .query_map(params![cutoff, wav_only], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(calls
            .into_iter()
            .filter_map(|(id, path, status)| {
                Some(LocalRecording {
                    id,
                    path: PathBuf::from(path),
                    status: RecordingStatus::from_name(&status)?,
                })
            })
            .collect())
    }

    fn expired_calls(&self, cutoff: i64) -> Result<Vec<ExpiredCall>, StoreError> {
        let connection = self.write_connection();
        let mut statement = connection.prepare_cached(
            "SELECT id, leg_id, started_at, recording_path FROM calls \
             WHERE started_at < ?1 AND legal_hold = 0 AND outcome != 'in_progress' \
             ORDER BY started_at",
        )?;
        let calls = statement
            .query_map([cutoff], |row| {
                Ok(ExpiredCall {
                    id: row.get(0)?,
                    leg_id: row.get(1)?,
                    started_at: row.get(2)?,
                    recording_path: row.get::<_, Option<String>>(3)?.map(PathBuf::from),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(calls)
    }

    fn delete_call(&self, id: i64) -> Result<(), StoreError> {
        let mut connection = self.write_connection();
        let transaction = connection.transaction()?;
        transaction.execute("DELETE FROM call_text WHERE rowid = ?1", [id])?;
        transaction.execute("DELETE FROM call_grams WHERE rowid = ?1", [id])?;
        let deleted = transaction.execute("DELETE FROM calls WHERE id = ?1", [id])?;
        transaction.commit()?;
        if deleted == 0 {
            return Err(StoreError::NoSuchCall(id));
        }
        Ok(())
    }

    fn set_legal_hold(&self, id: i64, hold: bool) -> Result<(), StoreError> {
        let connection = self.write_connection();
        let changed = connection.execute(
            "UPDATE calls SET legal_hold = ?2 WHERE id = ?1",
            params![id, hold],
        )?;
        if changed == 0 {
            return Err(StoreError::NoSuchCall(id));
        }
        Ok(())
    }

    fn unanswered_turns(
        &self,
        since: i64,
        limit: usize,
    ) -> Result<Vec<super::unanswered::UnansweredTurn>, StoreError> {
        super::unanswered::unanswered_turns(&self.read_connection(), since, limit)
    }

    fn unfinished_calls(&self) -> Result<Vec<UnfinishedCall>, StoreError> {
        let connection = self.write_connection();
        let mut statement = connection.prepare_cached(
            "SELECT c.id, c.started_at, c.recording_path, \
             (SELECT MAX(COALESCE(t.bot_audio_end_ms, t.end_of_turn_ms)) FROM turns t \
              WHERE t.call_id = c.id), \
             (SELECT group_concat(DISTINCT t.lang) FROM turns t WHERE t.call_id = c.id) \
             FROM calls c WHERE c.outcome = 'in_progress'",
        )?;
        let calls = statement
            .query_map([], |row| {
                Ok(UnfinishedCall {
                    id: row.get(0)?,
                    started_at: row.get(1)?,
                    recording_path: row.get::<_, Option<String>>(2)?.map(PathBuf::from),
                    last_turn_end_ms: row.get::<_, Option<i64>>(3)?.map(|v| v.max(0) as u64),
                    languages: row
                        .get::<_, Option<String>>(4)?
                        .unwrap_or_default()
                        .split(',')
                        .filter(|l| !l.is_empty())
                        .map(str::to_string)
                        .collect(),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(calls)
    }
}

/// Grows call `id`'s search text (one FTS row per call, and its short-query grams) by `text`.
fn append_search_text(
    transaction: &rusqlite::Transaction<'_>,
    id: i64,
    text: &str,
) -> Result<(), StoreError> {
    let existing: Option<String> = transaction
        .query_row("SELECT body FROM call_text WHERE rowid = ?1", [id], |row| {
            row.get(0)
        })
        .optional()?;
    let body = match existing {
        Some(body) => {
            transaction.execute("DELETE FROM call_text WHERE rowid = ?1", [id])?;
            format!("{body}\n{text}")
        }
        None => text.to_string(),
    };
    transaction.execute("DELETE FROM call_grams WHERE rowid = ?1", [id])?;
    transaction.execute(
        "INSERT INTO call_grams (rowid, body) VALUES (?1, ?2)",
        params![id, short_query_grams(&body)],
    )?;
    transaction.execute(
        "INSERT INTO call_text (rowid, body) VALUES (?1, ?2)",
        params![id, body],
    )?;
    Ok(())
}
