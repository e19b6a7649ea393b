//! The store's schema and its migrations: `PRAGMA user_version` says which migrations a
//! database has had; each start applies the missing ones in order, in one transaction each, so
//! a database written by any earlier version opens.
//!
//! Version 1: calls, turns (with their unredacted text only when configured), the full-text
//! index over what was said (FTS5 `trigram` on Traditional/Simplified-folded text), review
//! users and API tokens, the append-only audit log (triggers refuse UPDATE and DELETE), and
//! the store's secrets (the key of caller hashes).
//!
//! Version 2: `call_grams`, the index of one- and two-character searches (FTS5 `unicode61`
//! over [`short_query_grams`] of what was said, `detail=none`), filled from `call_text`.
//!
//! Version 3: calls indexed by caller and start, for the KPIs' repeat contacts (first-contact
//! resolution).
//!
//! Version 4: locking people out: `users.disabled_at` (a disabled user neither logs in nor
//! acts through their tokens) and `api_tokens.revoked_at` (a revoked token is kept, listed as
//! revoked, and refused).

use rusqlite::{Connection, Transaction};

use super::call_store::StoreError;
use super::search_text::short_query_grams;

/// Rewrites stored data inside a migration's transaction.
type DataStep = fn(&Transaction<'_>) -> Result<(), StoreError>;

/// One step of the schema: SQL, then (when the data must be rewritten in ways SQL cannot say)
/// a function over the same transaction.
struct Migration {
    sql: &'static str,
    then: Option<DataStep>,
}

/// Migrations in order; `MIGRATIONS[n]` takes a database from version n to n + 1.
const MIGRATIONS: &[Migration] = &[
    Migration {
        sql: VERSION_1,
        then: None,
    },
    Migration {
        sql: VERSION_2,
        then: Some(fill_call_grams),
    },
    Migration {
        sql: VERSION_3,
        then: None,
    },
    Migration {
        sql: VERSION_4,
        then: None,
    },
    Migration {
        sql: VERSION_5,
        then: None,
    },
    Migration {
        sql: VERSION_6,
        then: None,
    },
];

/// The handover summary given to the human at a transfer (redacted like the turns).
const VERSION_6: &str = r#"
ALTER TABLE calls ADD COLUMN handover_summary TEXT;
"#;

/// What the caller and the agent said after a bridged transfer (transcribed per utterance).
const VERSION_5: &str = r#"
CREATE TABLE bridged_lines (
    id INTEGER PRIMARY KEY,
    call_id INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    speaker TEXT NOT NULL,
    text TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL
);
CREATE INDEX bridged_lines_of_call ON bridged_lines (call_id, start_ms);
"#;

const VERSION_4: &str = r#"
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
ALTER TABLE api_tokens ADD COLUMN revoked_at INTEGER;
"#;

const VERSION_3: &str = r#"
CREATE INDEX calls_by_caller ON calls (caller, started_at);
"#;

const VERSION_2: &str = r#"
CREATE VIRTUAL TABLE call_grams USING fts5 (body, tokenize = 'unicode61', detail = none);
"#;

/// Indexes what every stored call said for short searches (version 2).
fn fill_call_grams(transaction: &Transaction<'_>) -> Result<(), StoreError> {
    let mut read = transaction.prepare("SELECT rowid, body FROM call_text")?;
    let mut write = transaction.prepare("INSERT INTO call_grams (rowid, body) VALUES (?1, ?2)")?;
    let mut rows = read.query([])?;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let body: String = row.get(1)?;
        write.execute(rusqlite::params![id, short_query_grams(&body)])?;
    }
    Ok(())
}

const VERSION_1: &str = r#"
CREATE TABLE calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    leg_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    caller TEXT,
    caller_unredacted TEXT,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    languages TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL DEFAULT 'in_progress',
    ended_by TEXT,
    transfer_reason TEXT,
    csat INTEGER CHECK (csat BETWEEN 1 AND 5),
    sentiment TEXT,
    turn_count INTEGER NOT NULL DEFAULT 0,
    barge_ins INTEGER NOT NULL DEFAULT 0,
    recording_path TEXT,
    recording_status TEXT NOT NULL DEFAULT 'none',
    recording_ms INTEGER,
    legal_hold INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX calls_by_start ON calls (started_at DESC, id DESC);
CREATE INDEX calls_unfinished ON calls (outcome) WHERE outcome = 'in_progress';

CREATE TABLE turns (
    id INTEGER PRIMARY KEY,
    call_id INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    turn_index INTEGER NOT NULL,
    lang TEXT NOT NULL,
    caller_text TEXT NOT NULL,
    bot_text TEXT NOT NULL,
    bot_text_heard TEXT NOT NULL,
    caller_text_unredacted TEXT,
    bot_text_heard_unredacted TEXT,
    faq_id TEXT,
    faq_confidence REAL,
    outcome TEXT NOT NULL,
    speech_start_ms INTEGER NOT NULL,
    speech_end_ms INTEGER NOT NULL,
    end_of_turn_ms INTEGER NOT NULL,
    asr_final_ms INTEGER NOT NULL,
    first_sentence_ms INTEGER,
    first_audio_ms INTEGER,
    bot_audio_start_ms INTEGER,
    bot_audio_end_ms INTEGER,
    barge_in_onset_ms INTEGER,
    playback_stopped_ms INTEGER,
    voice_to_voice_ms INTEGER
);
CREATE INDEX turns_of_call ON turns (call_id, turn_index);
CREATE INDEX turns_by_faq ON turns (faq_id);

-- One row per call (rowid = calls.id): everything said in it, folded to Simplified.
CREATE VIRTUAL TABLE call_text USING fts5 (body, tokenize = 'trigram');

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'viewer')),
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    call_id INTEGER,
    detail TEXT NOT NULL,
    previous_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_of_call ON audit_log (call_id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE (ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE (ABORT, 'the audit log is append-only'); END;

CREATE TABLE store_secrets (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
"#;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Applies the migrations `connection`'s database lacks; refuses a database from a newer build.
pub fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let version: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found: version,
            known: SCHEMA_VERSION,
        });
    }
    for (from, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(migration.sql)?;
        if let Some(then) = migration.then {
            then(&transaction)?;
        }
        transaction.pragma_update(None, "user_version", from as i64 + 1)?;
        transaction.commit()?;
        tracing::info!(version = from + 1, "call store schema migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_newer_databases() {
        let mut connection = Connection::open_in_memory().unwrap();
        migrate(&mut connection).unwrap();
        migrate(&mut connection).unwrap();
        let version: i64 = connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        connection
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        assert!(matches!(
            migrate(&mut connection),
            Err(StoreError::NewerSchema { .. })
        ));
    }

    #[test]
    fn version_2_indexes_what_stored_calls_said_for_short_searches() {
        let mut connection = Connection::open_in_memory().unwrap();
        connection.execute_batch(VERSION_1).unwrap();
        connection.pragma_update(None, "user_version", 1).unwrap();
        connection
            .execute(
                "INSERT INTO call_text (rowid, body) VALUES (7, '你们的门店在哪里\nok thanks')",
                [],
            )
            .unwrap();
        migrate(&mut connection).unwrap();
        let found = |query: &str| -> Vec<i64> {
            let mut statement = connection
                .prepare("SELECT rowid FROM call_grams WHERE call_grams MATCH ?1")
                .unwrap();
            statement
                .query_map([query], |row| row.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(found("\"门店\""), [7]);
        assert_eq!(found("\"哪\""), [7]);
        assert_eq!(found("\"th\"*"), [7]);
        assert!(found("\"在门\"").is_empty(), "not neighbours");
    }
}
