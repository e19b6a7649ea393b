//! `/review/unanswered`: what callers asked that the bot had no confident answer for, grouped
//! and counted, most asked first (the store's grouping, the API's redaction for viewers), each
//! group linking to its calls. Admins and supervisors turn a group into an FAQ entry from
//! here ("add to FAQ", CSRF-checked and audited): the entry is checked as the engine checks
//! its FAQ, written into the `[dialogue] kb` file, and the engine is loaded again from it, so
//! the next caller who asks gets the answer.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::html::{PageError, escape, page, url_encode};
use super::reviewer::Reviewer;
use crate::call::CallServices;
use crate::dialogue::{FaqEntry, add_to_faq_file, faq_to_csv, parse_faq_csv};
use crate::lang::Lang;
use crate::store::{AuditAction, Role, UnansweredGroup};
use crate::web::api_unanswered::{DEFAULT_DAYS, unanswered_groups};

/// Groups shown at most.
const GROUPS_SHOWN: usize = 200;
/// Calls linked per group at most.
const CALLS_LINKED: usize = 5;

#[derive(Debug, Default, Deserialize)]
pub struct UnansweredParams {
    pub days: Option<i64>,
    /// The topic just added (for the confirmation line).
    pub added: Option<String>,
}

/// The "add to FAQ" form.
#[derive(Debug, Default, Deserialize)]
pub struct AddForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub topic: String,
    #[serde(default)]
    pub lang: String,
    #[serde(default)]
    pub question: String,
    /// Other ways of asking, separated by `|` or line breaks.
    #[serde(default)]
    pub alternatives: String,
    #[serde(default)]
    pub answer: String,
}

fn may_edit_faq(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Supervisor)
}

/// The entry the form describes, checked as the engine checks an FAQ file (id, language,
/// empty fields); a 400 naming the problem otherwise.
fn entry_of(form: &AddForm) -> Result<FaqEntry, PageError> {
    let lang: Lang = form.lang.trim().parse().map_err(|_| {
        PageError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "language `{}`: choose zh (Mandarin), yue (Cantonese) or en (English)",
                form.lang
            ),
        )
    })?;
    let alternatives = form
        .alternatives
        .split(['|', '\n'])
        .map(str::trim)
        .filter(|a| !a.is_empty() && *a != form.question.trim())
        .map(str::to_string)
        .collect();
    let draft = FaqEntry {
        id: form.topic.trim().to_string(),
        question: form.question.trim().to_string(),
        alt_questions: alternatives,
        answer: form.answer.trim().to_string(),
        lang,
    };
    // The same checks as a file: written out and read back.
    let mut checked = parse_faq_csv("the new FAQ entry", &faq_to_csv(&[draft]))
        .map_err(|e| PageError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    checked
        .pop()
        .ok_or_else(|| PageError::new(StatusCode::BAD_REQUEST, "the new FAQ entry is empty"))
}

/// A topic id suggested from a group's example: letters and digits of an English example,
/// else `new_topic`.
fn suggested_topic(example: &str) -> String {
    let words: Vec<String> = example
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.len() > 2)
        .take(4)
        .map(str::to_ascii_lowercase)
        .collect();
    if words.is_empty() {
        "new_topic".into()
    } else {
        words.join("_")
    }
}

fn add_form(group: &UnansweredGroup, csrf: &str) -> String {
    let lang = group.languages.first().map_or("zh", String::as_str);
    let options: String = Lang::ALL
        .iter()
        .map(|l| {
            let code = l.to_string();
            format!(
                "<option value=\"{code}\"{}>{code}</option>",
                if code == lang { " selected" } else { "" }
            )
        })
        .collect();
    let others: Vec<&str> = group
        .texts
        .iter()
        .map(String::as_str)
        .filter(|t| *t != group.example)
        .collect();
    format!(
        "<details class=\"add-faq\"><summary>Add to FAQ</summary>\
         <form method=\"post\" action=\"/review/unanswered/faq\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label>Topic id <input name=\"topic\" value=\"{topic}\" required></label>\
         <label>Language <select name=\"lang\">{options}</select></label>\
         <label>Question <input name=\"question\" value=\"{question}\" required></label>\
         <label>Other ways of asking (one per line) <textarea name=\"alternatives\" rows=\"3\">{others}</textarea></label>\
         <label>Answer (short, spoken) <textarea name=\"answer\" rows=\"3\" required></textarea></label>\
         <button type=\"submit\">Add to FAQ</button></form></details>",
        csrf = escape(csrf),
        topic = escape(&suggested_topic(&group.example)),
        question = escape(&group.example),
        others = escape(&others.join("\n")),
    )
}

fn group_row(group: &UnansweredGroup, form: Option<&str>) -> String {
    let calls: String = group
        .calls
        .iter()
        .take(CALLS_LINKED)
        .map(|id| format!("<a href=\"/review/calls/{id}\">#{id}</a>"))
        .collect::<Vec<_>>()
        .join(" ");
    let wordings: String = group
        .texts
        .iter()
        .map(|t| format!("<li>{}</li>", escape(t)))
        .collect();
    format!(
        "<tr><td class=\"n\">{count}</td><td>{langs}</td>\
         <td><ul class=\"wordings\">{wordings}</ul>{form}</td>\
         <td class=\"n\">{transfers}</td><td>{calls}</td></tr>",
        count = group.count,
        langs = escape(&group.languages.join(", ")),
        form = form.unwrap_or(""),
        transfers = group.transfers,
    )
}

