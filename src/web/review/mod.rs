//! The review web UI at `/review`, served by hotline itself (no CDN, nothing external at run
//! time): log in (argon2 passwords from `hotline users add`, an in-memory session behind an
//! HttpOnly SameSite=Strict cookie, a CSRF token on every state-changing form, failed logins
//! slowed and throttled), the call list with filters and full-text search, the call page with
//! the waveform player (drawn from the recording's peaks, `call_peaks`, the audio streamed)
//! and the transcript, the KPI dashboard, the unanswered questions and
//! "add to FAQ" from them (admins and supervisors, audited). Roles are enforced here on the
//! server: viewers get what the JSON API gives them (redacted), admins alone set legal hold.
//! Every page is server-rendered HTML with every stored string escaped (`html`).

mod assets;
mod call_list;
mod call_page;
mod call_peaks;
mod dates;
mod html;
mod kpi_figures;
mod kpi_page;
mod live_call;
mod login_page;
mod login_throttle;
mod reviewer;
mod sessions;
mod transcript;
mod unanswered_page;

use axum::Router;
use axum::response::Redirect;
use axum::routing::{get, post};

pub use dates::date_time_of;
pub use sessions::ReviewSessions;

use super::WebState;

/// The `/review` routes.
pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/review", get(call_list::show))
        .route("/review/", get(|| async { Redirect::to("/review") }))
        .route(
            "/review/login",
            get(login_page::show).post(login_page::submit),
        )
        .route("/review/logout", post(login_page::logout))
        .route("/review/calls/{id}", get(call_page::show))
        .route("/review/calls/{id}/recording", get(call_page::recording))
        .route("/review/calls/{id}/peaks", get(call_peaks::peaks))
        .route("/review/calls/{id}/live", get(live_call::updates))
        .route("/review/calls/{id}/export", get(call_page::export))
        .route("/review/calls/{id}/hold", post(call_page::hold))
        .route("/review/kpis", get(kpi_page::show))
        .route("/review/unanswered", get(unanswered_page::show))
        .route("/review/unanswered/faq", post(unanswered_page::add))
        .route("/review/assets/{version}/{file}", get(assets::asset))
}
