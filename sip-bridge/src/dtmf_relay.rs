//! DTMF carried in SIP INFO requests (`application/dtmf-relay` and `application/dtmf`), for
//! trunks and phones that do not send RFC 4733 telephone-events in RTP.
//!
//! `application/dtmf-relay` bodies look like `Signal=5\r\nDuration=160\r\n`;
//! `application/dtmf` bodies are the key alone (`5`) or its event number (`10` = `*`).

/// The key named by an INFO body, if it carries one.
pub fn digit_from_info(content_type: &str, body: &[u8]) -> Option<char> {
    let text = std::str::from_utf8(body).ok()?;
    let content_type = content_type.trim().to_ascii_lowercase();
    if content_type.starts_with("application/dtmf-relay") {
        let value = text.lines().find_map(|line| {
            let (name, value) = line.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("signal")
                .then(|| value.trim())
        })?;
        key(value)
    } else if content_type.starts_with("application/dtmf") {
        key(text.trim())
    } else {
        None
    }
}

fn key(value: &str) -> Option<char> {
    let mut chars = value.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => {
            let c = c.to_ascii_uppercase();
            matches!(c, '0'..='9' | '*' | '#' | 'A'..='D').then_some(c)
        }
        // Some devices send the RFC 4733 event number: 10 = *, 11 = #, 12-15 = A-D.
        _ => match value.parse::<u8>().ok()? {
            10 => Some('*'),
            11 => Some('#'),
            n @ 12..=15 => Some(char::from(b'A' + (n - 12))),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtmf_relay_bodies() {
        assert_eq!(
            digit_from_info("application/dtmf-relay", b"Signal=5\r\nDuration=160\r\n"),
            Some('5')
        );
        assert_eq!(
            digit_from_info("Application/DTMF-Relay", b"signal= #\nDuration=100"),
            Some('#')
        );
        assert_eq!(
            digit_from_info("application/dtmf-relay", b"Signal=11\r\n"),
            Some('#')
        );
        assert_eq!(digit_from_info("application/dtmf", b"*"), Some('*'));
        assert_eq!(digit_from_info("application/dtmf", b"13"), Some('B'));
    }

    #[test]
    fn other_bodies_carry_no_digit() {
        assert_eq!(
            digit_from_info("application/dtmf-relay", b"Duration=160"),
            None
        );
        assert_eq!(digit_from_info("application/dtmf-relay", b"Signal=x"), None);
        assert_eq!(
            digit_from_info("application/dtmf-relay", b"Signal=16"),
            None
        );
        assert_eq!(digit_from_info("application/sdp", b"Signal=5"), None);
        assert_eq!(digit_from_info("application/dtmf", b"\xff"), None);
    }
}
