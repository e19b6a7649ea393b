//! `/review/calls/{id}`: one call, its waveform player (wavesurfer.js, vendored) over the
//! stereo recording (caller left, bot right): drawn at once from the recording's peaks
//! (`/review/calls/{id}/peaks`, `call_peaks`) and played by streaming the session-authenticated
//! `/review/calls/{id}/recording` (Range honoured, so seeking fetches only what it plays; each
//! listen audited) through an `<audio>`, never downloaded whole first. A finished call's page
//! carries its peaks and starts fetching its audio as it is read (so opening it is the listen
//! the audit log records); a running call's page fetches the peaks (`<link rel="preload">`)
//! and the audio only when played, and follows the call (`live_call`).
//! Beside it the transcript (`transcript`): caller and bot lines with their offsets (a click
//! seeks the player there), the FAQ id and confidence, the answer's latency, barge-ins.
//! Viewers see everything redacted (the API's rules); admins and supervisors may un-redact,
//! audited. The export archive and legal hold (admins, CSRF-checked) are here too.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::assets;
use super::call_peaks::peaks_json;
use super::dates::{date_time_of, minutes_seconds};
use super::html::{PageError, escape, page_with_head};
use super::live_call::{live_note, live_suggestions, live_without_script};
use super::reviewer::Reviewer;
use super::transcript::{handover_summary, transcript_items};
use crate::call::CallServices;
use crate::store::{AuditAction, CallDetail, CallOutcome, CallStore, Role};
use crate::web::api_calls::{call_as_seen_by, export_for, recording_for};

#[derive(Debug, Default, Deserialize)]
pub struct CallParams {
    /// `1`: the unredacted text (admins and supervisors, audited).
    pub unredacted: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct HoldForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub hold: String,
}

fn call_facts(detail: &CallDetail) -> String {
    let call = &detail.call;
    let mut facts = vec![
        ("Started (UTC)", date_time_of(call.started_at)),
        ("Channel", call.channel.clone()),
        ("Caller", call.caller.clone().unwrap_or_default()),
        ("Languages", call.languages.join(", ")),
        ("Outcome", call.outcome.as_str().to_string()),
        ("Barge-ins", call.barge_ins.to_string()),
        ("Recording", call.recording_status.as_str().to_string()),
    ];
    if let Some(end) = call.ended_at {
        facts.insert(1, ("Length", minutes_seconds(end - call.started_at)));
    }
    if let Some(reason) = &call.transfer_reason {
        facts.push(("Transfer reason", reason.clone()));
    }
    if let Some(csat) = call.csat {
        facts.push(("CSAT", csat.to_string()));
    }
    if let Some(sentiment) = &call.sentiment {
        facts.push(("Sentiment", sentiment.clone()));
    }
    if call.legal_hold {
        facts.push(("Legal hold", "yes".into()));
    }
    let items: String = facts
        .iter()
        .map(|(k, v)| format!("<dt>{}</dt><dd>{}</dd>", escape(k), escape(v)))
        .collect();
    format!("<dl class=\"facts\">{items}</dl>")
}