/// `GET /review/unanswered?days=N`.
pub async fn show(
    reviewer: Reviewer,
    State(calls): State<Arc<CallServices>>,
    Query(params): Query<UnansweredParams>,
) -> Result<Response, PageError> {
    let days = params.days.unwrap_or(DEFAULT_DAYS).clamp(1, 3660);
    let viewer = reviewer.session.role == Role::Viewer;
    let archive = Arc::clone(&reviewer.archive);
    let groups = tokio::task::spawn_blocking(move || {
        unanswered_groups(&archive, days, GROUPS_SHOWN, viewer)
    })
    .await
    .map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    .map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let editable = may_edit_faq(reviewer.session.role);
    let faq_file = calls.engine.config.dialogue.kb.clone();
    let mut body = format!(
        "<h1>Unanswered questions</h1><form method=\"get\" class=\"filters\">\
         <label>Last <input name=\"days\" type=\"number\" min=\"1\" max=\"3660\" value=\"{days}\"> days</label>\
         <button type=\"submit\">Show</button></form>"
    );
    if let Some(topic) = params.added.as_deref().filter(|t| !t.is_empty()) {
        body.push_str(&format!(
            "<p class=\"notice\">Added <strong>{}</strong> to the FAQ: the next caller who asks gets the answer.</p>",
            escape(topic)
        ));
    }
    if editable && faq_file.is_none() {
        body.push_str(
            "<p class=\"notice\">The engine answers from the built-in demo FAQ: set \
             <code>[dialogue] kb</code> to your FAQ file (CSV or YAML) to add entries from here.</p>",
        );
    }
    if groups.is_empty() {
        body.push_str(&format!(
            "<p>No unanswered questions in the last {days} days.</p>"
        ));
    } else {
        let csrf = reviewer.session.csrf.clone();
        let rows: String = groups
            .iter()
            .map(|g| {
                let form = (editable && faq_file.is_some()).then(|| add_form(g, &csrf));
                group_row(g, form.as_deref())
            })
            .collect();
        body.push_str(&format!(
            "<table><thead><tr><th>Asked</th><th>Languages</th><th>Wordings</th>\
             <th>Then transferred</th><th>Calls</th></tr></thead><tbody>{rows}</tbody></table>"
        ));
    }
    Ok(page(
        StatusCode::OK,
        "Unanswered questions",
        Some(&reviewer.viewer()),
        &body,
    ))
}

/// `POST /review/unanswered/faq` (admins and supervisors, CSRF token): adds the entry to the
/// FAQ file and reloads the engine; audited.
pub async fn add(
    reviewer: Reviewer,
    State(calls): State<Arc<CallServices>>,
    Form(form): Form<AddForm>,
) -> Result<Response, PageError> {
    reviewer.check_csrf(&form.csrf)?;
    if !may_edit_faq(reviewer.session.role) {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "only admins and supervisors add to the FAQ",
        ));
    }
    let Some(faq_file) = calls.engine.config.dialogue.kb.clone() else {
        return Err(PageError::new(
            StatusCode::CONFLICT,
            "the engine answers from the built-in demo FAQ: set [dialogue] kb to your FAQ file \
             (CSV or YAML) to add entries from the review pages",
        ));
    };
    let entry = entry_of(&form)?;
    let topic = entry.id.clone();
    let detail = format!(
        "added FAQ entry {} ({}) to {}: {}",
        entry.id,
        entry.lang,
        faq_file.display(),
        entry.question
    );
    let engine = Arc::clone(&calls.engine);
    let archive = Arc::clone(&reviewer.archive);
    let actor = reviewer.session.user.clone();
    tokio::task::spawn_blocking(move || -> Result<(), PageError> {
        add_to_faq_file(&faq_file, vec![entry])
            .map_err(|e| PageError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
        archive
            .store
            .audit(
                archive.clock().now_ms(),
                &actor,
                AuditAction::FaqEdit,
                None,
                &detail,
            )
            .map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        engine.reload_dialogue().map_err(|e| {
            PageError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    "the entry was written to {} but the engine did not load it again ({e}); \
                     calls keep the FAQ they had until the next start",
                    faq_file.display()
                ),
            )
        })?;
        tracing::info!(%detail, "FAQ entry added from the review pages");
        Ok(())
    })
    .await
    .map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    Ok(Redirect::to(&format!("/review/unanswered?added={}", url_encode(&topic))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(topic: &str, lang: &str, question: &str, answer: &str) -> AddForm {
        AddForm {
            topic: topic.into(),
            lang: lang.into(),
            question: question.into(),
            alternatives: "他们收比特币吗 | 能用比特币付款吗\n\n收不收比特币".into(),
            answer: answer.into(),
            ..AddForm::default()
        }
    }

    #[test]
    fn the_form_becomes_an_entry_checked_like_a_file() {
        let entry = entry_of(&form("bitcoin", "zh", "收不收比特币", "我们不收比特币，")).unwrap();
        assert_eq!(entry.id, "bitcoin");
        assert_eq!(entry.lang, Lang::Zh);
        // The question itself is not repeated among the alternatives.
        assert_eq!(entry.alt_questions, ["他们收比特币吗", "能用比特币付款吗"]);
        for (bad, names) in [
            (form("bitcoin", "fr", "q", "a"), "language `fr`"),
            (form("bitcoin", "zh", "q", " "), "answer"),
            (form("", "zh", "q", "a"), "id"),
        ] {
            let error = entry_of(&bad).unwrap_err();
            assert_eq!(error.status, StatusCode::BAD_REQUEST);
            assert!(error.message.contains(names), "{}", error.message);
        }
    }

    #[test]
    fn topic_ids_are_suggested_from_english_words_only() {
        assert_eq!(suggested_topic("do you take bitcoin"), "you_take_bitcoin");
        assert_eq!(suggested_topic("收不收比特币"), "new_topic");
    }
}
