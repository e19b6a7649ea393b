//! Review sessions: a random id in an HttpOnly, SameSite=Strict cookie names a session kept in
//! memory on the server (user, role, its CSRF token, expiry). In memory rather than in the
//! store: a session is worth nothing after a restart (logging in again is cheap), the store's
//! single writer stays free for calls, and no session id ever reaches a backup of the
//! database. One engine per machine serves its own review pages, so nothing needs sharing.
//! Sessions end after [`IDLE`] without a request, [`LIFETIME`] after login, or at logout.
//! Also holds the failed-login throttle and the bound on concurrent password checks.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::login_throttle::LoginThrottle;
use crate::store::Role;

/// The session cookie.
pub const SESSION_COOKIE: &str = "hotline_review";
/// A session ends after this long without a request.
pub const IDLE: Duration = Duration::from_secs(30 * 60);
/// ... and this long after login, whatever.
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// Sessions kept at most (the oldest go first).
const MAX_SESSIONS: usize = 10_000;
/// Argon2 checks run at once at most: each takes tens of ms and 19 MiB.
const CONCURRENT_PASSWORD_CHECKS: usize = 2;

/// What a session knows of its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: String,
    pub role: Role,
    /// Sent back with every state-changing form (`csrf`).
    pub csrf: String,
    created: Instant,
    last_seen: Instant,
}

/// Why no random id could be made.
#[derive(Debug, thiserror::Error)]
#[error("no random numbers from the OS for a session id: {0}")]
pub struct NoRandom(String);

/// 32 random bytes as 64 hex digits.
pub fn random_token() -> Result<String, NoRandom> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| NoRandom(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Compares two tokens in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The live sessions, the login throttle and the password-check bound.
#[derive(Debug)]
pub struct ReviewSessions {
    sessions: Mutex<HashMap<String, Session>>,
    pub throttle: Mutex<LoginThrottle>,
    pub password_checks: Semaphore,
}

impl Default for ReviewSessions {
    fn default() -> Self {
        Self {
            sessions: Mutex::new(HashMap::new()),
            throttle: Mutex::new(LoginThrottle::default()),
            password_checks: Semaphore::new(CONCURRENT_PASSWORD_CHECKS),
        }
    }
}

fn expired(session: &Session, now: Instant) -> bool {
    now.saturating_duration_since(session.last_seen) >= IDLE
        || now.saturating_duration_since(session.created) >= LIFETIME
}

impl ReviewSessions {
    /// Starts a session for `user`: its id (for the cookie).
    pub fn create(&self, user: &str, role: Role, now: Instant) -> Result<String, NoRandom> {
        let id = random_token()?;
        let session = Session {
            user: user.to_string(),
            role,
            csrf: random_token()?,
            created: now,
            last_seen: now,
        };
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.retain(|_, s| !expired(s, now));
        if sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(id, _)| id.clone())
        {
            sessions.remove(&oldest);
        }
        sessions.insert(id.clone(), session);
        Ok(id)
    }

    /// The live session `id`, its idle timer restarted; None (and forgotten) when expired.
    pub fn get(&self, id: &str, now: Instant) -> Option<Session> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let session = sessions.get_mut(id)?;
        if expired(session, now) {
            sessions.remove(id);
            return None;
        }
        session.last_seen = now;
        Some(session.clone())
    }

    /// Ends session `id` (logout).
    pub fn remove(&self, id: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then_some(value.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_when_idle_and_after_their_lifetime() {
        let sessions = ReviewSessions::default();
        let t0 = Instant::now();
        let id = sessions.create("ada", Role::Admin, t0).unwrap();
        assert_eq!(id.len(), 64);
        let session = sessions.get(&id, t0 + IDLE / 2).unwrap();
        assert_eq!((session.user.as_str(), session.role), ("ada", Role::Admin));
        assert_ne!(session.csrf, id);
        // Kept alive by use, but not past its lifetime.
        let mut now = t0;
        while now < t0 + LIFETIME - IDLE {
            now += IDLE / 2;
            assert!(sessions.get(&id, now).is_some());
        }
        assert!(sessions.get(&id, t0 + LIFETIME).is_none());
        let other = sessions.create("vic", Role::Viewer, t0).unwrap();
        assert!(sessions.get(&other, t0 + IDLE).is_none(), "idle too long");
        let third = sessions.create("sue", Role::Supervisor, t0).unwrap();
        sessions.remove(&third);
        assert!(sessions.get(&third, t0).is_none());
        assert!(sessions.get("forged", t0).is_none());
    }

    #[test]
    fn cookies_and_tokens_are_read_strictly() {
        let header = "a=1; hotline_review=abc; hotline_review_x=no";
        assert_eq!(cookie_value(header, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie_value("hotline_reviewer=abc", SESSION_COOKIE), None);
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "ab"));
    }
}
