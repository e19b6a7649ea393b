//! WHIP-style signalling for the voice widget, usable from a page without a library:
//! `POST /webrtc/calls` (an `application/sdp` offer → `201 Created`, `Location`, the SDP
//! answer), `DELETE /webrtc/calls/{id}` to hang up, `GET /webrtc/config` for the ICE servers.
//! Pages from other origins are served only when `[webrtc] allowed_origins` lists them (CORS
//! headers and preflight included); every refusal says why in plain text.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::browser_calls::BrowserCalls;
use crate::channel::webrtc::{EndpointError, RETRY_AFTER_SECS};
use crate::lang::Lang;
use crate::lifecycle::Admission;

/// `?lang=` of a new call.
#[derive(Debug, Deserialize)]
pub struct CallQuery {
    lang: Option<String>,
}

/// The page's origin when it may use this server; the error is the reason for a 403.
fn allowed_origin(calls: &BrowserCalls, headers: &HeaderMap) -> Result<Option<String>, String> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(None); // not a browser page (curl, a server): nothing to protect here
    };
    let origin = origin.to_str().unwrap_or("").trim().to_string();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let same_origin = origin
        .split_once("://")
        .is_some_and(|(_, rest)| !host.is_empty() && rest == host);
    let listed = calls
        .endpoint
        .config()
        .allowed_origins
        .iter()
        .any(|allowed| allowed == "*" || allowed.eq_ignore_ascii_case(&origin));
    if same_origin || listed {
        Ok(Some(origin))
    } else {
        Err(format!(
            "origin {origin:?} may not start calls here: add it to [webrtc] allowed_origins"
        ))
    }
}

fn plain(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{text}\n"),
    )
        .into_response()
}

/// CORS headers for an allowed cross-origin page.
fn with_cors(mut response: Response, origin: Option<&str>) -> Response {
    if let Some(origin) = origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Location, Retry-After"),
        );
    }
    response
}

/// `POST /webrtc/calls`: answer a page's offer and start the call.
pub async fn create_call(
    State(calls): State<Arc<BrowserCalls>>,
    State(admission): State<Arc<Admission>>,
    Query(query): Query<CallQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let origin = match allowed_origin(&calls, &headers) {
        Ok(origin) => origin,
        Err(reason) => return plain(StatusCode::FORBIDDEN, &reason),
    };
    let respond = |response: Response| with_cors(response, origin.as_deref());
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/sdp"))
    {
        return respond(plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!("send the offer with Content-Type: application/sdp (got {content_type:?})"),
        ));
    }
    let lang = match query.lang.as_deref().map(str::trim) {
        None | Some("") | Some("auto") => None,
        Some(code) => match code.parse::<Lang>() {
            Ok(lang) => Some(lang),
            Err(_) => {
                return respond(plain(
                    StatusCode::BAD_REQUEST,
                    &format!("lang={code:?} is not one of auto, yue, zh, en"),
                ));
            }
        },
    };
    // The node's lines are shared with SIP and /media calls: a full or draining node says so
    // the way a full browser endpoint does.
    let permit = match admission.try_admit() {
        Ok(permit) => permit,
        Err(refusal) => {
            tracing::info!(%refusal, "browser call refused");
            let mut response = plain(StatusCode::SERVICE_UNAVAILABLE, &refusal.to_string());
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(crate::lifecycle::RETRY_AFTER_SECS),
            );
            return respond(response);
        }
    };
    match calls.start(&body, lang, permit).await {
        Ok((id, answer)) => {
            tracing::info!(call = %id, ?lang, "browser call answered");
            let location = format!("/webrtc/calls/{id}");
            respond(
                (
                    StatusCode::CREATED,
                    [
                        (header::CONTENT_TYPE, "application/sdp".to_string()),
                        (header::LOCATION, location),
                    ],
                    answer,
                )
                    .into_response(),
            )
        }
        Err(error) => {
            let status =
                StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            if status.is_server_error() && !matches!(error, EndpointError::Full { .. }) {
                tracing::error!(%error, "browser call not answered");
            } else {
                tracing::info!(%error, "browser call refused");
            }
            let mut response = plain(status, &error.to_string());
            if status == StatusCode::SERVICE_UNAVAILABLE {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
            }
            respond(response)
        }
    }
}

/// `DELETE /webrtc/calls/{id}`: the page hangs up.
pub async fn delete_call(
    State(calls): State<Arc<BrowserCalls>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let origin = match allowed_origin(&calls, &headers) {
        Ok(origin) => origin,
        Err(reason) => return plain(StatusCode::FORBIDDEN, &reason),
    };
    let response = if calls.hang_up(&id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        plain(
            StatusCode::NOT_FOUND,
            &format!("no browser call {id:?} (it may have ended)"),
        )
    };
    with_cors(response, origin.as_deref())
}

/// `OPTIONS` on the call routes: the CORS preflight of a cross-origin page.
pub async fn preflight(State(calls): State<Arc<BrowserCalls>>, headers: HeaderMap) -> Response {
    match allowed_origin(&calls, &headers) {
        Ok(origin) => {
            let mut response = with_cors(StatusCode::NO_CONTENT.into_response(), origin.as_deref());
            let h = response.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("Content-Type"),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
            response
        }
        Err(reason) => plain(StatusCode::FORBIDDEN, &reason),
    }
}

/// `GET /webrtc/config`: the STUN/TURN servers the page should use.
pub async fn ice_config(State(calls): State<Arc<BrowserCalls>>, headers: HeaderMap) -> Response {
    let origin = match allowed_origin(&calls, &headers) {
        Ok(origin) => origin,
        Err(reason) => return plain(StatusCode::FORBIDDEN, &reason),
    };
    let servers: Vec<serde_json::Value> = calls
        .endpoint
        .config()
        .ice_servers
        .iter()
        .map(|s| {
            let mut server = serde_json::json!({ "urls": s.urls });
            if !s.username.is_empty() {
                server["username"] = s.username.clone().into();
                server["credential"] = s.credential.clone().into();
            }
            server
        })
        .collect();
    let body = serde_json::json!({ "iceServers": servers }).to_string();
    with_cors(
        (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response(),
        origin.as_deref(),
    )
}
