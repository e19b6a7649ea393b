//! `/review/login` and `/review/logout`. The login form is protected against login CSRF by a
//! random token both in a short-lived cookie and in the form (they must match); the password
//! is checked with argon2 off the async threads, at most two at once; a failed login is
//! answered after [`FAILED_LOGIN_DELAY`] and counted by the [`LoginThrottle`]
//! (`super::login_throttle`), which refuses a name after repeated failures. A successful
//! login starts a session (`super::sessions`) and sets its cookie.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::html::{PageError, escape, page};
use super::reviewer::{Reviewer, cookie, over_https, session_cookie};
use super::sessions::{
    LIFETIME, ReviewSessions, SESSION_COOKIE, cookie_value, random_token, same_token,
};
use crate::store::CallArchive;
use crate::web::WebState;

/// The login form's anti-CSRF cookie.
const LOGIN_COOKIE: &str = "hotline_review_login";
/// How long the login form stays usable.
const LOGIN_FORM_S: u64 = 3600;
/// A failed login is answered this late, so guessing is slow even across names.
pub const FAILED_LOGIN_DELAY: Duration = Duration::from_secs(1);

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub csrf: String,
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

fn login_page(status: StatusCode, token: &str, name: &str, message: Option<&str>) -> Response {
    let message = message
        .map(|m| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(m)))
        .unwrap_or_default();
    page(
        status,
        "Log in",
        None,
        &format!(
            "<h1>Log in</h1>{message}\
             <form method=\"post\" action=\"/review/login\" class=\"login\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{token}\">\
             <label>Name <input name=\"name\" autocomplete=\"username\" required value=\"{name}\"></label>\
             <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
             <button type=\"submit\">Log in</button></form>\
             <p class=\"hint\">Users are added with <code>hotline users add NAME --role admin|supervisor|viewer</code>.</p>",
            token = escape(token),
            name = escape(name),
        ),
    )
}

fn with_cookie(mut response: Response, value: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `GET /review/login`: the form (or the call list when already logged in).
pub async fn show(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let logged_in =
        session_cookie(&headers).is_some_and(|id| state.review.get(id, Instant::now()).is_some());
    if logged_in {
        return Redirect::to("/review").into_response();
    }
    let token = match random_token() {
        Ok(token) => token,
        Err(error) => {
            return PageError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
                .into_response();
        }
    };
    let response = login_page(StatusCode::OK, &token, "", None);
    with_cookie(
        response,
        &cookie(LOGIN_COOKIE, &token, LOGIN_FORM_S, over_https(&headers)),
    )
}

/// `POST /review/login`.
pub async fn submit(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let form_token = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| cookie_value(h, LOGIN_COOKIE))
        .unwrap_or("");
    if form.csrf.is_empty() || !same_token(&form.csrf, form_token) {
        return PageError::new(
            StatusCode::FORBIDDEN,
            "the login form's security token is missing or stale: open /review/login again",
        )
        .into_response();
    }
    let Some(archive) = state.archive.clone() else {
        return PageError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no call store: [store] enabled = false, or it could not be opened (see the log)",
        )
        .into_response();
    };
    let sessions = Arc::clone(&state.review);
    let name = form.name.trim().to_string();
    let refused = sessions
        .throttle
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .check(&name, Instant::now());
    if let Err(wait) = refused {
        tracing::warn!(user = %name, "review login refused: too many failed logins");
        let minutes = wait.as_secs().div_ceil(60);
        return login_page(
            StatusCode::TOO_MANY_REQUESTS,
            &form.csrf,
            &name,
            Some(&format!(
                "Too many failed logins for this name: try again in {minutes} min."
            )),
        );
    }
    match check_password(&sessions, archive, &name, form.password).await {
        Ok(Some(principal)) => {
            sessions
                .throttle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .succeeded(&name);
            let id = match sessions.create(&principal.user, principal.role, Instant::now()) {
                Ok(id) => id,
                Err(error) => {
                    return PageError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
                        .into_response();
                }
            };
            tracing::info!(user = %principal.user, role = principal.role.as_str(), "review login");
            let secure = over_https(&headers);
            let response = Redirect::to("/review").into_response();
            let response = with_cookie(
                response,
                &cookie(SESSION_COOKIE, &id, LIFETIME.as_secs(), secure),
            );
            with_cookie(response, &cookie(LOGIN_COOKIE, "", 0, secure))
        }
        Ok(None) => {
            sessions
                .throttle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .failed(&name, Instant::now());
            tracing::warn!(user = %name, "review login failed");
            tokio::time::sleep(FAILED_LOGIN_DELAY).await;
            login_page(
                StatusCode::UNAUTHORIZED,
                &form.csrf,
                &name,
                Some("Wrong name or password."),
            )
        }
        Err(error) => error.into_response(),
    }
}

async fn check_password(
    sessions: &ReviewSessions,
    archive: Arc<CallArchive>,
    name: &str,
    password: String,
) -> Result<Option<crate::store::Principal>, PageError> {
    let internal = |error: String| {
        tracing::error!(%error, "review login: the password could not be checked");
        PageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the password could not be checked; see the server log",
        )
    };
    let _permit = sessions
        .password_checks
        .acquire()
        .await
        .map_err(|e| internal(e.to_string()))?;
    let name = name.to_string();
    tokio::task::spawn_blocking(move || archive.store.check_password(&name, &password))
        .await
        .map_err(|e| internal(e.to_string()))?
        .map_err(|e| internal(e.to_string()))
}

/// `POST /review/logout` (with the session's CSRF token).
pub async fn logout(
    reviewer: Reviewer,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(refused) = reviewer.check_csrf(&form.csrf) {
        return refused.into_response();
    }
    reviewer.sessions.remove(&reviewer.session_id);
    tracing::info!(user = %reviewer.session.user, "review logout");
    with_cookie(
        Redirect::to("/review/login").into_response(),
        &cookie(SESSION_COOKIE, "", 0, over_https(&headers)),
    )
}
