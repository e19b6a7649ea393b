//! Server-sent events, decoded by hand from the raw bytes of a streaming response.
//!
//! Written for what OpenAI-compatible servers send in practice, not only for the spec:
//! `: keep-alive` comments and extra blank lines under load (DeepSeek), `\r\n` or `\r` line
//! ends, `data:` with or without the space, events split anywhere across network reads
//! (even inside a UTF-8 character), and servers that forget the blank line between two
//! `data:` events (a pending payload that is already a whole JSON value is dispatched when
//! the next `data:` line starts).

/// Accumulates bytes and hands out the `data` payload of each complete event.
#[derive(Debug, Default)]
pub struct SseDecoder {
    /// Bytes after the last line end.
    partial_line: Vec<u8>,
    /// `data:` lines of the event being read, joined with `\n`.
    data: Option<String>,
    /// The previous byte was `\r` (a following `\n` belongs to the same line end).
    after_cr: bool,
}

impl SseDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes read from the response; returns the payloads of the events they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut events = Vec::new();
        for &byte in bytes {
            let after_cr = std::mem::replace(&mut self.after_cr, byte == b'\r');
            match byte {
                b'\n' if after_cr => {}
                b'\n' | b'\r' => {
                    let line = std::mem::take(&mut self.partial_line);
                    self.line(&String::from_utf8_lossy(&line), &mut events);
                }
                _ => self.partial_line.push(byte),
            }
        }
        events
    }

    /// The response ended: the payloads of events left without their closing blank line.
    pub fn finish(&mut self) -> Vec<String> {
        let line = std::mem::take(&mut self.partial_line);
        let mut events = Vec::new();
        self.line(&String::from_utf8_lossy(&line), &mut events);
        events.extend(self.data.take());
        events
    }

    fn line(&mut self, line: &str, events: &mut Vec<String>) {
        if line.is_empty() {
            events.extend(self.data.take());
            return;
        }
        if line.starts_with(':') {
            return; // comment (`: keep-alive`, `: OPENROUTER PROCESSING`)
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        if field != "data" {
            return; // `event:`, `id:`, `retry:` carry nothing the chat stream needs
        }
        match &mut self.data {
            Some(pending) if is_whole_payload(pending) => {
                events.push(std::mem::replace(pending, value.to_string()));
            }
            Some(pending) => {
                pending.push('\n');
                pending.push_str(value);
            }
            None => self.data = Some(value.to_string()),
        }
    }
}

fn is_whole_payload(data: &str) -> bool {
    data.trim() == "[DONE]" || serde_json::from_str::<serde::de::IgnoredAny>(data).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_blank_lines_and_line_end_styles_are_handled() {
        let mut sse = SseDecoder::new();
        let stream = ": keep-alive\n\n\n\ndata: {\"a\":1}\r\n\r\n: keep-alive\r\rdata:{\"b\":2}\n\nevent: x\nid: 7\ndata: [DONE]\n\n";
        assert_eq!(
            sse.push(stream.as_bytes()),
            ["{\"a\":1}", "{\"b\":2}", "[DONE]"]
        );
        assert!(sse.finish().is_empty());
    }

    #[test]
    fn events_split_at_every_byte_decode_the_same() {
        let stream = "data: {\"content\":\"你好，\"}\n\ndata: {\"content\":\"世界\"}\r\n\r\n";
        let mut sse = SseDecoder::new();
        let mut events = Vec::new();
        for byte in stream.as_bytes() {
            events.extend(sse.push(std::slice::from_ref(byte)));
        }
        assert_eq!(
            events,
            ["{\"content\":\"你好，\"}", "{\"content\":\"世界\"}"]
        );
    }

    #[test]
    fn missing_blank_lines_and_a_missing_final_line_end_still_yield_every_event() {
        let mut sse = SseDecoder::new();
        assert_eq!(
            sse.push(b"data: {\"a\":1}\ndata: {\"b\":2}\ndata: [DONE]"),
            ["{\"a\":1}"]
        );
        assert_eq!(sse.finish(), ["{\"b\":2}", "[DONE]"]);
    }

    #[test]
    fn multi_line_data_is_joined() {
        let mut sse = SseDecoder::new();
        assert_eq!(sse.push(b"data: {\"a\":\ndata: 1}\n\n"), ["{\"a\":\n1}"]);
    }
}
