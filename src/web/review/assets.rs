//! The review pages' static files, embedded in the binary and served by hotline (no CDN):
//! the vendored wavesurfer.js and its regions plugin (`vendor/`, BSD-3-Clause), the page
//! script and the style sheet. Their URLs carry a version, so they are cached for a year;
//! they hold no data, so they need no session (the login page uses the style sheet).

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Part of every asset URL: change it when a file changes.
const VERSION: &str = "4";

pub const WAVESURFER_URL: &str = "/review/assets/4/wavesurfer-7.12.1.min.js";
pub const REGIONS_URL: &str = "/review/assets/4/regions-7.12.1.min.js";
pub const SCRIPT_URL: &str = "/review/assets/4/review.js";
pub const STYLE_URL: &str = "/review/assets/4/review.css";

const FILES: [(&str, &str, &str); 4] = [
    (
        "wavesurfer-7.12.1.min.js",
        "text/javascript; charset=utf-8",
        include_str!("vendor/wavesurfer.min.js"),
    ),
    (
        "regions-7.12.1.min.js",
        "text/javascript; charset=utf-8",
        include_str!("vendor/regions.min.js"),
    ),
    (
        "review.js",
        "text/javascript; charset=utf-8",
        include_str!("review.js"),
    ),
    (
        "review.css",
        "text/css; charset=utf-8",
        include_str!("review.css"),
    ),
];

/// `GET /review/assets/{version}/{file}`.
pub async fn asset(Path((version, name)): Path<(String, String)>) -> Response {
    let Some((_, content_type, body)) = FILES
        .iter()
        .find(|(file, _, _)| version == VERSION && *file == name)
    else {
        return (StatusCode::NOT_FOUND, "no such review asset").into_response();
    };
    let mut response = (*body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_url_names_a_file_of_this_version() {
        for url in [WAVESURFER_URL, REGIONS_URL, SCRIPT_URL, STYLE_URL] {
            let rest = url.strip_prefix("/review/assets/").unwrap();
            let (version, name) = rest.split_once('/').unwrap();
            assert_eq!(version, VERSION);
            assert!(FILES.iter().any(|(file, _, _)| *file == name), "{url}");
        }
    }
}
