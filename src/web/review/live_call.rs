//! A running call followed live in the review UI: the agent who took a transfer (or a
//! supervisor listening in) watches the bot's conversation, the hand-over summary, the
//! caller's words to the agent as ASR writes them, and the FAQ answers nearest to the caller's
//! latest words. `GET /review/calls/{id}/live` is a Server-Sent Events stream that sends the
//! page's live parts (`update`: JSON with the transcript's items, the summary and the
//! suggestions, as HTML rendered and escaped here) whenever they change, read from the store
//! every [`LIVE_POLL_MS`], and `ended` once the call is over (the page then reloads into the
//! finished call's page, with its player) or the reviewer may no longer see it (logged out,
//! disabled or removed: asked at every read, as every request asks). Without script the page reloads itself every
//! [`LIVE_REFRESH_S`] s instead.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::html::{PageError, escape};
use super::reviewer::Reviewer;
use super::transcript::{handover_summary, transcript_items};
use crate::call::CallServices;
use crate::lang::Lang;
use crate::store::{CallDetail, CallOutcome};
use crate::web::api_calls::{call_as_seen_by, call_followed_by};

/// How often a followed call is read from the store.
pub const LIVE_POLL_MS: u64 = 500;
/// How often the page of a running call reloads itself where script does not run.
pub const LIVE_REFRESH_S: u32 = 3;

/// The reload for browsers without script (inside `<noscript>`, so a page that follows the
/// call by its event stream is not reloaded under the agent's eyes).
pub fn live_without_script() -> String {
    format!("<noscript><meta http-equiv=\"refresh\" content=\"{LIVE_REFRESH_S}\"></noscript>")
}
/// FAQ answers suggested to the agent for the caller's latest words.
const SUGGESTIONS: usize = 3;

/// The line above a running call's page; `data-updates` is the event stream `review.js`
/// follows (with the page's un-redaction, which the stream checks and audits again).
pub fn live_note(id: i64, unredacted: bool) -> String {
    let query = if unredacted { "?unredacted=1" } else { "" };
    format!(
        "<p class=\"live\" id=\"live\" data-updates=\"/review/calls/{id}/live{query}\">Live: the \
         call is still running; this page follows it.</p>"
    )
}

/// The stream's query: the page's own.
#[derive(Debug, Default, Deserialize)]
pub struct FollowParams {
    /// `1`: the unredacted text (admins and supervisors, audited when the stream opens).
    pub unredacted: Option<String>,
}

