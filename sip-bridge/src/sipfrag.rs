//! Reads the progress of a blind transfer from a NOTIFY's `message/sipfrag` body (RFC 3515).
//!
//! After we REFER the caller away, the trunk reports how its INVITE to the target is going by
//! sending NOTIFYs whose body is the status line of that INVITE's response, e.g.
//! `SIP/2.0 180 Ringing`, then `SIP/2.0 200 OK` (transfer done) or `SIP/2.0 486 Busy Here`.

/// Where a REFERred call stands, as the trunk reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferProgress {
    /// 1xx: the target is being called.
    Trying(u16),
    /// 2xx: the caller is connected to the target; our leg should end.
    Succeeded(u16),
    /// 3xx-6xx: the target could not be reached; the caller is still with us.
    Failed(u16),
}

impl ReferProgress {
    /// Parses a sipfrag body. Returns `None` when there is no `SIP/2.0 <code>` status line.
    pub fn parse(body: &[u8]) -> Option<ReferProgress> {
        let text = std::str::from_utf8(body).ok()?;
        let line = text.lines().map(str::trim).find(|l| {
            l.len() > 8
                && l.get(..8)
                    .is_some_and(|p| p.eq_ignore_ascii_case("SIP/2.0 "))
        })?;
        let code: u16 = line[8..].split_ascii_whitespace().next()?.parse().ok()?;
        match code {
            100..=199 => Some(ReferProgress::Trying(code)),
            200..=299 => Some(ReferProgress::Succeeded(code)),
            300..=699 => Some(ReferProgress::Failed(code)),
            _ => None,
        }
    }

    /// Whether no further NOTIFY is expected.
    pub fn is_final(self) -> bool {
        !matches!(self, ReferProgress::Trying(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_status_lines_of_every_class() {
        assert_eq!(
            ReferProgress::parse(b"SIP/2.0 100 Trying\r\n"),
            Some(ReferProgress::Trying(100))
        );
        assert_eq!(
            ReferProgress::parse(b"SIP/2.0 200 OK"),
            Some(ReferProgress::Succeeded(200))
        );
        assert_eq!(
            ReferProgress::parse(b"\r\nsip/2.0 486 Busy Here\r\nContent-Length: 0\r\n"),
            Some(ReferProgress::Failed(486))
        );
        assert!(ReferProgress::Failed(603).is_final());
        assert!(!ReferProgress::Trying(180).is_final());
    }

    #[test]
    fn garbage_is_not_progress() {
        for body in [
            &b""[..],
            b"SIP/2.0",
            b"SIP/2.0 abc OK",
            b"SIP/2.0 999 Weird",
            b"\xff\xfe",
            b"HTTP/1.1 200 OK",
        ] {
            assert_eq!(ReferProgress::parse(body), None, "{body:?}");
        }
    }

    /// Found by the `sipfrag` fuzz target (fuzz/regressions/sipfrag/multibyte-at-byte-8): a
    /// line whose 8th byte falls inside a UTF-8 character was sliced there (a panic on a
    /// NOTIFY's body during a transfer).
    #[test]
    fn a_character_across_byte_8_is_not_a_status_line() {
        assert_eq!(ReferProgress::parse("SIP\t\0\0\0ТI 200".as_bytes()), None);
        assert_eq!(ReferProgress::parse("SIP/2.0Т200 OK".as_bytes()), None);
        assert_eq!(
            ReferProgress::parse("Т\r\nSIP/2.0 180 Ringing".as_bytes()),
            Some(ReferProgress::Trying(180))
        );
    }
}