/// `GET /review/calls/{id}[?unredacted=1]`.
pub async fn show(
    reviewer: Reviewer,
    State(calls): State<Arc<CallServices>>,
    Path(id): Path<i64>,
    Query(params): Query<CallParams>,
) -> Result<Response, PageError> {
    let unredacted = params.unredacted.as_deref() == Some("1");
    let role = reviewer.session.role;
    let detail = call_as_seen_by(
        reviewer.archive.clone(),
        reviewer.principal(),
        id,
        unredacted,
    )
    .await?;
    let turns = transcript_items(&detail);
    let live = detail.call.outcome == CallOutcome::InProgress;
    let suggestions = if live {
        live_suggestions(&calls, &detail).await
    } else {
        String::new()
    };
    let mut actions = vec![format!(
        "<a href=\"/review/calls/{id}/export\" download>Export (audio, transcript, audit)</a>"
    )];
    if role.may_unredact() {
        actions.push(if unredacted {
            format!("<a href=\"/review/calls/{id}\">Hide personal data</a>")
        } else {
            format!("<a href=\"/review/calls/{id}?unredacted=1\">Show personal data (audited)</a>")
        });
    }
    if role == Role::Admin {
        let (hold, label) = if detail.call.legal_hold {
            ("0", "Release legal hold")
        } else {
            ("1", "Put on legal hold")
        };
        actions.push(format!(
            "<form method=\"post\" action=\"/review/calls/{id}/hold\" class=\"inline\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <input type=\"hidden\" name=\"hold\" value=\"{hold}\">\
             <button type=\"submit\">{label}</button></form>",
            escape(&reviewer.session.csrf)
        ));
    }
    let playable = detail.call.recording_ms.is_some()
        && matches!(
            detail.call.recording_status.as_str(),
            "complete" | "recovered" | "recording"
        );
    let player = if playable {
        // A finished call's page carries its peaks and starts fetching its audio at once, so
        // the player draws without another request and plays the moment it is asked (the
        // fetch is the listen the audit log records). A running call's page reloads every
        // few seconds: it fetches the peaks afresh and the audio only when played.
        let peaks = if live {
            None
        } else {
            inline_peaks(&reviewer, id).await
        };
        let (peaks, preload) = match peaks {
            Some(json) => (
                format!("<script type=\"application/json\" id=\"peaks-data\">{json}</script>"),
                "auto",
            ),
            None => (
                format!(
                    "<link rel=\"preload\" href=\"/review/calls/{id}/peaks\" as=\"fetch\" \
                     crossorigin=\"anonymous\">"
                ),
                if live { "none" } else { "auto" },
            ),
        };
        format!(
            "<section class=\"player\" id=\"player\" data-src=\"/review/calls/{id}/recording\" \
             data-peaks=\"/review/calls/{id}/peaks\">{peaks}\
             <audio id=\"audio\" preload=\"{preload}\" src=\"/review/calls/{id}/recording\"></audio>\
             <div id=\"waveform\" aria-label=\"recording: caller above, bot below\"></div>\
             <p class=\"controls\"><button type=\"button\" id=\"play\">Play</button> \
             <span id=\"time\">0:00.0</span> <span class=\"legend\">\
             <span class=\"key caller\">caller speech</span> <span class=\"key bot\">bot audio</span> \
             <span class=\"key barge\">barge-in</span></span></p></section>"
        )
    } else {
        format!(
            "<p class=\"empty\">No recording ({}).</p>",
            escape(detail.call.recording_status.as_str())
        )
    };
    let summary = handover_summary(&detail);
    let live_note = if live {
        live_note(id, unredacted)
    } else {
        String::new()
    };
    let body = format!(
        "<h1>Call #{id}</h1>{live_note}<p class=\"actions\">{actions}</p><div class=\"call\">\
         <div class=\"left\">{facts}<div id=\"summary\">{summary}</div>\
         <div id=\"suggestions\">{suggestions}</div>{player}</div>\
         <ol class=\"transcript\" id=\"transcript\" aria-label=\"transcript\">{turns}</ol></div>\
         <script src=\"{ws}\"></script><script src=\"{regions}\"></script>\
         <script src=\"{review}\"></script>",
        actions = actions.join(" "),
        facts = call_facts(&detail),
        ws = assets::WAVESURFER_URL,
        regions = assets::REGIONS_URL,
        review = assets::SCRIPT_URL,
    );
    let head = if live {
        live_without_script()
    } else {
        String::new()
    };
    Ok(page_with_head(
        StatusCode::OK,
        &format!("Call #{id}"),
        Some(&reviewer.viewer()),
        &head,
        &body,
    ))
}

/// A finished recording's peaks JSON for the page itself (numbers only, `</` escaped so it
/// cannot end the script element), or `None` when they cannot be read: the page then fetches
/// them and shows that request's error.
async fn inline_peaks(reviewer: &Reviewer, id: i64) -> Option<String> {
    let archive = Arc::clone(&reviewer.archive);
    let json = tokio::task::spawn_blocking(move || peaks_json(&archive, id))
        .await
        .ok()?
        .ok()?;
    Some(String::from_utf8_lossy(&json).replace("</", "<\\/"))
}

/// `GET /review/calls/{id}/recording`: the WAV, Range honoured, the listen audited.
pub async fn recording(
    reviewer: Reviewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    Ok(recording_for(
        reviewer.archive.clone(),
        reviewer.session.user.clone(),
        id,
        &headers,
    )
    .await?)
}

/// `GET /review/calls/{id}/export`: the archive (audited as a download).
pub async fn export(reviewer: Reviewer, Path(id): Path<i64>) -> Result<Response, PageError> {
    Ok(export_for(reviewer.archive.clone(), reviewer.principal(), id).await?)
}

/// `POST /review/calls/{id}/hold` (admins, CSRF token): legal hold on (`hold=1`) or off.
pub async fn hold(
    reviewer: Reviewer,
    Path(id): Path<i64>,
    Form(form): Form<HoldForm>,
) -> Result<Response, PageError> {
    reviewer.check_csrf(&form.csrf)?;
    if reviewer.session.role != Role::Admin {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "only admins put calls on legal hold",
        ));
    }
    let hold = form.hold == "1";
    let archive = reviewer.archive.clone();
    let actor = reviewer.session.user.clone();
    tokio::task::spawn_blocking(move || {
        let store = &archive.store;
        store.set_legal_hold(id, hold)?;
        store.audit(
            archive.clock().now_ms(),
            &actor,
            AuditAction::LegalHold,
            Some(id),
            if hold { "hold" } else { "release" },
        )
    })
    .await
    .map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    .map_err(|e| match e {
        crate::store::StoreError::NoSuchCall(id) => {
            PageError::new(StatusCode::NOT_FOUND, format!("no call {id}"))
        }
        other => {
            tracing::error!(error = %other, "legal hold from the review UI failed");
            PageError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the call store failed; see the server log",
            )
        }
    })?;
    Ok(Redirect::to(&format!("/review/calls/{id}")).into_response())
}
