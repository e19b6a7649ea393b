//! Locking people out: listing review users and API tokens (never a secret), revoking tokens,
//! disabling, enabling and removing users. Every change is written to the audit log in the
//! same transaction. Nothing is cached anywhere: `/api` and the review pages ask the store on
//! every request, so a revoked token or a disabled user is refused from the next request on,
//! even by a `hotline serve` already running.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::accounts::{AccountError, Role, token_digest};
use super::audit_log::{AuditAction, append_audit};
use super::call_store::StoreError;
use super::sqlite_store::SqliteCallStore;

/// A review user as `hotline users list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserSummary {
    pub name: String,
    pub role: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms; None while the user may log in.
    pub disabled_at: Option<i64>,
    /// Tokens not revoked.
    pub live_tokens: i64,
}

/// An API token as `hotline tokens list` shows it: its id and owner, never the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenSummary {
    pub id: i64,
    pub user: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms; None while the token works.
    pub revoked_at: Option<i64>,
}

/// Which tokens to revoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenTarget<'a> {
    /// The token with this id (`hotline tokens list`).
    Id(i64),
    /// Every token of this user.
    User(&'a str),
    /// The token itself (`hl_...`), as found in a leaked file.
    Secret(&'a str),
}

impl SqliteCallStore {
    /// Every review user, by name.
    pub fn list_users(&self) -> Result<Vec<UserSummary>, StoreError> {
        let connection = self.write_connection();
        let mut statement = connection.prepare(
            "SELECT u.name, u.role, u.created_at, u.disabled_at, \
             (SELECT COUNT(*) FROM api_tokens t WHERE t.user_id = u.id AND t.revoked_at IS NULL) \
             FROM users u ORDER BY u.name",
        )?;
        let users = statement
            .query_map([], |row| {
                Ok(UserSummary {
                    name: row.get(0)?,
                    role: row.get(1)?,
                    created_at: row.get(2)?,
                    disabled_at: row.get(3)?,
                    live_tokens: row.get(4)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(users)
    }

    /// Every API token, revoked ones included, oldest first.
    pub fn list_tokens(&self) -> Result<Vec<TokenSummary>, StoreError> {
        let connection = self.write_connection();
        let mut statement = connection.prepare(
            "SELECT t.id, u.name, t.created_at, t.revoked_at \
             FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id",
        )?;
        let tokens = statement
            .query_map([], |row| {
                Ok(TokenSummary {
                    id: row.get(0)?,
                    user: row.get(1)?,
                    created_at: row.get(2)?,
                    revoked_at: row.get(3)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(tokens)
    }

    /// Revokes the tokens `target` names that still work; their ids (empty when all were
    /// revoked already). Each is audited as `actor`.
    pub fn revoke_tokens(
        &self,
        target: TokenTarget<'_>,
        actor: &str,
        now_ms: i64,
    ) -> Result<Vec<i64>, AccountError> {
        let mut connection = self.write_connection();
        let transaction = connection.transaction()?;
        let matching: Vec<(i64, String, Option<i64>)> = {
            let (sql, key): (&str, rusqlite::types::Value) = match target {
                TokenTarget::Id(id) => ("t.id = ?1", id.into()),
                TokenTarget::User(name) => ("u.name = ?1", name.to_string().into()),
                TokenTarget::Secret(token) => ("t.token_sha256 = ?1", token_digest(token).into()),
            };
            let mut statement = transaction.prepare(&format!(
                "SELECT t.id, u.name, t.revoked_at FROM api_tokens t \
                 JOIN users u ON u.id = t.user_id WHERE {sql} ORDER BY t.id"
            ))?;
            statement
                .query_map([key], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
                .collect::<Result<_, _>>()?
        };
        if matching.is_empty() {
            return match target {
                TokenTarget::Id(id) => Err(AccountError::NoSuchToken(id)),
                TokenTarget::Secret(_) => Err(AccountError::UnknownToken),
                TokenTarget::User(name) => {
                    let user: Option<i64> = transaction
                        .query_row("SELECT id FROM users WHERE name = ?1", [name], |row| {
                            row.get(0)
                        })
                        .optional()?;
                    match user {
                        Some(_) => Ok(Vec::new()),
                        None => Err(AccountError::NoSuchUser(name.to_string())),
                    }
                }
            };
        }
        let mut revoked = Vec::new();
        for (id, user, _) in matching.iter().filter(|(_, _, at)| at.is_none()) {
            transaction.execute(
                "UPDATE api_tokens SET revoked_at = ?1 WHERE id = ?2",
                params![now_ms, id],
            )?;
            let detail = format!("token {id} of {user}");
            append_audit(
                &transaction,
                now_ms,
                actor,
                AuditAction::TokenRevoke,
                None,
                &detail,
            )?;
            revoked.push(*id);
        }
        transaction.commit()?;
        Ok(revoked)
    }

    /// Disables user `name` (`disabled` true) or enables them again: a disabled user cannot log
    /// in, their review sessions end and their tokens are refused (not revoked: enabling
    /// brings them back). Whether anything changed; audited as `actor` when it did.
    pub fn set_user_disabled(
        &self,
        name: &str,
        disabled: bool,
        actor: &str,
        now_ms: i64,
    ) -> Result<bool, AccountError> {
        let mut connection = self.write_connection();
        let transaction = connection.transaction()?;
        let found: Option<Option<i64>> = transaction
            .query_row(
                "SELECT disabled_at FROM users WHERE name = ?1",
                [name],
                |row| row.get(0),
            )
            .optional()?;
        let Some(disabled_at) = found else {
            return Err(AccountError::NoSuchUser(name.to_string()));
        };
        if disabled_at.is_some() == disabled {
            return Ok(false);
        }
        transaction.execute(
            "UPDATE users SET disabled_at = ?1 WHERE name = ?2",
            params![disabled.then_some(now_ms), name],
        )?;
        let action = if disabled {
            AuditAction::UserDisable
        } else {
            AuditAction::UserEnable
        };
        append_audit(
            &transaction,
            now_ms,
            actor,
            action,
            None,
            &format!("user {name}"),
        )?;
        transaction.commit()?;
        Ok(true)
    }

    /// Removes user `name` and their tokens for good (the audit log keeps what they did, by
    /// name); the role they had. Audited as `actor`.
    pub fn remove_user(&self, name: &str, actor: &str, now_ms: i64) -> Result<Role, AccountError> {
        let mut connection = self.write_connection();
        let transaction = connection.transaction()?;
        let found: Option<(i64, String)> = transaction
            .query_row(
                "SELECT id, role FROM users WHERE name = ?1",
                [name],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let Some((id, role)) = found else {
            return Err(AccountError::NoSuchUser(name.to_string()));
        };
        let tokens = transaction.execute("DELETE FROM api_tokens WHERE user_id = ?1", [id])?;
        transaction.execute("DELETE FROM users WHERE id = ?1", [id])?;
        let detail = format!("user {name} ({role}), {tokens} token(s) deleted");
        append_audit(
            &transaction,
            now_ms,
            actor,
            AuditAction::UserRemove,
            None,
            &detail,
        )?;
        transaction.commit()?;
        Ok(Role::from_name(&role).unwrap_or(Role::Viewer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with_users() -> (tempfile::TempDir, SqliteCallStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteCallStore::open(&dir.path().join("calls.sqlite")).unwrap();
        store
            .add_user("ada", Role::Admin, "pw", "cli:root", 1)
            .unwrap();
        store
            .add_user("sam", Role::Supervisor, "pw", "cli:root", 2)
            .unwrap();
        (dir, store)
    }

    fn actions(store: &SqliteCallStore) -> Vec<(String, String, String)> {
        store
            .audit_entries_without_call()
            .unwrap()
            .into_iter()
            .map(|e| (e.actor, e.action, e.detail))
            .collect()
    }

    #[test]
    fn a_revoked_token_is_refused_and_listed_without_its_secret() {
        let (_dir, store) = store_with_users();
        let first = store.create_token("sam", "cli:root", 3).unwrap();
        let second = store.create_token("sam", "cli:root", 4).unwrap();
        let ada = store.create_token("ada", "cli:root", 5).unwrap();
        let listed = store.list_tokens().unwrap();
        assert_eq!(listed.len(), 3);
        assert_eq!(
            (listed[0].user.as_str(), listed[0].revoked_at),
            ("sam", None)
        );
        let shown = format!("{listed:?}");
        for token in [&first, &second, &ada] {
            assert!(!shown.contains(&token[3..]), "no secret listed");
        }

        assert_eq!(
            store
                .revoke_tokens(TokenTarget::Id(listed[0].id), "cli:root", 10)
                .unwrap(),
            [listed[0].id]
        );
        assert_eq!(store.authenticate_token(&first).unwrap(), None);
        assert!(store.authenticate_token(&second).unwrap().is_some());
        // Again: nothing left to revoke, not an error.
        assert!(
            store
                .revoke_tokens(TokenTarget::Id(listed[0].id), "cli:root", 11)
                .unwrap()
                .is_empty()
        );
        // By its owner: the rest of sam's.
        assert_eq!(
            store
                .revoke_tokens(TokenTarget::User("sam"), "cli:root", 12)
                .unwrap(),
            [listed[1].id]
        );
        assert_eq!(store.authenticate_token(&second).unwrap(), None);
        // By the token itself.
        assert_eq!(
            store
                .revoke_tokens(TokenTarget::Secret(&ada), "cli:root", 13)
                .unwrap(),
            [listed[2].id]
        );
        assert_eq!(store.authenticate_token(&ada).unwrap(), None);
        assert_eq!(store.list_tokens().unwrap()[0].revoked_at, Some(10));

        assert!(matches!(
            store.revoke_tokens(TokenTarget::Id(99), "cli:root", 14),
            Err(AccountError::NoSuchToken(99))
        ));
        assert!(matches!(
            store.revoke_tokens(TokenTarget::User("nobody"), "cli:root", 14),
            Err(AccountError::NoSuchUser(_))
        ));
        assert!(matches!(
            store.revoke_tokens(TokenTarget::Secret("hl_forged"), "cli:root", 14),
            Err(AccountError::UnknownToken)
        ));
        let revocations: Vec<_> = actions(&store)
            .into_iter()
            .filter(|(_, action, _)| action == "token_revoke")
            .collect();
        assert_eq!(revocations.len(), 3, "{revocations:?}");
        assert_eq!(
            revocations[0],
            (
                "cli:root".to_string(),
                "token_revoke".to_string(),
                format!("token {} of sam", listed[0].id)
            )
        );
        assert_eq!(store.verify_audit_chain().unwrap(), None);
    }

    #[test]
    fn a_disabled_user_neither_logs_in_nor_acts_through_tokens_until_enabled() {
        let (_dir, store) = store_with_users();
        let token = store.create_token("sam", "cli:root", 3).unwrap();
        assert!(store.set_user_disabled("sam", true, "cli:root", 5).unwrap());
        assert!(!store.set_user_disabled("sam", true, "cli:root", 6).unwrap());
        assert_eq!(store.check_password("sam", "pw").unwrap(), None);
        assert_eq!(store.authenticate_token(&token).unwrap(), None);
        assert_eq!(store.active_role("sam").unwrap(), None);
        assert_eq!(store.active_role("ada").unwrap(), Some(Role::Admin));
        assert!(matches!(
            store.create_token("sam", "cli:root", 7),
            Err(AccountError::UserDisabled(_))
        ));
        let sam = &store.list_users().unwrap()[1];
        assert_eq!((sam.disabled_at, sam.live_tokens), (Some(5), 1));

        assert!(
            store
                .set_user_disabled("sam", false, "cli:root", 8)
                .unwrap()
        );
        assert!(store.check_password("sam", "pw").unwrap().is_some());
        assert!(store.authenticate_token(&token).unwrap().is_some());
        assert!(matches!(
            store.set_user_disabled("nobody", true, "cli:root", 9),
            Err(AccountError::NoSuchUser(_))
        ));
        let changes: Vec<String> = actions(&store).into_iter().map(|(_, a, _)| a).collect();
        assert_eq!(
            changes,
            [
                "user_add",
                "user_add",
                "token_create",
                "user_disable",
                "user_enable"
            ]
        );
    }

    #[test]
    fn a_removed_user_and_their_tokens_are_gone_but_their_audit_stays() {
        let (_dir, store) = store_with_users();
        let token = store.create_token("sam", "cli:root", 3).unwrap();
        store
            .audit(4, "sam", AuditAction::Listen, Some(1), "recording")
            .unwrap();
        assert_eq!(
            store.remove_user("sam", "cli:root", 5).unwrap(),
            Role::Supervisor
        );
        assert_eq!(store.authenticate_token(&token).unwrap(), None);
        assert_eq!(store.check_password("sam", "pw").unwrap(), None);
        assert_eq!(store.active_role("sam").unwrap(), None);
        assert!(store.list_tokens().unwrap().is_empty());
        let names: Vec<String> = store
            .list_users()
            .unwrap()
            .into_iter()
            .map(|u| u.name)
            .collect();
        assert_eq!(names, ["ada"]);
        assert_eq!(store.audit_entries_of(1).unwrap()[0].actor, "sam");
        assert_eq!(
            actions(&store).last().unwrap().2,
            "user sam (supervisor), 1 token(s) deleted"
        );
        assert!(matches!(
            store.remove_user("sam", "cli:root", 6),
            Err(AccountError::NoSuchUser(_))
        ));
        // The name may be given to someone new, who does not inherit anything.
        store
            .add_user("sam", Role::Viewer, "new", "cli:root", 7)
            .unwrap();
        assert_eq!(store.authenticate_token(&token).unwrap(), None);
        assert_eq!(store.verify_audit_chain().unwrap(), None);
    }
}
