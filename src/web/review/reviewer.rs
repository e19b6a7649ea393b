//! Who is asking for a review page: the [`Reviewer`] extractor reads the session cookie and
//! finds its live session and asks the store whether its user may still act (not disabled or
//! removed since they logged in: `hotline users disable|remove` ends their session at its next
//! request); anonymous requests (no cookie, unknown or expired session, user locked out) are
//! sent to the login page. Also the CSRF check every state-changing review request makes.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::html::{PageError, Viewer};
use super::sessions::{ReviewSessions, SESSION_COOKIE, Session, cookie_value, same_token};
use crate::store::{CallArchive, Principal};
use crate::web::WebState;

/// A logged-in reviewer, with the store the pages read.
pub struct Reviewer {
    pub session_id: String,
    pub session: Session,
    pub archive: Arc<CallArchive>,
    pub sessions: Arc<ReviewSessions>,
}

impl Reviewer {
    /// Whether this reviewer may still act (the session neither ended nor expired, the user
    /// neither disabled, removed nor given another role): asked again by a response that
    /// lasts (a followed call's event stream), as every request asks it.
    pub async fn still_allowed(&self) -> bool {
        if self
            .sessions
            .get(&self.session_id, Instant::now())
            .is_none()
        {
            return false;
        }
        let store = Arc::clone(&self.archive.store);
        let user = self.session.user.clone();
        let role = tokio::task::spawn_blocking(move || store.active_role(&user)).await;
        matches!(role, Ok(Ok(Some(role))) if role == self.session.role)
    }

    pub fn principal(&self) -> Principal {
        Principal {
            user: self.session.user.clone(),
            role: self.session.role,
        }
    }

    /// For the page frame.
    pub fn viewer(&self) -> Viewer<'_> {
        Viewer {
            user: &self.session.user,
            role: self.session.role.as_str(),
            csrf: &self.session.csrf,
        }
    }

    /// Refuses a state-changing request whose form does not carry this session's CSRF token.
    pub fn check_csrf(&self, sent: &str) -> Result<(), PageError> {
        if sent.is_empty() || !same_token(sent, &self.session.csrf) {
            return Err(PageError::new(
                StatusCode::FORBIDDEN,
                "the form's security token is missing or stale: reload the page and try again",
            ));
        }
        Ok(())
    }
}

/// The session cookie's value in `headers`, if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| cookie_value(h, SESSION_COOKIE))
}

/// Whether the request reached us over HTTPS (through a proxy that says so): cookies get
/// `Secure` then.
pub fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value for the review pages: HttpOnly, SameSite=Strict, Path=/review.
pub fn cookie(name: &str, value: &str, max_age_s: u64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/review; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The store could not say who may act: logged, answered 500 without detail.
fn store_failed(error: impl std::fmt::Display) -> Response {
    tracing::error!(%error, "checking a review session's user failed");
    PageError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the call store failed; see the server log",
    )
    .into_response()
}

impl FromRequestParts<WebState> for Reviewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let Some(archive) = state.archive.clone() else {
            return Err(PageError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "no call store: [store] enabled = false, or it could not be opened (see the log)",
            )
            .into_response());
        };
        let sessions = Arc::clone(&state.review);
        let found = session_cookie(&parts.headers).and_then(|id| {
            sessions
                .get(id, Instant::now())
                .map(|s| (id.to_string(), s))
        });
        let Some((session_id, session)) = found else {
            return Err(Redirect::to("/review/login").into_response());
        };
        let store = Arc::clone(&archive.store);
        let user = session.user.clone();
        let role = tokio::task::spawn_blocking(move || store.active_role(&user)).await;
        match role {
            Ok(Ok(Some(role))) if role == session.role => Ok(Reviewer {
                session_id,
                session,
                archive,
                sessions,
            }),
            Ok(Ok(_)) => {
                tracing::info!(
                    user = %session.user,
                    "review session ended: the user was disabled, removed or given another role"
                );
                sessions.remove(&session_id);
                Err(Redirect::to("/review/login").into_response())
            }
            Ok(Err(error)) => Err(store_failed(error)),
            Err(error) => Err(store_failed(error)),
        }
    }
}
