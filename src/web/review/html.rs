//! HTML for the review pages: escaping (every stored string is untrusted caller text), the
//! page frame (navigation, the logout form with its CSRF token), the headers every page
//! carries (a strict Content-Security-Policy: scripts only from hotline, no inline script;
//! no caching of pages that hold personal data; no framing) and error pages.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::assets;
use crate::web::api_auth::ApiError;

/// `text` safe inside HTML text and inside quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` as one query-string value (RFC 3986 unreserved characters kept).
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Scripts and media only from hotline itself (the player streams the recording from its
/// `/review` URL); styles may be inline because wavesurfer.js styles its shadow root with a
/// `<style>` element.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Who the page is shown to, for the header line and the logout form.
pub struct Viewer<'a> {
    pub user: &'a str,
    pub role: &'a str,
    pub csrf: &'a str,
}

/// A whole page: `title` (escaped here), `body` (already HTML), with the review headers.
pub fn page(status: StatusCode, title: &str, viewer: Option<&Viewer<'_>>, body: &str) -> Response {
    page_with_head(status, title, viewer, "", body)
}

/// [`page`] with extra markup in its `<head>` (trusted, written by hotline).
pub fn page_with_head(
    status: StatusCode,
    title: &str,
    viewer: Option<&Viewer<'_>>,
    head: &str,
    body: &str,
) -> Response {
    let nav = match viewer {
        Some(v) => format!(
            "<nav><a href=\"/review\">Calls</a> <a href=\"/review/kpis\">KPIs</a> \
             <a href=\"/review/unanswered\">Unanswered</a>\
             <span class=\"who\">{user} ({role})</span>\
             <form method=\"post\" action=\"/review/logout\" class=\"logout\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\">Log out</button></form></nav>",
            user = escape(v.user),
            role = escape(v.role),
            csrf = escape(v.csrf),
        ),
        None => String::new(),
    };
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · hotline review</title><link rel=\"icon\" href=\"data:,\">\
         <link rel=\"stylesheet\" href=\"{css}\">{head}</head>\
         <body><header><a class=\"brand\" href=\"/review\">hotline review</a>{nav}</header>\
         <main>{body}</main></body></html>\n",
        title = escape(title),
        css = assets::STYLE_URL,
    );
    with_page_headers((status, html).into_response())
}

/// Adds the headers every review page carries.
pub fn with_page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// A refused or failed review request, answered as a page.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
}

impl PageError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        Self::new(error.status, error.message)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let reason = self.status.canonical_reason().unwrap_or("Error");
        page(
            self.status,
            reason,
            None,
            &format!(
                "<h1>{}</h1><p class=\"error\">{}</p><p><a href=\"/review\">Back to the calls</a></p>",
                escape(reason),
                escape(&self.message)
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_is_inert() {
        assert_eq!(
            escape("<script>alert('x')</script>&\"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;y&quot;"
        );
        assert_eq!(escape("門店 ok"), "門店 ok");
        assert_eq!(url_encode("门 a&b=c"), "%E9%97%A8%20a%26b%3Dc");
    }
}
