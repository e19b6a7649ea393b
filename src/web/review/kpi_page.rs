//! `/review/kpis`: the KPI dashboard over a date range (default: the last 30 days), per day or
//! week and per language: calls, containment, transfer rate and reasons, answer latency
//! p50/p95 and slow answers, barge-in rate, CSAT. Every figure links to the call list filtered
//! to the calls behind it.

use std::sync::Arc;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::dates::{date_of, day_start_ms};
use super::html::{PageError, escape, page, url_encode};
use super::kpi_figures::{Figures, Period, RowKey, figures};
use super::reviewer::Reviewer;
use crate::store::SLOW_ANSWER_MS;

const DAY_MS: i64 = 86_400_000;
/// The range shown when none is asked for.
const DEFAULT_DAYS: i64 = 30;

#[derive(Debug, Default, Deserialize)]
pub struct KpiParams {
    /// `YYYY-MM-DD` (UTC), inclusive.
    pub from: Option<String>,
    /// `YYYY-MM-DD` (UTC), inclusive.
    pub to: Option<String>,
    /// `day` (default) or `week`.
    pub period: Option<String>,
}

/// The call list's link for `filters` (already `key=value` pairs, values encoded here).
fn list_link(filters: &[(&str, &str)], text: &str) -> String {
    let query: Vec<String> = filters
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect();
    format!(
        "<a href=\"/review?{}\">{}</a>",
        escape(&query.join("&")),
        escape(text)
    )
}

