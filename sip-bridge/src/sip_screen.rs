//! The RFC 3261 checks rsipstack does not make, run on each message's bytes before rsipstack
//! sees it (see `screened_udp` and `screened_tcp` for where it sits and why there).
//!
//! A request passes, is answered here (400 naming the problem, 505, 420 + Unsupported, 416,
//! 501 + Allow, 483), or is dropped when it is too broken to answer (no Via or Call-ID) or is
//! an ACK. Responses with a status code outside 100..=699 are dropped; others pass on, and
//! rsipstack drops those matching no transaction.

use crate::raw_sip_message::{RawSipMessage, RawSyntaxError};

/// Methods the bridge knows (rsipstack parses exactly these; the rest get 501).
const KNOWN_METHODS: [&str; 14] = [
    "ACK",
    "BYE",
    "CANCEL",
    "INFO",
    "INVITE",
    "MESSAGE",
    "NOTIFY",
    "OPTIONS",
    "PRACK",
    "PUBLISH",
    "REFER",
    "REGISTER",
    "SUBSCRIBE",
    "UPDATE",
];
/// Headers that appear at most once (RFC 3261 7.3.1, 20).
const SINGLE_VALUED: [&str; 7] = [
    "to",
    "from",
    "call-id",
    "cseq",
    "max-forwards",
    "content-length",
    "content-type",
];
/// Headers holding a name-addr or addr-spec (RFC 3261 20.10).
const ADDRESS_HEADERS: [&str; 3] = ["to", "from", "reply-to"];
/// Request-URI schemes the user agent serves.
const KNOWN_SCHEMES: [&str; 3] = ["sip", "sips", "tel"];

/// What to do with one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Hand the first `length` bytes to rsipstack (a datagram's octets after Content-Length
    /// are cut off, RFC 3261 18.3).
    Pass { length: usize },
    /// Answer with this response and do not hand the request on.
    Reject(Rejection),
    /// Neither answer nor hand on.
    Drop(DropReason),
}

/// Why a message was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DropReason {
    #[error("unparseable: {0}")]
    Unparseable(#[from] RawSyntaxError),
    #[error("request without a {0} header: no way to answer it")]
    Unanswerable(&'static str),
    #[error("response with status code {0:?} outside 100..=699")]
    BadResponse(String),
    #[error("ACK refused ({0}); an ACK is never answered")]
    BadAck(u16),
}

/// A refusal: status, reason phrase and extra headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: u16,
    pub reason: String,
    pub extra_headers: Vec<String>,
    /// The whole response, ready to send.
    pub response: Vec<u8>,
}

/// The problem found in a request, before it is rendered into a response.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Problem {
    status: u16,
    reason: String,
    extra_headers: Vec<String>,
}

fn bad_request(reason: impl Into<String>) -> Problem {
    Problem {
        status: 400,
        reason: reason.into(),
        extra_headers: Vec::new(),
    }
}

/// Judges one whole message: a datagram, or a message cut from a stream. `allow` is the
/// `Allow` value for 501 answers.
pub fn screen(bytes: &[u8], allow: &str) -> Verdict {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Verdict::Pass {
            length: bytes.len(),
        };
    }
    let message = match RawSipMessage::split(bytes) {
        Ok(message) => message,
        Err(error) => return Verdict::Drop(DropReason::Unparseable(error)),
    };
    if message.is_response() {
        return screen_response(&message, bytes.len());
    }
    for mandatory in ["via", "call-id"] {
        if message.first(mandatory).is_none() {
            return Verdict::Drop(DropReason::Unanswerable(mandatory));
        }
    }
    let method = message.start_line.split(' ').next().unwrap_or_default();
    match check_request(&message, allow) {
        Ok(length) => Verdict::Pass { length },
        Err(problem) if method == "ACK" => Verdict::Drop(DropReason::BadAck(problem.status)),
        Err(problem) => Verdict::Reject(Rejection {
            response: render_response(&message, &problem),
            status: problem.status,
            reason: problem.reason,
            extra_headers: problem.extra_headers,
        }),
    }
}

