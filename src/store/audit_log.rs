//! The audit log: who listened to, downloaded, un-redacted or deleted which call, when, and who
//! added, disabled or removed review users and created or revoked API tokens.
//! Append-only (the schema's triggers refuse UPDATE and DELETE) and chained: each entry's hash
//! covers the previous entry's hash, so an entry changed or removed behind SQLite's back shows
//! up in [`SqliteCallStore::verify_audit_chain`].

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::call_store::StoreError;
use super::sqlite_store::SqliteCallStore;

/// The hash before the first entry.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Listen,
    Download,
    Unredact,
    Delete,
    LegalHold,
    FaqEdit,
    /// Review users and API tokens (`hotline users`, `hotline tokens`): no call.
    UserAdd,
    UserDisable,
    UserEnable,
    UserRemove,
    TokenCreate,
    TokenRevoke,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Listen => "listen",
            AuditAction::Download => "download",
            AuditAction::Unredact => "unredact",
            AuditAction::Delete => "delete",
            AuditAction::LegalHold => "legal_hold",
            AuditAction::FaqEdit => "faq_edit",
            AuditAction::UserAdd => "user_add",
            AuditAction::UserDisable => "user_disable",
            AuditAction::UserEnable => "user_enable",
            AuditAction::UserRemove => "user_remove",
            AuditAction::TokenCreate => "token_create",
            AuditAction::TokenRevoke => "token_revoke",
        }
    }
}

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    /// Unix ms.
    pub at: i64,
    /// The user (or `retention` for the deletion job).
    pub actor: String,
    pub action: String,
    pub call_id: Option<i64>,
    pub detail: String,
    pub previous_hash: String,
    pub hash: String,
}

fn entry_hash(
    previous: &str,
    at: i64,
    actor: &str,
    action: &str,
    call_id: Option<i64>,
    detail: &str,
) -> String {
    let mut hasher = Sha256::new();
    for part in [
        previous,
        &at.to_string(),
        actor,
        action,
        &call_id.map_or(String::new(), |id| id.to_string()),
        detail,
    ] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn entry_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        id: row.get(0)?,
        at: row.get(1)?,
        actor: row.get(2)?,
        action: row.get(3)?,
        call_id: row.get(4)?,
        detail: row.get(5)?,
        previous_hash: row.get(6)?,
        hash: row.get(7)?,
    })
}

const ENTRY_COLUMNS: &str = "id, at, actor, action, call_id, detail, previous_hash, hash";

/// Appends an entry inside `transaction` (so a change and its entry commit together); its hash.
pub(super) fn append_audit(
    transaction: &rusqlite::Transaction<'_>,
    at: i64,
    actor: &str,
    action: AuditAction,
    call_id: Option<i64>,
    detail: &str,
) -> Result<String, StoreError> {
    let previous: String = transaction
        .query_row(
            "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1",
            [],
            |row| row.get(0),
        )
        .optional()?
        .unwrap_or_else(|| GENESIS.to_string());
    let hash = entry_hash(&previous, at, actor, action.as_str(), call_id, detail);
    transaction.execute(
        "INSERT INTO audit_log (at, actor, action, call_id, detail, previous_hash, hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![at, actor, action.as_str(), call_id, detail, previous, hash],
    )?;
    Ok(hash)
}

impl SqliteCallStore {
    /// Appends an entry at unix ms `at`; its hash.
    pub fn audit(
        &self,
        at: i64,
        actor: &str,
        action: AuditAction,
        call_id: Option<i64>,
        detail: &str,
    ) -> Result<String, StoreError> {
        let mut connection = self.write_connection();
        let transaction = connection.transaction()?;
        let hash = append_audit(&transaction, at, actor, action, call_id, detail)?;
        transaction.commit()?;
        Ok(hash)
    }

    /// The entries about no call (review users and API tokens), oldest first.
    pub fn audit_entries_without_call(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let connection = self.write_connection();
        let mut statement = connection.prepare(&format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE call_id IS NULL ORDER BY id"
        ))?;
        let entries = statement
            .query_map([], entry_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(entries)
    }

    /// The entries about call `call_id`, oldest first.
    pub fn audit_entries_of(&self, call_id: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let connection = self.write_connection();
        let mut statement = connection.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE call_id = ?1 ORDER BY id"
        ))?;
        let entries = statement
            .query_map([call_id], entry_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(entries)
    }

    /// Checks the whole chain; the id of the first entry that does not follow from the one
    /// before it, or None when the log is intact.
    pub fn verify_audit_chain(&self) -> Result<Option<i64>, StoreError> {
        let connection = self.write_connection();
        let mut statement = connection.prepare(&format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log ORDER BY id"
        ))?;
        let mut previous = GENESIS.to_string();
        for entry in statement.query_map([], entry_from_row)? {
            let entry = entry?;
            let expected = entry_hash(
                &previous,
                entry.at,
                &entry.actor,
                &entry.action,
                entry.call_id,
                &entry.detail,
            );
            if entry.previous_hash != previous || entry.hash != expected {
                return Ok(Some(entry.id));
            }
            previous = entry.hash;
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_chain_and_cannot_be_changed() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteCallStore::open(&dir.path().join("calls.sqlite")).unwrap();
        let first = store
            .audit(1, "alice", AuditAction::Listen, Some(7), "")
            .unwrap();
        store
            .audit(2, "bob", AuditAction::Download, Some(7), "export")
            .unwrap();
        let entries = store.audit_entries_of(7).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].previous_hash, first);
        assert_eq!(store.verify_audit_chain().unwrap(), None);
        let connection = store.write_connection();
        assert!(
            connection
                .execute("UPDATE audit_log SET actor = 'eve'", [])
                .is_err()
        );
        assert!(connection.execute("DELETE FROM audit_log", []).is_err());
        // Forged behind the triggers' back: the chain shows it.
        connection
            .execute_batch(
                "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'eve' WHERE id = 1;",
            )
            .unwrap();
        drop(connection);
        assert_eq!(store.verify_audit_chain().unwrap(), Some(1));
    }
}
