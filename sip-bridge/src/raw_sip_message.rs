//! A SIP message as bytes off the wire, split into start line, unfolded headers and body, with
//! no interpretation beyond RFC 3261 7.3 (line folding, compact names) and stream framing by
//! Content-Length (RFC 3261 18.3). [`crate::sip_screen`] judges it; rsipstack parses it for
//! real afterwards.

/// Largest message we accept on a stream before the peer must have sent a full header block.
pub const MAX_MESSAGE_BYTES: usize = 65_535;

/// Why bytes could not be split into a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RawSyntaxError {
    #[error("no empty line ends the headers")]
    NoHeaderEnd,
    #[error("header line without a colon: {0:?}")]
    HeaderWithoutColon(String),
    #[error("a folded line before any header")]
    FoldBeforeHeader,
    #[error("empty start line")]
    EmptyStartLine,
}

/// Why a stream could not be cut into messages (the connection cannot continue).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    #[error("Content-Length is not a number: {0:?}")]
    BadContentLength(String),
    #[error("Content-Length given more than once")]
    RepeatedContentLength,
    #[error("message larger than {MAX_MESSAGE_BYTES} bytes")]
    TooLarge,
}

/// One header: the full lower-case name (compact forms expanded) and its unfolded value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawHeader {
    pub name: String,
    pub value: String,
}

/// A message split into its parts.
#[derive(Debug, Clone)]
pub struct RawSipMessage<'a> {
    pub start_line: String,
    pub headers: Vec<RawHeader>,
    /// Everything after the empty line (for a datagram, possibly more than Content-Length).
    pub body: &'a [u8],
    /// Offset of the body in the input.
    pub body_offset: usize,
}

impl<'a> RawSipMessage<'a> {
    /// Splits `bytes` (leading CRLFs allowed, RFC 3261 7.5). Header bytes that are not UTF-8
    /// are replaced, so a response can still be built from the rest.
    pub fn split(bytes: &'a [u8]) -> Result<RawSipMessage<'a>, RawSyntaxError> {
        let start = leading_crlf_len(bytes);
        let rest = &bytes[start..];
        let head_end = find(rest, b"\r\n\r\n").ok_or(RawSyntaxError::NoHeaderEnd)?;
        let head = String::from_utf8_lossy(&rest[..head_end]);
        let mut lines = head.split("\r\n");
        let start_line = lines.next().unwrap_or_default().to_string();
        if start_line.trim().is_empty() {
            return Err(RawSyntaxError::EmptyStartLine);
        }
        let mut headers: Vec<RawHeader> = Vec::new();
        for line in lines {
            if line.starts_with([' ', '\t']) {
                let last = headers.last_mut().ok_or(RawSyntaxError::FoldBeforeHeader)?;
                last.value.push(' ');
                last.value.push_str(line.trim());
                continue;
            }
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| RawSyntaxError::HeaderWithoutColon(line.to_string()))?;
            headers.push(RawHeader {
                name: full_header_name(name.trim()),
                value: value.trim().to_string(),
            });
        }
        let body_offset = start + head_end + 4;
        Ok(RawSipMessage {
            start_line,
            headers,
            body: &bytes[body_offset..],
            body_offset,
        })
    }

    /// Every value of the header `name` (full lower-case name), in order.
    pub fn values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.headers
            .iter()
            .filter(move |h| h.name == name)
            .map(|h| h.value.as_str())
    }

    /// The first value of the header `name`.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name == name)
            .map(|h| h.value.as_str())
    }

    /// Whether this is a response (starts with the SIP version).
    pub fn is_response(&self) -> bool {
        self.start_line
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
    }
}

/// Expands the compact forms of RFC 3261 7.3.3 and lower-cases the name.
pub fn full_header_name(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let full = match lower.as_str() {
        "i" => "call-id",
        "m" => "contact",
        "e" => "content-encoding",
        "l" => "content-length",
        "c" => "content-type",
        "f" => "from",
        "s" => "subject",
        "k" => "supported",
        "t" => "to",
        "v" => "via",
        _ => return lower,
    };
    full.to_string()
}

/// Number of CRLF pairs (not a keep-alive's double CRLF) before the start line.
pub fn leading_crlf_len(bytes: &[u8]) -> usize {
    let mut n = 0;
    while bytes[n..].starts_with(b"\r\n") {
        n += 2;
    }
    n
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// On a stream: the length of the first whole message in `buffer` (from its first byte, which
/// is not CRLF), `None` while more bytes are needed. A missing Content-Length means no body.
pub fn stream_message_length(buffer: &[u8]) -> Result<Option<usize>, FramingError> {
    let Some(head_end) = find(buffer, b"\r\n\r\n") else {
        return if buffer.len() > MAX_MESSAGE_BYTES {
            Err(FramingError::TooLarge)
        } else {
            Ok(None)
        };
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]);
    let mut length: Option<usize> = None;
    for line in head.split("\r\n").skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if full_header_name(name.trim()) != "content-length" {
            continue;
        }
        let value = value.trim();
        let parsed = (!value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()))
            .then(|| value.parse::<usize>().ok())
            .flatten()
            .ok_or_else(|| FramingError::BadContentLength(value.to_string()))?;
        if length.is_some() {
            return Err(FramingError::RepeatedContentLength);
        }
        length = Some(parsed);
    }
    let total = head_end + 4 + length.unwrap_or(0);
    if total > MAX_MESSAGE_BYTES {
        return Err(FramingError::TooLarge);
    }
    Ok((buffer.len() >= total).then_some(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfolds_and_expands_compact_names() {
        let bytes = b"\r\nOPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h\r\nSubject: a\r\n  b\r\nl: 2\r\n\r\nxy";
        let message = RawSipMessage::split(bytes).expect("splits");
        assert_eq!(message.start_line, "OPTIONS sip:a@b SIP/2.0");
        assert_eq!(message.first("via"), Some("SIP/2.0/UDP h"));
        assert_eq!(message.first("subject"), Some("a b"));
        assert_eq!(message.body, b"xy");
    }

    #[test]
    fn frames_streams_by_content_length() {
        let two = b"A x SIP/2.0\r\nl: 3\r\n\r\nabcB y SIP/2.0\r\n\r\n";
        assert_eq!(stream_message_length(two), Ok(Some(24)));
        assert_eq!(
            stream_message_length(b"A x SIP/2.0\r\nl: 9\r\n\r\nab"),
            Ok(None)
        );
        assert_eq!(
            stream_message_length(b"A x SIP/2.0\r\nl: -1\r\n\r\n"),
            Err(FramingError::BadContentLength("-1".into()))
        );
        assert_eq!(
            stream_message_length(b"A x SIP/2.0\r\nl: 0\r\nContent-Length: 0\r\n\r\n"),
            Err(FramingError::RepeatedContentLength)
        );
    }
}