fn screen_response(message: &RawSipMessage<'_>, length: usize) -> Verdict {
    let code = message.start_line.split(' ').nth(1).unwrap_or_default();
    match code.parse::<u16>() {
        Ok(status) if code.len() == 3 && (100..=699).contains(&status) => Verdict::Pass { length },
        _ => Verdict::Drop(DropReason::BadResponse(code.to_string())),
    }
}

/// Every rule, in the order RFC 3261 8.2 applies them; Ok gives the length to hand on.
fn check_request(message: &RawSipMessage<'_>, allow: &str) -> Result<usize, Problem> {
    let parts: Vec<&str> = message.start_line.split(' ').collect();
    let [method, uri, version] = parts[..] else {
        return Err(bad_request("Malformed Request-Line"));
    };
    if method.is_empty() || uri.is_empty() || !method.bytes().all(is_token_byte) {
        return Err(bad_request("Malformed Request-Line"));
    }
    if !version
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
    {
        return Err(bad_request("Malformed SIP-Version"));
    }
    if !version.eq_ignore_ascii_case("SIP/2.0") {
        return Err(Problem {
            status: 505,
            reason: "Version Not Supported".into(),
            extra_headers: Vec::new(),
        });
    }
    check_headers(message)?;
    let length = check_content_length(message)?;
    check_cseq(message, method)?;
    check_request_uri(uri)?;
    if !KNOWN_METHODS.contains(&method) {
        return Err(Problem {
            status: 501,
            reason: "Not Implemented".into(),
            extra_headers: vec![format!("Allow: {allow}")],
        });
    }
    check_max_forwards(message)?;
    if method != "ACK" && method != "CANCEL" {
        let required: Vec<&str> = message
            .values("require")
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect();
        if !required.is_empty() {
            return Err(Problem {
                status: 420,
                reason: "Bad Extension".into(),
                extra_headers: vec![format!("Unsupported: {}", required.join(", "))],
            });
        }
    }
    Ok(length)
}

fn check_headers(message: &RawSipMessage<'_>) -> Result<(), Problem> {
    for name in SINGLE_VALUED {
        if message.values(name).count() > 1 {
            return Err(bad_request(format!(
                "Duplicate {} header",
                display_name(name)
            )));
        }
    }
    for name in ["to", "from", "cseq"] {
        if message.first(name).is_none() {
            return Err(bad_request(format!(
                "Missing {} header",
                display_name(name)
            )));
        }
    }
    for name in ADDRESS_HEADERS {
        for value in message.values(name) {
            check_name_addr(value).map_err(|why| {
                bad_request(format!("Malformed {} header: {why}", display_name(name)))
            })?;
        }
    }
    if let Some(date) = message.first("date")
        && !date.ends_with("GMT")
    {
        return Err(bad_request("Date header not in GMT"));
    }
    Ok(())
}

fn display_name(name: &str) -> &'static str {
    match name {
        "to" => "To",
        "from" => "From",
        "call-id" => "Call-ID",
        "cseq" => "CSeq",
        "max-forwards" => "Max-Forwards",
        "content-length" => "Content-Length",
        "content-type" => "Content-Type",
        "reply-to" => "Reply-To",
        _ => "a",
    }
}

