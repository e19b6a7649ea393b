//! `GET /api/unanswered?days=N&limit=N`: the questions callers asked that the bot had no
//! confident FAQ answer for, grouped by likeness and counted, most asked first (see
//! `store::unanswered`), for whoever grows the FAQ. Viewers get the texts through the PII
//! scanner once more, as in the call API.

use std::sync::Arc;

use axum::Json;
use axum::extract::Query;
use serde::Deserialize;

use super::api_auth::{ApiError, ApiUser};
use crate::dialogue::redact_for_storage;
use crate::store::{CallArchive, CallStore, Role, StoreError, UnansweredGroup, group_unanswered};

/// Days looked back when `days` is not given.
pub const DEFAULT_DAYS: i64 = 7;
/// Unanswered turns read at most (newest first).
const DEFAULT_TURNS: usize = 5000;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, Deserialize)]
pub struct UnansweredParams {
    pub days: Option<i64>,
    /// Groups returned at most.
    pub limit: Option<usize>,
}

pub async fn unanswered(
    user: ApiUser,
    Query(params): Query<UnansweredParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let archive = Arc::clone(&user.archive);
    let days = params.days.unwrap_or(DEFAULT_DAYS).clamp(1, 3660);
    let limit = params.limit.unwrap_or(100).clamp(1, 1000);
    let viewer = user.principal.role == Role::Viewer;
    let groups =
        tokio::task::spawn_blocking(move || unanswered_groups(&archive, days, limit, viewer))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?;
    Ok(Json(serde_json::json!({ "days": days, "groups": groups })))
}

/// The unanswered questions of the last `days` days, grouped, most asked first, at most
/// `limit` groups; `redacted` (viewers): the texts through the PII scanner once more. Blocks
/// on the store: call it off the async runtime. Shared with the review UI's page.
pub fn unanswered_groups(
    archive: &CallArchive,
    days: i64,
    limit: usize,
    redacted: bool,
) -> Result<Vec<UnansweredGroup>, StoreError> {
    let since = archive.clock().now_ms() - days * DAY_MS;
    let store = &archive.store;
    let turns = store.unanswered_turns(since, DEFAULT_TURNS)?;
    let search = store.search_text();
    let mut groups = group_unanswered(&turns, |text| search.fold(text));
    groups.truncate(limit);
    if redacted {
        for group in &mut groups {
            group.example = redact_for_storage(&group.example, true).into_owned();
            for text in &mut group.texts {
                *text = redact_for_storage(text, true).into_owned();
            }
        }
    }
    Ok(groups)
}
