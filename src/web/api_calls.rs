//! The call store's JSON API (`/api/calls`), for scripts and the review UI: the call list and
//! search, one call with its turns, its recording (Range requests honoured) and its export
//! archive. Personal data: what is stored is already redacted per `[store]`; viewers'
//! answers are redacted once more (caller masked, transcripts through the PII scanner) so
//! they never carry personal data whatever the config; admins and supervisors may ask for
//! the unredacted text (`?unredacted=true`), which is audited, as is every listen and download.

use std::io::{Seek, SeekFrom};
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use serde::Deserialize;

use super::api_auth::{ApiError, ApiUser};
use super::byte_range::{ByteRange, byte_range};
use crate::dialogue::redact_for_storage;
use crate::store::{
    AuditAction, CallArchive, CallDetail, CallQuery, CallRecord, CallStore, ExportedRecording,
    OPUS_EXTENSION, Principal, Role, block_on, is_object, mask_caller, write_call_archive,
};

/// Calls listed when `limit` is not given.
const DEFAULT_LIMIT: usize = 50;

#[derive(Debug, Deserialize)]
pub struct ListParams {
    /// Words said in the call, any script.
    pub q: Option<String>,
    pub limit: Option<usize>,
    /// Paging: calls older than this id.
    pub before: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct DetailParams {
    #[serde(default)]
    pub unredacted: bool,
}

#[derive(Debug, Deserialize)]
pub struct HoldBody {
    pub hold: bool,
}

/// Runs a blocking store operation off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(ApiError::internal)?
}

pub fn redact_call_for_viewer(call: &mut CallRecord) {
    if let Some(caller) = &mut call.caller
        && !caller.starts_with("hash:")
    {
        *caller = mask_caller(caller);
    }
}

fn not_found(id: i64) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, format!("no call {id}"))
}

/// `GET /api/calls?q=TEXT&limit=N&before=ID`: newest first.
pub async fn list_calls(
    user: ApiUser,
    Query(params): Query<ListParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = Arc::clone(&user.archive.store);
    let query = CallQuery {
        text: params.q.filter(|q| !q.trim().is_empty()),
        before_id: params.before,
        limit: params.limit.unwrap_or(DEFAULT_LIMIT),
        filter: Default::default(),
    };
    let mut calls = blocking(move || store.list_calls(&query).map_err(ApiError::internal)).await?;
    if user.principal.role == Role::Viewer {
        calls.iter_mut().for_each(redact_call_for_viewer);
    }
    Ok(Json(serde_json::json!({ "calls": calls })))
}

/// `GET /api/calls/{id}[?unredacted=true]`: the call with its turns.
pub async fn call_detail(
    user: ApiUser,
    Path(id): Path<i64>,
    Query(params): Query<DetailParams>,
) -> Result<Json<CallDetail>, ApiError> {
    call_as_seen_by(user.archive, user.principal, id, params.unredacted)
        .await
        .map(Json)
}

/// Call `id` with its turns as `principal` may see it: viewers get it redacted once more
/// (never personal data), admins and supervisors may ask for the unredacted text (audited).
/// Shared by the API and the review UI.
pub async fn call_as_seen_by(
    archive: Arc<CallArchive>,
    principal: Principal,
    id: i64,
    unredacted: bool,
) -> Result<CallDetail, ApiError> {
    seen_by(archive, principal, id, unredacted, true).await
}

/// [`call_as_seen_by`] read again by a page that follows a running call: the same rules, the
/// un-redaction not audited again (it was when the page began following).
pub async fn call_followed_by(
    archive: Arc<CallArchive>,
    principal: Principal,
    id: i64,
    unredacted: bool,
) -> Result<CallDetail, ApiError> {
    seen_by(archive, principal, id, unredacted, false).await
}

