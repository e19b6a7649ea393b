//! Review users and API tokens: users have a role (`admin`, `supervisor`, `viewer`) and an
//! argon2id password hash; API tokens are random, shown once, and stored only as their
//! SHA-256, so a copy of the database gives no working token. A disabled or removed user, and
//! a revoked token, are refused from the next request on (`account_admin.rs` locks them out).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::audit_log::{AuditAction, append_audit};
use super::call_store::StoreError;
use super::sqlite_store::SqliteCallStore;

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, personal data included (un-redacting is audited).
    Admin,
    /// Reviews calls; may un-redact (audited).
    Supervisor,
    /// Reviews calls; never sees unredacted personal data.
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Viewer => "viewer",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [Role::Admin, Role::Supervisor, Role::Viewer]
            .into_iter()
            .find(|r| r.as_str() == name)
    }

    /// Whether this role may see unredacted personal data.
    pub fn may_unredact(self) -> bool {
        matches!(self, Role::Admin | Role::Supervisor)
    }
}

/// Who made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: String,
    pub role: Role,
}

/// What managing users and tokens can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("user {0:?} already exists")]
    UserExists(String),
    #[error("no user {0:?}: add it first with `hotline users add {0} --role viewer`")]
    NoSuchUser(String),
    #[error("user {0:?} is disabled: enable it first with `hotline users enable {0}`")]
    UserDisabled(String),
    #[error("no API token {0}: `hotline tokens list` shows the ids")]
    NoSuchToken(i64),
    #[error(
        "that token is not one of this store's: `hotline tokens list` shows the ids to revoke by"
    )]
    UnknownToken,
    #[error("the password is empty: give it on standard input")]
    EmptyPassword,
    #[error("the user name must be 1-64 letters, digits, '.', '-' or '_'")]
    BadName,
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error("no random numbers from the OS: {0}")]
    Random(String),
}

impl From<rusqlite::Error> for AccountError {
    fn from(error: rusqlite::Error) -> Self {
        AccountError::Store(StoreError::Database(error))
    }
}

fn random_bytes<const N: usize>() -> Result<[u8; N], AccountError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| AccountError::Random(e.to_string()))?;
    Ok(bytes)
}

