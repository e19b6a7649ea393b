//! A message on a browser call's `events` data channel: read within its limits (size, typed
//! text length, rate), with a reason for the page otherwise.

use std::time::{Duration, Instant};

use crate::engine_parsers::browser_messages::{
    BrowserMessageReader, BrowserRequest, MAX_MESSAGE_BYTES, MAX_TEXT_CHARS,
};

pub fn run(data: &[u8]) {
    let mut reader = BrowserMessageReader::default();
    let start = Instant::now();
    // The same message six times in a second: the sixth typed text is over the rate limit.
    for n in 0..6u64 {
        match reader.read(data, start + Duration::from_millis(100 * n)) {
            Ok(BrowserRequest::Text { text }) => {
                assert!(n < 5, "text accepted past the rate limit");
                assert!(data.len() <= MAX_MESSAGE_BYTES);
                assert!(!text.is_empty() && text == text.trim());
                assert!(text.chars().count() <= MAX_TEXT_CHARS);
            }
            Ok(BrowserRequest::Hangup | BrowserRequest::Ping) => {
                assert!(data.len() <= MAX_MESSAGE_BYTES);
            }
            Err(reason) => assert!(!reason.is_empty()),
        }
    }
}