async fn seen_by(
    archive: Arc<CallArchive>,
    principal: Principal,
    id: i64,
    unredacted: bool,
    audit: bool,
) -> Result<CallDetail, ApiError> {
    let role = principal.role;
    if unredacted && !role.may_unredact() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "viewers never see unredacted personal data",
        ));
    }
    let actor = principal.user;
    let mut detail = blocking(move || {
        let store = &archive.store;
        let mut detail = store
            .call_detail(id)
            .map_err(ApiError::internal)?
            .ok_or_else(|| not_found(id))?;
        if unredacted && audit {
            store
                .audit(
                    archive.clock().now_ms(),
                    &actor,
                    AuditAction::Unredact,
                    Some(id),
                    "GET /api/calls/{id}?unredacted=true",
                )
                .map_err(ApiError::internal)?;
        }
        if unredacted {
            let (caller, turns) = store.unredacted(id).map_err(ApiError::internal)?;
            if caller.is_some() {
                detail.call.caller = caller;
            }
            for (turn, original) in detail.turns.iter_mut().zip(turns) {
                turn.caller_text = original.caller_text;
                turn.bot_text_heard = original.bot_text_heard;
            }
        }
        Ok(detail)
    })
    .await?;
    if role == Role::Viewer {
        redact_detail_for_viewer(&mut detail);
    }
    Ok(detail)
}

/// What a viewer may see of a call: the caller masked, every text through the PII scanner.
pub fn redact_detail_for_viewer(detail: &mut CallDetail) {
    redact_call_for_viewer(&mut detail.call);
    for turn in &mut detail.turns {
        for text in [
            &mut turn.caller_text,
            &mut turn.bot_text,
            &mut turn.bot_text_heard,
        ] {
            *text = redact_for_storage(text, true).into_owned();
        }
    }
    for line in &mut detail.after_transfer {
        line.text = redact_for_storage(&line.text, true).into_owned();
    }
    if let Some(summary) = &mut detail.handover_summary {
        *summary = redact_for_storage(summary, true).into_owned();
    }
}

/// `GET /api/calls/{id}/recording`: `audio/wav`, with Range requests (206) for seeking.
pub async fn call_recording(
    user: ApiUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    recording_for(user.archive, user.principal.user, id, &headers).await
}

/// Call `id`'s recording for `actor` as `audio/wav` (or `audio/ogg` once archived as Opus), honouring `Range` (206); the first
/// request of a listen is audited. Shared by the API and the review UI.
pub async fn recording_for(
    archive: Arc<CallArchive>,
    actor: String,
    id: i64,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    blocking(move || {
        let store = &archive.store;
        let path = store
            .recording_path(id)
            .map_err(ApiError::internal)?
            .ok_or_else(|| {
                ApiError::new(StatusCode::NOT_FOUND, format!("call {id} has no recording"))
            })?;
        let unreadable = |error: &dyn std::fmt::Display| {
            tracing::error!(call = id, path = %path.display(), %error, "recording file missing or unreadable");
            ApiError::new(StatusCode::NOT_FOUND, format!("the recording of call {id} cannot be read"))
        };
        // A local file, or an object once archived to an object store.
        let (file, length) = if is_object(&path) {
            let length = block_on(archive.objects.size(&path)).map_err(|e| unreadable(&e))?;
            (None, length)
        } else {
            let file = std::fs::File::open(&path).map_err(|e| unreadable(&e))?;
            let length = file.metadata().map_err(ApiError::internal)?.len();
            (Some(file), length)
        };
        let part = byte_range(range.as_deref(), length);
        // One audit entry per listen: the player's first request, not every seek.
        let starts_listening = match &part {
            ByteRange::Part(bytes) => *bytes.start() == 0,
            _ => true,
        };
        if starts_listening {
            store
                .audit(archive.clock().now_ms(), &actor, AuditAction::Listen, Some(id), "recording")
                .map_err(ApiError::internal)?;
        }
        let (status, bytes) = match part {
            ByteRange::Unsatisfiable => {
                return Ok((
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    [(header::CONTENT_RANGE, format!("bytes */{length}"))],
                )
                    .into_response());
            }
            ByteRange::Whole => (StatusCode::OK, 0..=length.saturating_sub(1)),
            ByteRange::Part(bytes) => (StatusCode::PARTIAL_CONTENT, bytes),
        };
        let count = if length == 0 { 0 } else { bytes.end() - bytes.start() + 1 };
        // Streamed: a player reads what it needs (the header, then where it seeks) and
        // memory stays bounded however long the call was.
        let body = match file {
            Some(mut file) => {
                file.seek(SeekFrom::Start(*bytes.start()))
                    .map_err(ApiError::internal)?;
                Body::from_stream(file_stream(file, count))
            }
            None if count == 0 => Body::empty(),
            None => Body::from_stream(
                block_on(archive.objects.range(&path, bytes.clone()))
                    .map_err(|e| unreadable(&e))?,
            ),
        };
        let mut response = Response::new(body);
        *response.status_mut() = status;
        let headers = response.headers_mut();
        let kind = if path.extension().is_some_and(|e| e == OPUS_EXTENSION) {
            "audio/ogg"
        } else {
            "audio/wav"
        };
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
        headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
        if status == StatusCode::PARTIAL_CONTENT
            && let Ok(value) = HeaderValue::from_str(&format!(
                "bytes {}-{}/{length}",
                bytes.start(),
                bytes.end()
            ))
        {
            headers.insert(header::CONTENT_RANGE, value);
        }
        Ok(response)
    })
    .await
}