/// `GET /review/calls/{id}/live[?unredacted=1]`: the event stream of a running call's page.
pub async fn updates(
    reviewer: Reviewer,
    State(calls): State<Arc<CallServices>>,
    Path(id): Path<i64>,
    Query(params): Query<FollowParams>,
) -> Result<Response, PageError> {
    let unredacted = params.unredacted.as_deref() == Some("1");
    let principal = reviewer.principal();
    // The first read checks the role (and audits an un-redaction) as the page did.
    let first =
        call_as_seen_by(reviewer.archive.clone(), principal.clone(), id, unredacted).await?;
    let follow = Follow {
        reviewer,
        calls,
        id,
        unredacted,
        next: Some(first),
        sent: None,
        suggested_for: None,
        suggestions: String::new(),
        over: false,
    };
    let stream = futures_util::stream::unfold(follow, |mut follow| async move {
        let event = follow.next_event().await?;
        Some((Ok::<_, Infallible>(event), follow))
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// One page following one call.
struct Follow {
    /// Asked again at every read: a reviewer logged out, disabled or removed stops following.
    reviewer: Reviewer,
    calls: Arc<CallServices>,
    id: i64,
    unredacted: bool,
    /// Read already, not yet looked at.
    next: Option<CallDetail>,
    /// The last update sent (its JSON).
    sent: Option<String>,
    /// The caller's words the suggestions were found for (the FAQ is searched again only
    /// when they change).
    suggested_for: Option<String>,
    suggestions: String,
    over: bool,
}

impl Follow {
    /// The next event: an update when the live parts changed, `ended` once the call is over
    /// (or gone); `None` after that, which ends the stream.
    async fn next_event(&mut self) -> Option<Event> {
        if self.over {
            return None;
        }
        loop {
            let detail = match self.next.take() {
                Some(detail) => detail,
                None => {
                    tokio::time::sleep(Duration::from_millis(LIVE_POLL_MS)).await;
                    if !self.reviewer.still_allowed().await {
                        self.over = true;
                        return Some(Event::default().event("ended").data("logged out"));
                    }
                    match call_followed_by(
                        self.reviewer.archive.clone(),
                        self.reviewer.principal(),
                        self.id,
                        self.unredacted,
                    )
                    .await
                    {
                        Ok(detail) => detail,
                        Err(error) => {
                            tracing::warn!(call = self.id, error = %error.message, "a followed call can no longer be read");
                            self.over = true;
                            return Some(Event::default().event("ended").data("gone"));
                        }
                    }
                }
            };
            if detail.call.outcome != CallOutcome::InProgress {
                self.over = true;
                return Some(Event::default().event("ended").data("over"));
            }
            let latest = latest_caller_words(&detail);
            if latest != self.suggested_for {
                self.suggestions = match &latest {
                    Some(words) => suggestions_for(&self.calls, &detail, words).await,
                    None => String::new(),
                };
                self.suggested_for = latest;
            }
            let update = serde_json::json!({
                "transcript": transcript_items(&detail),
                "summary": handover_summary(&detail),
                "suggestions": self.suggestions,
            })
            .to_string();
            if self.sent.as_deref() != Some(update.as_str()) {
                self.sent = Some(update.clone());
                return Some(Event::default().event("update").data(update));
            }
        }
    }
}

/// What the caller said last: to the agent after a bridged transfer, else to the bot.
fn latest_caller_words(detail: &CallDetail) -> Option<String> {
    detail
        .after_transfer
        .iter()
        .rev()
        .find(|line| line.speaker == "caller")
        .map(|line| line.text.clone())
        .or_else(|| {
            detail
                .turns
                .iter()
                .rev()
                .map(|t| t.caller_text.clone())
                .find(|t| !t.trim().is_empty())
        })
}

/// For a running call's page: the FAQ answers nearest to what the caller said last, for the
/// agent to read out or send.
pub async fn live_suggestions(calls: &Arc<CallServices>, detail: &CallDetail) -> String {
    match latest_caller_words(detail) {
        Some(latest) => suggestions_for(calls, detail, &latest).await,
        None => String::new(),
    }
}

async fn suggestions_for(calls: &Arc<CallServices>, detail: &CallDetail, latest: &str) -> String {
    let lang = detail
        .call
        .languages
        .last()
        .and_then(|l| l.parse::<Lang>().ok())
        .unwrap_or(calls.engine.config.call.default_lang);
    let dialogue = Arc::clone(&calls.engine.dialogue);
    let text = latest.to_string();
    let hits = tokio::task::spawn_blocking(move || dialogue.suggestions(&text, lang, SUGGESTIONS))
        .await
        .unwrap_or_default();
    if hits.is_empty() {
        return String::new();
    }
    let items: String = hits
        .iter()
        .map(|hit| {
            format!(
                "<li><b>{question}</b> <span class=\"meta\">{faq} · {score:.2}</span>\
                 <p>{answer}</p></li>",
                question = escape(&hit.matched_question),
                faq = escape(&hit.faq_id),
                score = hit.score,
                answer = escape(&hit.answer),
            )
        })
        .collect();
    format!(
        "<section class=\"suggestions\"><h2>Suggested answers</h2>\
         <p>for \u{201c}{}\u{201d}</p><ol>{items}</ol></section>",
        escape(latest)
    )
}