/// RFC 3261 20.10 / 25.1: `[display-name] <uri> *(;param)` or `addr-spec *(;param)`.
fn check_name_addr(value: &str) -> Result<(), &'static str> {
    let mut in_quotes = false;
    let mut escaped = false;
    let mut angle_open = None;
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            '<' if !in_quotes && angle_open.is_none() => angle_open = Some(i),
            _ => {}
        }
    }
    if in_quotes {
        return Err("unterminated quoted string");
    }
    match angle_open {
        Some(open) => {
            let display = value[..open].trim();
            let after = &value[open + 1..];
            let close = after.find('>').ok_or("'<' without '>'")?;
            if after[..close].chars().any(char::is_whitespace) {
                return Err("whitespace inside the URI");
            }
            let quoted = display.starts_with('"') && display.ends_with('"') && display.len() >= 2;
            let tokens = display
                .split_whitespace()
                .all(|word| word.bytes().all(is_token_byte));
            if !quoted && !tokens {
                return Err("display name is neither quoted nor tokens");
            }
            Ok(())
        }
        None => {
            let spec = value.split(';').next().unwrap_or_default().trim();
            if spec.chars().any(char::is_whitespace) || spec.contains('"') {
                return Err("whitespace in an addr-spec");
            }
            if spec.contains(['?', ',']) {
                return Err("URI with '?' or ',' must be enclosed in <>");
            }
            Ok(())
        }
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// RFC 3261 18.3 and 20.14: the length to hand on, or 400.
fn check_content_length(message: &RawSipMessage<'_>) -> Result<usize, Problem> {
    let whole = message.body_offset + message.body.len();
    let Some(value) = message.first("content-length") else {
        return Ok(whole);
    };
    let length = (!value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()))
        .then(|| value.parse::<u32>().ok())
        .flatten()
        .ok_or_else(|| bad_request("Malformed Content-Length"))?;
    let length = usize::try_from(length).map_err(|_| bad_request("Content-Length too large"))?;
    if length > message.body.len() {
        return Err(bad_request("Content-Length larger than the body"));
    }
    Ok(message.body_offset + length)
}

fn check_cseq(message: &RawSipMessage<'_>, method: &str) -> Result<(), Problem> {
    let cseq = message.first("cseq").unwrap_or_default();
    let mut words = cseq.split_whitespace();
    let (Some(number), Some(cseq_method), None) = (words.next(), words.next(), words.next()) else {
        return Err(bad_request("Malformed CSeq"));
    };
    let in_range = number.bytes().all(|b| b.is_ascii_digit())
        && number.parse::<u32>().is_ok_and(|n| n < 1 << 31);
    if !in_range {
        return Err(bad_request("CSeq number out of range"));
    }
    if cseq_method != method {
        return Err(bad_request("CSeq method does not match the Request-Line"));
    }
    Ok(())
}

fn check_request_uri(uri: &str) -> Result<(), Problem> {
    if uri.starts_with('<') {
        return Err(bad_request("Request-URI enclosed in <>"));
    }
    let scheme = uri
        .split_once(':')
        .map(|(s, _)| s)
        .filter(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        })
        .ok_or_else(|| bad_request("Malformed Request-URI"))?;
    let scheme = scheme.to_ascii_lowercase();
    if !KNOWN_SCHEMES.contains(&scheme.as_str()) {
        return Err(Problem {
            status: 416,
            reason: "Unsupported URI Scheme".into(),
            extra_headers: Vec::new(),
        });
    }
    if scheme.starts_with("sip") && uri.contains('?') {
        return Err(bad_request("Headers not allowed in the Request-URI"));
    }
    Ok(())
}

fn check_max_forwards(message: &RawSipMessage<'_>) -> Result<(), Problem> {
    let Some(value) = message.first("max-forwards") else {
        return Ok(());
    };
    let hops = value
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| value.parse::<u8>().ok())
        .flatten()
        .ok_or_else(|| bad_request("Max-Forwards out of range"))?;
    if hops == 0 {
        return Err(Problem {
            status: 483,
            reason: "Too Many Hops".into(),
            extra_headers: Vec::new(),
        });
    }
    Ok(())
}

/// RFC 3261 8.2.6.2: the request's Via values, From, To (with a tag added), Call-ID, CSeq.
/// A response to `message` with `status`, `reason` and `extra_headers`, rendered as the
/// screen renders its own refusals (for the other checks at the door, `request_guard`).
pub(crate) fn render_refusal(
    message: &RawSipMessage<'_>,
    status: u16,
    reason: &str,
    extra_headers: Vec<String>,
) -> Vec<u8> {
    render_response(
        message,
        &Problem {
            status,
            reason: reason.to_string(),
            extra_headers,
        },
    )
}

