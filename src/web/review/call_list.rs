//! `/review`: the call list, newest first, 50 a page, with the filters of [`CallFilter`] and
//! full-text search over what was said (the store's search: Traditional and Simplified folded,
//! one or two characters through LIKE). The filters live in the query string, so every view
//! (and every KPI figure) is a link. Viewers see the caller masked.

use std::sync::Arc;

use axum::extract::{Query, RawQuery};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::dates::{date_time_of, day_start_ms, minutes_seconds};
use super::html::{PageError, escape, page};
use super::reviewer::Reviewer;
use crate::store::{CallFilter, CallOutcome, CallQuery, CallRecord, CallStore, Role};
use crate::web::api_calls::redact_call_for_viewer;

/// Calls per page.
const PAGE_SIZE: usize = 50;

/// The list's query string; empty fields (as forms send them) mean "any".
#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    pub q: Option<String>,
    /// `YYYY-MM-DD` (UTC), inclusive.
    pub from: Option<String>,
    /// `YYYY-MM-DD` (UTC), inclusive.
    pub to: Option<String>,
    pub channel: Option<String>,
    pub lang: Option<String>,
    pub outcome: Option<String>,
    pub reason: Option<String>,
    pub faq: Option<String>,
    pub slow: Option<String>,
    /// `any` (a score given) or `1`-`4` (at most).
    pub csat: Option<String>,
    /// Only calls with a barge-in.
    pub barge: Option<String>,
    /// Only calls the same caller called again after within 7 days.
    pub repeat: Option<String>,
    /// `angry`, `negative`, `neutral` or `positive`.
    pub sentiment: Option<String>,
    /// Paging: calls older than this id.
    pub before: Option<i64>,
}

fn given(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

impl ListParams {
    /// The store query; a field that cannot be read is a 400 naming it.
    pub fn query(&self) -> Result<CallQuery, PageError> {
        let bad = |what: &str| PageError::new(StatusCode::BAD_REQUEST, what.to_string());
        let day = |field: &Option<String>, name: &str| -> Result<Option<i64>, PageError> {
            given(field)
                .map(|d| {
                    day_start_ms(&d).ok_or_else(|| bad(&format!("{name}: not a YYYY-MM-DD date")))
                })
                .transpose()
        };
        let outcome = given(&self.outcome)
            .map(|o| CallOutcome::from_name(&o).ok_or_else(|| bad("outcome: not an outcome")))
            .transpose()?;
        let (with_csat, csat_at_most) = match given(&self.csat).as_deref() {
            None => (false, None),
            Some("any") => (true, None),
            Some(n) => match n.parse::<u8>() {
                Ok(n @ 1..=5) => (false, Some(n)),
                _ => return Err(bad("csat: any or 1-5")),
            },
        };
        Ok(CallQuery {
            text: given(&self.q),
            before_id: self.before,
            limit: PAGE_SIZE,
            filter: CallFilter {
                started_from: day(&self.from, "from")?,
                started_before: day(&self.to, "to")?.map(|d| d + 86_400_000),
                channel: given(&self.channel),
                language: given(&self.lang),
                outcome,
                transfer_reason: given(&self.reason),
                faq_id: given(&self.faq),
                slow_answers: given(&self.slow).is_some(),
                csat_at_most,
                with_csat,
                with_barge_ins: given(&self.barge).is_some(),
                repeat_contact: given(&self.repeat).is_some(),
                sentiment: given(&self.sentiment),
            },
        })
    }
}

fn options(current: Option<&str>, choices: &[(&str, &str)]) -> String {
    choices
        .iter()
        .map(|(value, label)| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                escape(value),
                if current == Some(*value) {
                    " selected"
                } else {
                    ""
                },
                escape(label)
            )
        })
        .collect()
}

