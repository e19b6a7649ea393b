//! A SIP message as one UDP datagram (or one message cut from a TCP stream): the screen in
//! front of rsipstack judges it, and what it passes goes through rsipstack's own parser.

use rsipstack::sip::SipMessage;
use sip_bridge::raw_sip_message::RawSipMessage;
use sip_bridge::sip_screen::{Verdict, screen};

/// The `Allow` value the bridge answers 501s with.
const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, INFO";

pub fn run(data: &[u8]) {
    if let Ok(message) = RawSipMessage::split(data) {
        assert!(message.body_offset <= data.len(), "body beyond the input");
        assert_eq!(message.body, &data[message.body_offset..]);
        for header in &message.headers {
            assert_eq!(header.name, header.name.to_ascii_lowercase());
            assert!(!header.value.contains("\r\n"), "a value keeps a line break");
        }
    }
    match screen(data, ALLOW) {
        Verdict::Pass { length } => {
            assert!(
                length <= data.len(),
                "passes {length} of {} bytes",
                data.len()
            );
            if let Ok(message) = SipMessage::try_from(&data[..length]) {
                // What the transaction layer does next with a parsed message.
                let _ = message.to_bytes();
                let _ = message.start_line();
            }
        }
        Verdict::Reject(rejection) => check_refusal(&rejection.response, rejection.status),
        Verdict::Drop(why) => {
            let _ = why.to_string();
        }
    }
}

/// Our refusal is one well-formed response: its status line, CRLF line ends only (no header
/// of the request can smuggle a line of its own into it), Content-Length 0 and nothing after.
fn check_refusal(response: &[u8], status: u16) {
    assert!((400..=699).contains(&status), "refused with {status}");
    let prefix = format!("SIP/2.0 {status} ");
    assert!(response.starts_with(prefix.as_bytes()), "status line");
    for (i, &b) in response.iter().enumerate() {
        match b {
            b'\r' => assert_eq!(response.get(i + 1), Some(&b'\n'), "bare CR at {i}"),
            b'\n' => assert_eq!(
                i.checked_sub(1).map(|p| response[p]),
                Some(b'\r'),
                "bare LF at {i}"
            ),
            _ => {}
        }
    }
    assert!(response.ends_with(b"Content-Length: 0\r\n\r\n"));
    let split = RawSipMessage::split(response).expect("our refusal splits");
    assert!(split.is_response());
    assert!(split.body.is_empty(), "bytes after the refusal's headers");
}