/// Copied values go out on one line each: a bare CR or LF in them becomes a space, so no
/// header of the request can put a line of its own into our response.
fn render_response(message: &RawSipMessage<'_>, problem: &Problem) -> Vec<u8> {
    let mut out = format!("SIP/2.0 {} {}\r\n", problem.status, problem.reason);
    let mut line = |name: &str, value: &str| {
        out.push_str(name);
        out.push_str(": ");
        out.extend(
            value
                .chars()
                .map(|c| if c == '\r' || c == '\n' { ' ' } else { c }),
        );
        out.push_str("\r\n");
    };
    for via in message.values("via") {
        line("Via", via);
    }
    if let Some(from) = message.first("from") {
        line("From", from);
    }
    if let Some(to) = message.first("to") {
        if to.contains(";tag=") {
            line("To", to);
        } else {
            line("To", &format!("{to};tag=hl{:08x}", rand::random::<u32>()));
        }
    }
    for name in ["call-id", "cseq"] {
        if let Some(value) = message.first(name) {
            line(display_name(name), value);
        }
    }
    for header in &problem.extra_headers {
        let (name, value) = header.split_once(": ").unwrap_or((header, ""));
        line(name, value);
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALLOW: &str = "INVITE, ACK";

    fn request(start: &str, extra: &str) -> Vec<u8> {
        format!(
            "{start}\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nMax-Forwards: 70\r\n\
             To: <sip:b@h>\r\nFrom: \"A\" <sip:a@h>;tag=1\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n\
             {extra}Content-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    fn status(bytes: &[u8]) -> Option<u16> {
        match screen(bytes, ALLOW) {
            Verdict::Reject(rejection) => Some(rejection.status),
            _ => None,
        }
    }

    #[test]
    fn a_plain_request_passes_whole() {
        let bytes = request("OPTIONS sip:b@h SIP/2.0", "");
        assert_eq!(
            screen(&bytes, ALLOW),
            Verdict::Pass {
                length: bytes.len()
            }
        );
    }

    #[test]
    fn each_rule_gives_its_status() {
        let cases: [(&str, &str, u16); 14] = [
            ("OPTIONS sip:b@h SIP/7.0", "", 505),
            ("OPTIONS  sip:b@h SIP/2.0", "", 400),
            ("OPTIONS sip:b@h SIP/2.0 ", "", 400),
            ("OPTIONS <sip:b@h> SIP/2.0", "", 400),
            ("OPTIONS gopher:b@h SIP/2.0", "", 416),
            ("OPTIONS sip:b@h?Route=x SIP/2.0", "", 400),
            ("INVITE sip:b@h SIP/2.0", "", 400),
            ("OPTIONS sip:b@h SIP/2.0", "t: <sip:c@h>\r\n", 400),
            ("OPTIONS sip:b@h SIP/2.0", "Require: foo\r\n", 420),
            (
                "OPTIONS sip:b@h SIP/2.0",
                "Date: Fri, 04 Dec 2026 22:00:00 EST\r\n",
                400,
            ),
            (
                "OPTIONS sip:b@h SIP/2.0",
                "Reply-To: \"open <sip:x@h>\r\n",
                400,
            ),
            ("OPTIONS sip:b@h SIP/2.0", "Reply-To: <sip:x @h>\r\n", 400),
            (
                "OPTIONS sip:b@h SIP/2.0",
                "Reply-To: a@b: <sip:x@h>\r\n",
                400,
            ),
            ("OPTIONS sip:b@h SIP/2.0", "Content-Length: 1\r\n", 400),
        ];
        for (start, extra, want) in cases {
            assert_eq!(
                status(&request(start, extra)),
                Some(want),
                "{start} / {extra}"
            );
        }
    }

    #[test]
    fn unknown_method_gets_501_with_allow_and_max_forwards_zero_483() {
        let unknown = request("FOO sip:b@h SIP/2.0", "").replace_cseq("1 FOO");
        match screen(&unknown, ALLOW) {
            Verdict::Reject(r) => {
                assert_eq!(r.status, 501);
                assert!(String::from_utf8_lossy(&r.response).contains("Allow: INVITE, ACK\r\n"));
            }
            other => panic!("{other:?}"),
        }
        let text = String::from_utf8_lossy(&request("OPTIONS sip:b@h SIP/2.0", ""))
            .replace("Max-Forwards: 70", "Max-Forwards: 0");
        assert_eq!(status(text.as_bytes()), Some(483));
    }

    #[test]
    fn refusal_copies_the_transaction_headers_and_tags_to() {
        let Verdict::Reject(r) = screen(&request("OPTIONS sip:b@h SIP/7.0", ""), ALLOW) else {
            panic!("not refused");
        };
        let text = String::from_utf8_lossy(&r.response);
        assert!(
            text.starts_with("SIP/2.0 505 Version Not Supported\r\n"),
            "{text}"
        );
        for line in [
            "Via: SIP/2.0/UDP h;branch=z9hG4bK1",
            "Call-ID: c1",
            "CSeq: 1 OPTIONS",
        ] {
            assert!(text.contains(line), "{line} missing: {text}");
        }
        assert!(text.contains("To: <sip:b@h>;tag="), "{text}");
    }

    /// Found by the fuzz targets (fuzz/regressions/sip_message/bare-cr-in-cseq): a bare CR
    /// or LF inside a header value was copied into the refusal, where a peer that ends lines
    /// at either would read a header the caller wrote.
    #[test]
    fn a_refusal_never_carries_the_callers_line_breaks() {
        let text = String::from_utf8_lossy(&request("OPTIONS sip:b@h SIP/7.0", ""))
            .replace("branch=z9hG4bK1", "branch=z9hG4bK1\nX-Evil: 1")
            .replace("CSeq: 1 OPTIONS", "CSeq: 1 OPTIONS\rX-Evil: 2");
        let Verdict::Reject(r) = screen(text.as_bytes(), ALLOW) else {
            panic!("not refused");
        };
        let response = String::from_utf8_lossy(&r.response);
        assert_eq!(
            response.matches('\r').count(),
            response.matches("\r\n").count(),
            "{response:?}"
        );
        assert_eq!(
            response.matches('\n').count(),
            response.matches("\r\n").count(),
            "{response:?}"
        );
        assert!(response.contains("Via: SIP/2.0/UDP h;branch=z9hG4bK1 X-Evil: 1\r\n"));
        assert!(response.contains("CSeq: 1 OPTIONS X-Evil: 2\r\n"));
    }

    #[test]
    fn unanswerable_stray_and_ack_are_dropped() {
        let no_via = String::from_utf8_lossy(&request("OPTIONS sip:b@h SIP/2.0", ""))
            .replace("Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n", "");
        assert!(matches!(screen(no_via.as_bytes(), ALLOW), Verdict::Drop(_)));
        let huge = b"SIP/2.0 4294967301 Big\r\nVia: x\r\n\r\n";
        assert!(matches!(screen(huge, ALLOW), Verdict::Drop(_)));
        let ack = request("ACK sip:b@h SIP/7.0", "").replace_cseq("1 ACK");
        assert!(matches!(
            screen(&ack, ALLOW),
            Verdict::Drop(DropReason::BadAck(505))
        ));
    }

    #[test]
    fn datagram_octets_after_content_length_are_cut() {
        let mut bytes = request("OPTIONS sip:b@h SIP/2.0", "");
        let whole = bytes.len();
        bytes.extend_from_slice(b"junk");
        assert_eq!(screen(&bytes, ALLOW), Verdict::Pass { length: whole });
    }

    trait ReplaceCseq {
        fn replace_cseq(&self, cseq: &str) -> Vec<u8>;
    }

    impl ReplaceCseq for Vec<u8> {
        fn replace_cseq(&self, cseq: &str) -> Vec<u8> {
            String::from_utf8_lossy(self)
                .replace("CSeq: 1 OPTIONS", &format!("CSeq: {cseq}"))
                .into_bytes()
        }
    }
}
