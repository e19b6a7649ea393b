//! `/review/calls/{id}`: one call, its waveform player (wavesurfer.js, vendored) over the
//! stereo recording (caller left, bot right): drawn at once from the recording's peaks
//! (`/review/calls/{id}/peaks`, `call_peaks`) and played by streaming the session-authenticated
//! `/review/calls/{id}/recording` (Range honoured, so seeking fetches only what it plays; each
//! listen audited) through an `<audio>`, never downloaded whole first. A finished call's page
//! carries its peaks and starts fetching its audio as it is read (so opening it is the listen
//! the audit log records); a running call's page, which reloads itself, fetches the peaks
//! (`<link rel="preload">`) and the audio only when played.
//! Beside it the transcript: caller and bot lines with their offsets (a click seeks the
//! player there), the FAQ id and confidence, the answer's latency, barge-ins (drawn on the
//! waveform by `review.js` from the `data-` attributes written here: numbers only, no caller
//! text).
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
use super::reviewer::Reviewer;
use crate::call::CallServices;
use crate::lang::Lang;
use crate::store::{
    AuditAction, BridgedLineEntry, CallDetail, CallOutcome, CallStore, Role, SLOW_ANSWER_MS,
    TurnEntry,
};
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

/// Seconds with ms precision, for `data-` attributes and seeking.
fn seconds(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

fn clock(ms: u64) -> String {
    minutes_seconds(i64::try_from(ms).unwrap_or(i64::MAX))
}

/// A line of the conversation with the agent after a bridged transfer: click to hear it.
fn bridged_line_item(line: &BridgedLineEntry) -> String {
    let who = if line.speaker == "agent" {
        "Agent"
    } else {
        "Caller (to the agent)"
    };
    format!(
        "<li class=\"turn after-transfer {speaker}\"><button type=\"button\" class=\"seek {speaker}\" \
         data-seek=\"{at}\"><span class=\"at\">{clock}</span> <span class=\"who\">{who}</span> \
         <span class=\"text\">{text}</span></button></li>",
        speaker = if line.speaker == "agent" {
            "agent"
        } else {
            "caller"
        },
        at = seconds(line.start_ms),
        clock = clock(line.start_ms),
        text = escape(&line.text),
    )
}

fn turn_item(turn: &TurnEntry) -> String {
    let t = &turn.timings;
    let mut data = format!(
        " data-caller-start=\"{}\" data-caller-end=\"{}\"",
        seconds(t.speech_start_ms),
        seconds(t.speech_end_ms.max(t.speech_start_ms))
    );
    if let Some(start) = t.bot_audio_start_ms {
        data.push_str(&format!(" data-bot-start=\"{}\"", seconds(start)));
        let end = t
            .playback_stopped_ms
            .or(t.bot_audio_end_ms)
            .unwrap_or(start);
        data.push_str(&format!(" data-bot-end=\"{}\"", seconds(end.max(start))));
    }
    if let Some(onset) = t.barge_in_onset_ms {
        data.push_str(&format!(" data-barge=\"{}\"", seconds(onset)));
    }
    let caller = format!(
        "<button type=\"button\" class=\"seek caller\" data-seek=\"{at}\">\
         <span class=\"at\">{clock}</span> <span class=\"who\">Caller ({lang})</span> \
         <span class=\"text\">{text}</span></button>",
        at = seconds(t.speech_start_ms),
        clock = clock(t.speech_start_ms),
        lang = escape(&turn.lang),
        text = escape(&turn.caller_text),
    );
    let bot_at = t.bot_audio_start_ms.or(t.first_audio_ms);
    let heard = if turn.bot_text_heard.is_empty() {
        &turn.bot_text
    } else {
        &turn.bot_text_heard
    };
    let cut = if t.barge_in_onset_ms.is_some() && turn.bot_text_heard != turn.bot_text {
        format!(
            " <details class=\"unheard\"><summary>cut by the caller</summary>{}</details>",
            escape(&turn.bot_text)
        )
    } else {
        String::new()
    };
    let bot = match bot_at {
        Some(at) => format!(
            "<button type=\"button\" class=\"seek bot\" data-seek=\"{}\">\
             <span class=\"at\">{}</span> <span class=\"who\">Bot</span> \
             <span class=\"text\">{}</span></button>{cut}",
            seconds(at),
            clock(at),
            escape(heard)
        ),
        None if !heard.is_empty() => format!(
            "<p class=\"bot\"><span class=\"who\">Bot</span> <span class=\"text\">{}</span></p>{cut}",
            escape(heard)
        ),
        None => String::new(),
    };
    let mut meta = Vec::new();
    if let Some(faq) = &turn.faq_id {
        let confidence = turn
            .faq_confidence
            .map(|c| format!(" · {c:.2}"))
            .unwrap_or_default();
        meta.push(format!(
            "FAQ <a href=\"/review?faq={}\">{}</a>{confidence}",
            super::html::url_encode(faq),
            escape(faq)
        ));
    }
    if let Some(latency) = t.voice_to_voice_ms {
        let slow = if latency as i64 > SLOW_ANSWER_MS {
            " slow"
        } else {
            ""
        };
        meta.push(format!(
            "<span class=\"latency{slow}\">answer {latency} ms</span>"
        ));
    }
    if let Some(onset) = t.barge_in_onset_ms {
        meta.push(format!(
            "<span class=\"barge\">barge-in at {}</span>",
            clock(onset)
        ));
    }
    meta.push(escape(&turn.outcome));
    format!(
        "<li class=\"turn\" id=\"turn-{index}\"{data}>{caller}{bot}<p class=\"meta\">{meta}</p></li>",
        index = turn.index,
        meta = meta.join(" · "),
    )
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
    let mut turns: String = detail.turns.iter().map(turn_item).collect();
    turns.extend(detail.after_transfer.iter().map(bridged_line_item));
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
    let summary = match &detail.handover_summary {
        Some(summary) => format!(
            "<section class=\"handover\"><h2>Handover summary</h2><p>{}</p></section>",
            escape(summary)
        ),
        None => String::new(),
    };
    let live_note = if live {
        format!(
            "<p class=\"live\">Live: the call is still running; this page refreshes every \
             {LIVE_REFRESH_S} s.</p>"
        )
    } else {
        String::new()
    };
    let body = format!(
        "<h1>Call #{id}</h1>{live_note}<p class=\"actions\">{actions}</p><div class=\"call\">\
         <div class=\"left\">{facts}{summary}{suggestions}{player}</div>\
         <ol class=\"transcript\" aria-label=\"transcript\">{turns}</ol></div>\
         <script src=\"{ws}\"></script><script src=\"{regions}\"></script>\
         <script src=\"{review}\"></script>",
        actions = actions.join(" "),
        facts = call_facts(&detail),
        ws = assets::WAVESURFER_URL,
        regions = assets::REGIONS_URL,
        review = assets::SCRIPT_URL,
    );
    let head = if live {
        format!("<meta http-equiv=\"refresh\" content=\"{LIVE_REFRESH_S}\">")
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

/// How often the page of a running call reloads itself (no script needed).
const LIVE_REFRESH_S: u32 = 3;
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

/// FAQ answers suggested to the agent for the caller's latest words.
const SUGGESTIONS: usize = 3;

/// For a running call: the FAQ answers nearest to what the caller said last (to the agent
/// after a bridged transfer, else to the bot), for the agent to read out or send.
async fn live_suggestions(calls: &Arc<CallServices>, detail: &CallDetail) -> String {
    let latest = detail
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
        });
    let Some(latest) = latest else {
        return String::new();
    };
    let lang = detail
        .call
        .languages
        .last()
        .and_then(|l| l.parse::<Lang>().ok())
        .unwrap_or(calls.engine.config.call.default_lang);
    let dialogue = Arc::clone(&calls.engine.dialogue);
    let text = latest.clone();
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
        escape(&latest)
    )
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
