//! `GET /review/calls/{id}/peaks`: the recording's waveform as JSON (`duration_s`,
//! `sample_rate`, `channels`: caller then bot, `min, max` of each of
//! [`PEAK_POINTS`] stretches), so the call page draws at once and streams the audio instead
//! of downloading and decoding the whole WAV first. The same reviewers as the recording may
//! have it (any logged-in role); it is not a listen, so it is not audited (the audio fetch
//! is). Finished recordings' peaks are kept in memory ([`PeaksCache`]); a recording still
//! being written is read afresh each time. Errors are JSON `{"error": ...}`: 404 no
//! recording or file gone, 422 a file that is not a drawable WAV (or holds no audio yet).

use std::sync::Arc;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::reviewer::Reviewer;
use crate::store::{
    CallArchive, CallStore, FileStamp, OPUS_EXTENSION, PEAK_POINTS, PeaksError, RecordingStatus,
    block_on, is_object, peaks_file, recording_peaks,
};
use crate::web::api_auth::ApiError;

/// `GET /review/calls/{id}/peaks`.
pub async fn peaks(reviewer: Reviewer, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let archive = Arc::clone(&reviewer.archive);
    let json = tokio::task::spawn_blocking(move || peaks_json(&archive, id))
        .await
        .map_err(ApiError::internal)??;
    let mut response = json.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Ok(response)
}

/// Call `id`'s peaks JSON: from the cache when its finished recording was read before.
pub(super) fn peaks_json(archive: &CallArchive, id: i64) -> Result<Bytes, ApiError> {
    let store = &archive.store;
    let no_recording =
        || ApiError::new(StatusCode::NOT_FOUND, format!("call {id} has no recording"));
    let path = store
        .recording_path(id)
        .map_err(ApiError::internal)?
        .ok_or_else(no_recording)?;
    let finished = store
        .call_detail(id)
        .map_err(ApiError::internal)?
        .ok_or_else(no_recording)?
        .call
        .recording_status;
    let finished = matches!(
        finished,
        RecordingStatus::Complete | RecordingStatus::Recovered
    );
    if is_object(&path) {
        // Archived to an object store: its peaks were uploaded beside it.
        let kept = peaks_file(&path);
        return block_on(archive.objects.bytes(&kept)).map_err(|error| {
            tracing::error!(call = id, %error, "an archived recording's peaks cannot be fetched");
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("the waveform of call {id} cannot be read from the object store"),
            )
        });
    }
    let file = std::fs::File::open(&path).map_err(|error| {
        tracing::error!(call = id, path = %path.display(), %error, "recording file missing or unreadable");
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("the recording of call {id} cannot be read"),
        )
    })?;
    let stamp = FileStamp::of(&path, &file).map_err(ApiError::internal)?;
    if finished && let Some(json) = archive.peaks.get(id, &stamp) {
        return Ok(json);
    }
    if path.extension().is_some_and(|e| e == OPUS_EXTENSION) {
        // Archived as Ogg Opus: the peaks were read from the WAV and kept beside it.
        let kept = peaks_file(&path);
        let json = std::fs::read(&kept).map(Bytes::from).map_err(|error| {
            tracing::error!(call = id, path = %kept.display(), %error, "an archived recording's peaks file is missing or unreadable");
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("the waveform of call {id} cannot be read; the recording still plays"),
            )
        })?;
        archive.peaks.put(id, stamp, json.clone());
        return Ok(json);
    }
    let peaks = recording_peaks(file, PEAK_POINTS).map_err(|error| match error {
        PeaksError::Io(error) => {
            tracing::error!(call = id, path = %path.display(), %error, "reading a recording for its peaks failed");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the recording of call {id} could not be read; see the server log"),
            )
        }
        other => {
            tracing::warn!(call = id, path = %path.display(), error = %other, "a recording cannot be drawn");
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("the recording of call {id} cannot be drawn: {other}"),
            )
        }
    })?;
    let json = Bytes::from(serde_json::to_vec(&peaks).map_err(ApiError::internal)?);
    if finished {
        archive.peaks.put(id, stamp, json.clone());
    }
    Ok(json)
}
