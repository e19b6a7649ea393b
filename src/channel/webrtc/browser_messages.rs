//! What a page may send on the call's `events` data channel, read defensively: a size limit,
//! a length limit on typed text, a rate limit, and a clear `error` message back for anything
//! else (the call goes on).

use std::time::{Duration, Instant};

use serde::Deserialize;

/// Largest data-channel message read, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 4096;
/// Longest typed message, in characters.
pub const MAX_TEXT_CHARS: usize = 500;
/// Typed messages accepted per [`TEXT_WINDOW`].
const TEXT_PER_WINDOW: usize = 5;
const TEXT_WINDOW: Duration = Duration::from_secs(10);

/// A page's request, once read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BrowserRequest {
    /// A typed message, answered like speech.
    Text { text: String },
    /// The visitor hung up.
    Hangup,
    /// Keep-alive; answered with `pong`.
    Ping,
}

/// Reads one call's messages (keeps the rate limit's window).
#[derive(Debug, Default)]
pub struct BrowserMessageReader {
    recent_texts: Vec<Instant>,
}

impl BrowserMessageReader {
    /// Reads `data`; the error is the text of an `error` message for the page.
    pub fn read(&mut self, data: &[u8], now: Instant) -> Result<BrowserRequest, String> {
        if data.len() > MAX_MESSAGE_BYTES {
            return Err(format!(
                "message of {} bytes ignored: the limit is {MAX_MESSAGE_BYTES}",
                data.len()
            ));
        }
        let request: BrowserRequest = serde_json::from_slice(data).map_err(|error| {
            format!(
                "message ignored: expected JSON {{\"type\":\"text\"|\"hangup\"|\"ping\"}} ({error})"
            )
        })?;
        if let BrowserRequest::Text { text } = &request {
            let text = text.trim();
            if text.is_empty() {
                return Err("empty text message ignored".to_string());
            }
            if text.chars().count() > MAX_TEXT_CHARS {
                return Err(format!(
                    "text message ignored: longer than {MAX_TEXT_CHARS} characters"
                ));
            }
            self.recent_texts
                .retain(|sent| now.duration_since(*sent) < TEXT_WINDOW);
            if self.recent_texts.len() >= TEXT_PER_WINDOW {
                return Err(format!(
                    "text message ignored: at most {TEXT_PER_WINDOW} messages per {} s",
                    TEXT_WINDOW.as_secs()
                ));
            }
            self.recent_texts.push(now);
            return Ok(BrowserRequest::Text {
                text: text.to_string(),
            });
        }
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_read() {
        let mut reader = BrowserMessageReader::default();
        let now = Instant::now();
        assert_eq!(
            reader.read(br#"{"type":"text","text":" hi "}"#, now),
            Ok(BrowserRequest::Text { text: "hi".into() })
        );
        assert_eq!(
            reader.read(br#"{"type":"ping"}"#, now),
            Ok(BrowserRequest::Ping)
        );
        assert_eq!(
            reader.read(br#"{"type":"hangup"}"#, now),
            Ok(BrowserRequest::Hangup)
        );
    }

    #[test]
    fn garbage_huge_and_floods_get_a_reason() {
        let mut reader = BrowserMessageReader::default();
        let now = Instant::now();
        assert!(reader.read(b"\xff\x00garbage", now).is_err());
        assert!(reader.read(br#"{"type":"launch"}"#, now).is_err());
        assert!(
            reader
                .read(&vec![b'a'; 5000], now)
                .unwrap_err()
                .contains("4096")
        );
        let long = format!(r#"{{"type":"text","text":"{}"}}"#, "字".repeat(501));
        assert!(
            reader
                .read(long.as_bytes(), now)
                .unwrap_err()
                .contains("500")
        );
        for _ in 0..5 {
            assert!(reader.read(br#"{"type":"text","text":"a"}"#, now).is_ok());
        }
        assert!(
            reader
                .read(br#"{"type":"text","text":"a"}"#, now)
                .unwrap_err()
                .contains("at most")
        );
        let later = now + Duration::from_secs(11);
        assert!(reader.read(br#"{"type":"text","text":"a"}"#, later).is_ok());
    }
}