pub(super) fn token_digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl SqliteCallStore {
    /// Adds user `name` with `role`, its password hashed with argon2id; audited as `actor`.
    pub fn add_user(
        &self,
        name: &str,
        role: Role,
        password: &str,
        actor: &str,
        now_ms: i64,
    ) -> Result<(), AccountError> {
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            return Err(AccountError::BadName);
        }
        if password.is_empty() {
            return Err(AccountError::EmptyPassword);
        }
        let salt = SaltString::encode_b64(&random_bytes::<16>()?)
            .map_err(|e| AccountError::Hash(e.to_string()))?;
        let hash = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| AccountError::Hash(e.to_string()))?
            .to_string();
        let mut connection = self.write_connection();
        let transaction = connection.transaction()?;
        let inserted = transaction.execute(
            "INSERT OR IGNORE INTO users (name, role, password_hash, created_at) \
             VALUES (?1, ?2, ?3, ?4)",
            params![name, role.as_str(), hash, now_ms],
        )?;
        if inserted == 0 {
            return Err(AccountError::UserExists(name.to_string()));
        }
        let detail = format!("user {name} ({})", role.as_str());
        append_audit(
            &transaction,
            now_ms,
            actor,
            AuditAction::UserAdd,
            None,
            &detail,
        )?;
        transaction.commit()?;
        Ok(())
    }

    /// The user `name` if `password` is theirs (for the review UI's login).
    pub fn check_password(
        &self,
        name: &str,
        password: &str,
    ) -> Result<Option<Principal>, AccountError> {
        let connection = self.write_connection();
        let found: Option<(String, String)> = connection
            .query_row(
                "SELECT role, password_hash FROM users WHERE name = ?1 AND disabled_at IS NULL",
                [name],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        drop(connection);
        let Some((role, hash)) = found else {
            return Ok(None);
        };
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return Ok(None);
        };
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(matches
            .then(|| Role::from_name(&role))
            .flatten()
            .map(|role| Principal {
                user: name.to_string(),
                role,
            }))
    }

    /// A new API token acting as user `name`; shown once, only its digest is stored. Audited
    /// as `actor` with the token's id (never the token).
    pub fn create_token(
        &self,
        name: &str,
        actor: &str,
        now_ms: i64,
    ) -> Result<String, AccountError> {
        let bytes = random_bytes::<32>()?;
        let token: String = std::iter::once("hl_".to_string())
            .chain(bytes.iter().map(|b| format!("{b:02x}")))
            .collect();
        let mut connection = self.write_connection();
        let transaction = connection.transaction()?;
        let user: Option<(i64, Option<i64>)> = transaction
            .query_row(
                "SELECT id, disabled_at FROM users WHERE name = ?1",
                [name],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let user = match user {
            None => return Err(AccountError::NoSuchUser(name.to_string())),
            Some((_, Some(_))) => return Err(AccountError::UserDisabled(name.to_string())),
            Some((id, None)) => id,
        };
        transaction.execute(
            "INSERT INTO api_tokens (user_id, token_sha256, created_at) VALUES (?1, ?2, ?3)",
            params![user, token_digest(&token), now_ms],
        )?;
        let detail = format!("token {} of {name}", transaction.last_insert_rowid());
        append_audit(
            &transaction,
            now_ms,
            actor,
            AuditAction::TokenCreate,
            None,
            &detail,
        )?;
        transaction.commit()?;
        Ok(token)
    }

    /// Who `token` acts as, if it is a token of this store.
    pub fn authenticate_token(&self, token: &str) -> Result<Option<Principal>, StoreError> {
        let connection = self.write_connection();
        let found: Option<(String, String)> = connection
            .query_row(
                "SELECT u.name, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id \
                 WHERE t.token_sha256 = ?1 AND t.revoked_at IS NULL AND u.disabled_at IS NULL",
                [token_digest(token)],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        Ok(found.and_then(|(user, role)| {
            Some(Principal {
                user,
                role: Role::from_name(&role)?,
            })
        }))
    }

    /// The role of user `name` while they may still act: None once removed or disabled (the
    /// review pages ask on every request, so a locked-out reviewer's session ends at once).
    pub fn active_role(&self, name: &str) -> Result<Option<Role>, StoreError> {
        let connection = self.write_connection();
        let role: Option<String> = connection
            .query_row(
                "SELECT role FROM users WHERE name = ?1 AND disabled_at IS NULL",
                [name],
                |row| row.get(0),
            )
            .optional()?;
        Ok(role.as_deref().and_then(Role::from_name))
    }

    /// The secret `name` (created with 32 random bytes the first time).
    pub fn secret(&self, name: &str) -> Result<Vec<u8>, AccountError> {
        let connection = self.write_connection();
        let existing: Option<Vec<u8>> = connection
            .query_row(
                "SELECT value FROM store_secrets WHERE name = ?1",
                [name],
                |row| row.get(0),
            )
            .optional()?;
        if let Some(value) = existing {
            return Ok(value);
        }
        let value = random_bytes::<32>()?.to_vec();
        connection.execute(
            "INSERT INTO store_secrets (name, value) VALUES (?1, ?2)",
            params![name, value],
        )?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_log_in_and_tokens_act_as_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteCallStore::open(&dir.path().join("calls.sqlite")).unwrap();
        store
            .add_user("vera", Role::Viewer, "s3cret", "test", 0)
            .unwrap();
        assert!(matches!(
            store.add_user("vera", Role::Admin, "x", "test", 0),
            Err(AccountError::UserExists(_))
        ));
        assert!(matches!(
            store.add_user("bad name", Role::Admin, "x", "test", 0),
            Err(AccountError::BadName)
        ));
        assert_eq!(
            store
                .check_password("vera", "s3cret")
                .unwrap()
                .map(|p| p.role),
            Some(Role::Viewer)
        );
        assert_eq!(store.check_password("vera", "wrong").unwrap(), None);
        let token = store.create_token("vera", "test", 0).unwrap();
        assert_eq!(
            store.authenticate_token(&token).unwrap().map(|p| p.user),
            Some("vera".to_string())
        );
        assert_eq!(store.authenticate_token("hl_forged").unwrap(), None);
        assert!(matches!(
            store.create_token("nobody", "test", 0),
            Err(AccountError::NoSuchUser(_))
        ));
        let stored: String = store
            .write_connection()
            .query_row("SELECT token_sha256 FROM api_tokens", [], |row| row.get(0))
            .unwrap();
        assert!(!stored.contains(&token[3..]));
        assert_eq!(store.secret("k").unwrap(), store.secret("k").unwrap());
    }
}