fn filter_form(p: &ListParams) -> String {
    let value = |v: &Option<String>| escape(&given(v).unwrap_or_default());
    let outcomes: Vec<(&str, &str)> = std::iter::once(("", "any outcome"))
        .chain(CallOutcome::ALL.iter().map(|o| (o.as_str(), o.as_str())))
        .collect();
    format!(
        "<form method=\"get\" action=\"/review\" class=\"filters\" role=\"search\">\
         <label class=\"wide\">Said in the call <input type=\"search\" name=\"q\" value=\"{q}\" placeholder=\"门店 / 門店 / delivery\"></label>\
         <label>From <input type=\"date\" name=\"from\" value=\"{from}\"></label>\
         <label>To <input type=\"date\" name=\"to\" value=\"{to}\"></label>\
         <label>Channel <select name=\"channel\">{channels}</select></label>\
         <label>Language <select name=\"lang\">{langs}</select></label>\
         <label>Outcome <select name=\"outcome\">{outcomes}</select></label>\
         <label>Transfer reason <input name=\"reason\" value=\"{reason}\" placeholder=\"caller_asked\"></label>\
         <label>FAQ id <input name=\"faq\" value=\"{faq}\"></label>\
         <label>CSAT <select name=\"csat\">{csat}</select></label>\
         <label>Sentiment <select name=\"sentiment\">{sentiment}</select></label>\
         <label class=\"check\"><input type=\"checkbox\" name=\"slow\" value=\"1\"{slow}> answers over 3 s</label>\
         <label class=\"check\"><input type=\"checkbox\" name=\"barge\" value=\"1\"{barge}> barge-ins</label>\
         <label class=\"check\"><input type=\"checkbox\" name=\"repeat\" value=\"1\"{repeat}> called again within 7 days</label>\
         <button type=\"submit\">Search</button> <a href=\"/review\">Clear</a></form>",
        q = value(&p.q),
        from = value(&p.from),
        to = value(&p.to),
        channels = options(
            given(&p.channel).as_deref().or(Some("")),
            &[
                ("", "any"),
                ("sip", "SIP"),
                ("media_stream", "media stream"),
                ("browser", "browser")
            ]
        ),
        langs = options(
            given(&p.lang).as_deref().or(Some("")),
            &[
                ("", "any"),
                ("yue", "Cantonese"),
                ("zh", "Mandarin"),
                ("en", "English")
            ]
        ),
        outcomes = options(given(&p.outcome).as_deref().or(Some("")), &outcomes),
        reason = value(&p.reason),
        faq = value(&p.faq),
        csat = options(
            given(&p.csat).as_deref().or(Some("")),
            &[
                ("", "any"),
                ("any", "given"),
                ("1", "≤ 1"),
                ("2", "≤ 2"),
                ("3", "≤ 3"),
                ("4", "≤ 4")
            ]
        ),
        sentiment = options(
            given(&p.sentiment).as_deref().or(Some("")),
            &[
                ("", "any"),
                ("angry", "angry"),
                ("negative", "negative"),
                ("neutral", "neutral"),
                ("positive", "positive")
            ]
        ),
        slow = if given(&p.slow).is_some() {
            " checked"
        } else {
            ""
        },
        barge = if given(&p.barge).is_some() {
            " checked"
        } else {
            ""
        },
        repeat = if given(&p.repeat).is_some() {
            " checked"
        } else {
            ""
        },
    )
}

fn row(call: &CallRecord) -> String {
    let duration = call
        .ended_at
        .map(|end| minutes_seconds(end - call.started_at))
        .unwrap_or_else(|| "—".into());
    let outcome = match &call.transfer_reason {
        Some(reason) => format!("{} ({})", call.outcome.as_str(), reason),
        None => call.outcome.as_str().to_string(),
    };
    format!(
        "<tr><td><a href=\"/review/calls/{id}\">#{id}</a></td><td>{started}</td><td>{duration}</td>\
         <td>{channel}</td><td>{langs}</td><td>{caller}</td><td>{outcome}</td><td>{turns}</td>\
         <td>{barge}</td><td>{csat}</td><td>{sentiment}</td></tr>",
        id = call.id,
        started = escape(&date_time_of(call.started_at)),
        channel = escape(&call.channel),
        langs = escape(&call.languages.join(", ")),
        caller = escape(call.caller.as_deref().unwrap_or("")),
        outcome = escape(&outcome),
        turns = call.turn_count,
        barge = call.barge_ins,
        csat = call.csat.map(|c| c.to_string()).unwrap_or_default(),
        sentiment = escape(call.sentiment.as_deref().unwrap_or("")),
    )
}

/// The query string without `before` (paging links add their own).
fn without_paging(raw: Option<&str>) -> String {
    raw.unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("before="))
        .collect::<Vec<_>>()
        .join("&")
}

/// `GET /review?...`.
pub async fn show(
    reviewer: Reviewer,
    Query(params): Query<ListParams>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let query = params.query()?;
    let store = Arc::clone(&reviewer.archive.store);
    let mut calls = tokio::task::spawn_blocking(move || store.list_calls(&query))
        .await
        .map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(|e| {
            tracing::error!(error = %e, "review call list failed");
            PageError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the call store failed; see the server log",
            )
        })?;
    if reviewer.session.role == Role::Viewer {
        calls.iter_mut().for_each(redact_call_for_viewer);
    }
    let kept = without_paging(raw.as_deref());
    let mut paging = String::new();
    if params.before.is_some() {
        paging.push_str(&format!(
            "<a href=\"/review?{}\">Newest</a> ",
            escape(&kept)
        ));
    }
    if calls.len() == PAGE_SIZE
        && let Some(last) = calls.last()
    {
        let sep = if kept.is_empty() { "" } else { "&" };
        paging.push_str(&format!(
            "<a href=\"/review?{}{sep}before={}\" rel=\"next\">Older →</a>",
            escape(&kept),
            last.id
        ));
    }
    let rows: String = calls.iter().map(row).collect();
    let table = if calls.is_empty() {
        "<p class=\"empty\">No calls match.</p>".to_string()
    } else {
        format!(
            "<table class=\"calls\"><thead><tr><th>Call</th><th>Started (UTC)</th><th>Length</th>\
             <th>Channel</th><th>Languages</th><th>Caller</th><th>Outcome</th><th>Turns</th>\
             <th>Barge-ins</th><th>CSAT</th><th>Sentiment</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    };
    let heading = match given(&params.q) {
        Some(q) => format!("Calls saying “{}”", escape(&q)),
        None => "Calls".to_string(),
    };
    Ok(page(
        StatusCode::OK,
        "Calls",
        Some(&reviewer.viewer()),
        &format!(
            "<h1>{heading}</h1>{}{table}<p class=\"paging\">{paging}</p>",
            filter_form(&params)
        ),
    ))
}
