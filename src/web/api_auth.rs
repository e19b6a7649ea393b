//! Who is calling `/api`: `Authorization: Bearer TOKEN` checked against the store's API
//! tokens (`hotline tokens create NAME`). No or an unknown token: 401; no call store: 503.

use std::sync::Arc;

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::WebState;
use crate::store::{CallArchive, Principal};

/// The authenticated caller of an API route, with the store it may read.
pub struct ApiUser {
    pub principal: Principal,
    pub archive: Arc<CallArchive>,
}

/// Why an API request is refused, as a JSON error with its status.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// A store failure: logged, answered 500 without detail.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "call store API request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the call store failed; see the server log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(serde_json::json!({ "error": self.message }));
        if self.status == StatusCode::UNAUTHORIZED {
            return (
                self.status,
                [(header::WWW_AUTHENTICATE, "Bearer realm=\"hotline\"")],
                body,
            )
                .into_response();
        }
        (self.status, body).into_response()
    }
}

impl FromRequestParts<WebState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        let Some(token) = token else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "send Authorization: Bearer TOKEN (create one with `hotline tokens create NAME`)",
            ));
        };
        let Some(archive) = state.archive.clone() else {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "no call store: [store] enabled = false, or it could not be opened (see the log)",
            ));
        };
        let store = Arc::clone(&archive.store);
        let principal = tokio::task::spawn_blocking(move || store.authenticate_token(&token))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?;
        match principal {
            Some(principal) => Ok(ApiUser { principal, archive }),
            None => Err(ApiError::new(StatusCode::UNAUTHORIZED, "unknown API token")),
        }
    }
}
