//! The browser voice widget: `GET /widget.js` (one script tag puts a call button on any site;
//! it talks back to the origin it was loaded from) and `GET /`, the demo shop page that carries
//! it. Both are compiled into the binary from `src/web/widget/`, so a release needs no asset
//! folder and the page never loads anything from elsewhere.

use axum::http::header;
use axum::response::{Html, IntoResponse};

/// The widget script (plain JavaScript, no build step).
pub const WIDGET_JS: &str = include_str!("widget/widget.js");

/// The demo shop page served at `/`.
pub const DEMO_HTML: &str = include_str!("widget/demo.html");

/// `GET /`: the demo shop with the widget on it.
pub async fn demo_page() -> Html<&'static str> {
    Html(DEMO_HTML)
}

/// `GET /widget.js`: cached for five minutes, so a new release reaches sites within that.
pub async fn widget_js() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        WIDGET_JS,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    #[tokio::test]
    async fn widget_is_served_as_cacheable_javascript() {
        let response = widget_js().await.into_response();
        assert_eq!(response.status(), 200);
        let headers = response.headers();
        assert_eq!(
            headers[header::CONTENT_TYPE],
            "application/javascript; charset=utf-8"
        );
        assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=300");
        let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        assert!(body.starts_with(b"/*"), "the widget script is served whole");
    }

    #[test]
    fn demo_page_carries_the_widget_and_nothing_external() {
        assert!(DEMO_HTML.contains(r#"<script src="/widget.js" data-lang="auto"></script>"#));
        for external in ["src=\"http", "href=\"http", "src=\"//", "href=\"//", "url("] {
            assert!(!DEMO_HTML.contains(external), "demo.html loads {external}");
        }
    }

    #[test]
    fn widget_never_writes_html_from_strings() {
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ] {
            assert!(!WIDGET_JS.contains(sink), "widget.js uses {sink}");
        }
    }
}