fn percent(share: Option<f64>) -> String {
    share
        .map(|s| format!("{:.0}%", s * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn row(from: &str, to: &str, language: &str, f: &Figures, label: &str) -> String {
    let base = [("from", from), ("to", to), ("lang", language)];
    let with = |extra: (&str, &str), text: &str| {
        let mut filters = base.to_vec();
        filters.push(extra);
        list_link(&filters, text)
    };
    let ms = |v: Option<u64>| v.map(|v| format!("{v} ms")).unwrap_or_else(|| "—".into());
    let csat = f
        .csat_average()
        .map(|a| format!("{a:.2} ({})", f.csat_count))
        .unwrap_or_else(|| "—".into());
    format!(
        "<tr><th scope=\"row\">{label}</th><td class=\"n\">{calls}</td><td class=\"n\">{contained}</td>\
         <td class=\"n\">{transferred}</td><td class=\"n\">{p50}</td><td class=\"n\">{p95}</td>\
         <td class=\"n\">{slow}</td><td class=\"n\">{barge}</td><td class=\"n\">{csat}</td>\
         <td class=\"n\">{fcr}</td></tr>",
        label = escape(label),
        calls = list_link(&base, &f.calls.to_string()),
        contained = with(
            ("outcome", "answered_by_bot"),
            &format!(
                "{} ({})",
                percent(f.share(f.answered_by_bot)),
                f.answered_by_bot
            )
        ),
        transferred = with(
            ("outcome", "transferred"),
            &format!("{} ({})", percent(f.share(f.transferred)), f.transferred)
        ),
        p50 = list_link(&base, &ms(f.latency_quantile(0.5))),
        p95 = with(("slow", "1"), &ms(f.latency_quantile(0.95))),
        slow = with(("slow", "1"), &f.slow_calls.to_string()),
        barge = with(
            ("barge", "1"),
            &format!(
                "{} ({})",
                percent(f.barge_in_rate()),
                f.calls_with_barge_ins
            )
        ),
        csat = with(("csat", "any"), &csat),
        fcr = with(
            ("repeat", "1"),
            &format!(
                "{} ({} of {})",
                percent(f.first_contact_resolution()),
                f.contact_known - f.repeat_contacts,
                f.contact_known
            )
        ),
    )
}

/// `GET /review/kpis?from=&to=&period=day|week`.
pub async fn show(
    reviewer: Reviewer,
    Query(params): Query<KpiParams>,
) -> Result<Response, PageError> {
    let bad = |what: &str| PageError::new(StatusCode::BAD_REQUEST, what.to_string());
    let period = match params.period.as_deref().unwrap_or("day") {
        "day" | "" => Period::Day,
        "week" => Period::Week,
        _ => return Err(bad("period: day or week")),
    };
    let today = reviewer.archive.clock().now_ms().div_euclid(DAY_MS) * DAY_MS;
    let date = |field: &Option<String>, name: &str, default: i64| -> Result<i64, PageError> {
        match field.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => {
                day_start_ms(d).ok_or_else(|| bad(&format!("{name}: not a YYYY-MM-DD date")))
            }
            None => Ok(default),
        }
    };
    let to = date(&params.to, "to", today)?;
    let from = date(&params.from, "from", to - (DEFAULT_DAYS - 1) * DAY_MS)?;
    if from > to {
        return Err(bad("from is after to"));
    }
    let store = Arc::clone(&reviewer.archive.store);
    let now = reviewer.archive.clock().now_ms();
    let calls = tokio::task::spawn_blocking(move || store.kpi_calls(from, to + DAY_MS, now))
        .await
        .map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(|e| {
            tracing::error!(error = %e, "review KPIs failed");
            PageError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the call store failed; see the server log",
            )
        })?;
    let (rows, total) = figures(&calls, period);
    let (from_date, to_date) = (date_of(from), date_of(to));
    let mut body_rows = row(&from_date, &to_date, "", &total, "All");
    for (
        RowKey {
            period_start,
            language,
        },
        f,
    ) in &rows
    {
        // A period's link covers its days inside the range.
        let start = (*period_start).max(from);
        let end = (*period_start + (period.days() - 1) * DAY_MS).min(to);
        let label = match (language, period) {
            (None, Period::Day) => date_of(*period_start),
            (None, Period::Week) => format!("week of {}", date_of(*period_start)),
            (Some(l), _) => format!("· {l}"),
        };
        let language = match language.as_deref() {
            Some("none") | None => "",
            Some(l) => l,
        };
        body_rows.push_str(&row(&date_of(start), &date_of(end), language, f, &label));
    }
    let reasons: String = total
        .reasons
        .iter()
        .map(|(reason, count)| {
            format!(
                "<tr><th scope=\"row\">{}</th><td class=\"n\">{}</td></tr>",
                escape(reason),
                list_link(
                    &[
                        ("from", &from_date),
                        ("to", &to_date),
                        ("outcome", "transferred"),
                        ("reason", reason)
                    ],
                    &count.to_string()
                )
            )
        })
        .collect();
    let reasons = if reasons.is_empty() {
        "<p class=\"empty\">No transfers.</p>".to_string()
    } else {
        format!(
            "<table class=\"calls kpis\"><thead><tr><th>Reason</th><th class=\"n\">Transfers</th></tr></thead><tbody>{reasons}</tbody></table>"
        )
    };
    let selected = |p: Period| if p == period { " selected" } else { "" };
    let body = format!(
        "<h1>KPIs</h1>\
         <form method=\"get\" action=\"/review/kpis\" class=\"filters\">\
         <label>From <input type=\"date\" name=\"from\" value=\"{from_date}\"></label>\
         <label>To <input type=\"date\" name=\"to\" value=\"{to_date}\"></label>\
         <label>Per <select name=\"period\"><option value=\"day\"{day}>day</option>\
         <option value=\"week\"{week}>week</option></select></label>\
         <button type=\"submit\">Show</button></form>\
         <p class=\"hint\">Shares are of finished calls. Containment: answered by the bot. \
         Answer time: the caller's last speech to the first audio of the answer; slow: over {slow_s} s. \
         Barge-in rate: interruptions per turn (calls with one in brackets). \
         First-contact resolution: calls after which the same caller did not call again within 7 days, \
         of the calls with a caller number whose 7 days have passed or that had a repeat (its link: the repeats). \
         Targets: first-contact resolution over 65%, transfers under 15%, answers under 3 s, CSAT over 4.5. \
         Languages: the caller's first. UTC days.</p>\
         <table class=\"calls kpis\"><thead><tr><th></th><th class=\"n\">Calls</th>\
         <th class=\"n\">Contained</th><th class=\"n\">Transferred</th><th class=\"n\">Answer p50</th>\
         <th class=\"n\">Answer p95</th><th class=\"n\">Slow</th><th class=\"n\">Barge-ins</th>\
         <th class=\"n\">CSAT</th><th class=\"n\">First-contact resolution</th></tr></thead>\
         <tbody>{body_rows}</tbody></table>\
         <h2>Transfer reasons</h2>{reasons}",
        day = selected(Period::Day),
        week = selected(Period::Week),
        slow_s = SLOW_ANSWER_MS / 1000,
    );
    Ok(page(
        StatusCode::OK,
        "KPIs",
        Some(&reviewer.viewer()),
        &body,
    ))
}