/// Bytes sent per chunk of a streamed recording.
const STREAM_CHUNK: usize = 64 * 1024;

/// The next `count` bytes of `file`, read as they are sent.
fn file_stream(
    file: std::fs::File,
    count: u64,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    use tokio::io::AsyncReadExt;
    let reader = Some(tokio::fs::File::from_std(file).take(count));
    futures_util::stream::unfold(reader, |reader| async move {
        let mut reader = reader?;
        let mut chunk = BytesMut::with_capacity(STREAM_CHUNK);
        match reader.read_buf(&mut chunk).await {
            Ok(0) => None,
            Ok(_) => Some((Ok(chunk.freeze()), Some(reader))),
            // The error ends the body (the client sees a cut response).
            Err(error) => Some((Err(error), None)),
        }
    })
}

/// `GET /api/calls/{id}/export`: a tar of `call.json`, `recording.wav`, `audit.json`.
/// Viewers get it with redacted text, like the call page.
pub async fn call_export(user: ApiUser, Path(id): Path<i64>) -> Result<Response, ApiError> {
    export_for(user.archive, user.principal, id).await
}

/// Call `id`'s export archive for `principal` (audited as a download). Shared by the API and
/// the review UI.
pub async fn export_for(
    archive: Arc<CallArchive>,
    principal: Principal,
    id: i64,
) -> Result<Response, ApiError> {
    let body = blocking(move || {
        let store = &archive.store;
        let mut detail = store
            .call_detail(id)
            .map_err(ApiError::internal)?
            .ok_or_else(|| not_found(id))?;
        if principal.role == Role::Viewer {
            redact_detail_for_viewer(&mut detail);
        }
        store
            .audit(
                archive.clock().now_ms(),
                &principal.user,
                AuditAction::Download,
                Some(id),
                "export archive",
            )
            .map_err(ApiError::internal)?;
        let audit = store.audit_entries_of(id).map_err(ApiError::internal)?;
        let recording = match store.recording_path(id).map_err(ApiError::internal)? {
            Some(path) if is_object(&path) => {
                let bytes = block_on(archive.objects.bytes(&path)).map_err(|error| {
                    tracing::error!(call = id, %error, "the archived recording cannot be fetched for an export");
                    ApiError::new(
                        StatusCode::BAD_GATEWAY,
                        format!("the recording of call {id} cannot be fetched from the object store; try again"),
                    )
                })?;
                let extension = path
                    .extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or("wav")
                    .to_string();
                Some(ExportedRecording::Fetched {
                    extension,
                    bytes: bytes.to_vec(),
                })
            }
            Some(path) if path.is_file() => Some(ExportedRecording::File(path)),
            _ => None,
        };
        write_call_archive(Vec::new(), &detail, recording, &audit)
            .map_err(ApiError::internal)
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-tar".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"call-{id}.tar\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// `PUT /api/calls/{id}/hold` with `{"hold": true|false}`: legal hold (admins), audited.
pub async fn call_hold(
    user: ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<HoldBody>,
) -> Result<StatusCode, ApiError> {
    if user.principal.role != Role::Admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "only admins put calls on legal hold",
        ));
    }
    let archive = Arc::clone(&user.archive);
    let actor = user.principal.user.clone();
    blocking(move || {
        let store = &archive.store;
        store
            .set_legal_hold(id, body.hold)
            .map_err(|error| match error {
                crate::store::StoreError::NoSuchCall(id) => not_found(id),
                other => ApiError::internal(other),
            })?;
        store
            .audit(
                archive.clock().now_ms(),
                &actor,
                AuditAction::LegalHold,
                Some(id),
                if body.hold { "hold" } else { "release" },
            )
            .map_err(ApiError::internal)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}
