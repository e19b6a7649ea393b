//! RFC 4733 telephone-event payloads in, digits out, each digit once (and the payload format
//! itself, which the sending side writes).
//!
//! A sender repeats packets for one key press (same RTP timestamp) while the key is held and
//! sends the end packet three times. We report the digit at its first end packet; if the end
//! packets were all lost, the digit is reported when the next event (new timestamp) starts.

use crate::error::RtpError;

/// One decoded telephone-event payload (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    pub event: u8,
    pub end: bool,
    pub volume: u8,
    pub duration: u16,
}

impl TelephoneEvent {
    pub fn parse(payload: &[u8]) -> Result<TelephoneEvent, RtpError> {
        let bytes: [u8; 4] = payload
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .ok_or(RtpError::TooShort(payload.len()))?;
        Ok(TelephoneEvent {
            event: bytes[0],
            end: bytes[1] & 0x80 != 0,
            volume: bytes[1] & 0x3f,
            duration: u16::from_be_bytes([bytes[2], bytes[3]]),
        })
    }

    /// The 4-byte payload (§2.3): event, E bit and volume, duration.
    pub fn to_bytes(self) -> [u8; 4] {
        let duration = self.duration.to_be_bytes();
        [
            self.event,
            (u8::from(self.end) << 7) | (self.volume & 0x3f),
            duration[0],
            duration[1],
        ]
    }

    /// The event code of a DTMF key (`0-9`, `*`, `#`, `A-D`, case-insensitive).
    pub fn event_for_digit(digit: char) -> Option<u8> {
        match digit.to_ascii_uppercase() {
            d @ '0'..='9' => Some(d as u8 - b'0'),
            '*' => Some(10),
            '#' => Some(11),
            d @ 'A'..='D' => Some(d as u8 - b'A' + 12),
            _ => None,
        }
    }

    /// The DTMF character for events 0-15 (`0-9`, `*`, `#`, `A-D`); `None` for other tones.
    pub fn digit(self) -> Option<char> {
        match self.event {
            0..=9 => Some(char::from(b'0' + self.event)),
            10 => Some('*'),
            11 => Some('#'),
            12..=15 => Some(char::from(b'A' + self.event - 12)),
            _ => None,
        }
    }
}

/// Turns a stream of telephone-event packets into digits, deduplicated by RTP timestamp.
#[derive(Debug, Default)]
pub struct DtmfDetector {
    /// The event in progress: (RTP timestamp, digit, already reported).
    current: Option<(u32, Option<char>, bool)>,
}

impl DtmfDetector {
    pub fn new() -> DtmfDetector {
        DtmfDetector::default()
    }

    /// Feeds one packet; returns up to two digits (a previous unfinished one, then this one).
    pub fn on_packet(&mut self, timestamp: u32, payload: &[u8]) -> [Option<char>; 2] {
        let Ok(event) = TelephoneEvent::parse(payload) else {
            return [None, None];
        };
        let mut earlier = None;
        match self.current {
            Some((ts, _, _)) if ts == timestamp => {}
            Some((_, digit, reported)) => {
                if !reported {
                    earlier = digit;
                }
                self.current = Some((timestamp, event.digit(), false));
            }
            None => self.current = Some((timestamp, event.digit(), false)),
        }
        let mut now = None;
        if let Some((_, digit, reported)) = &mut self.current
            && event.end
            && !*reported
        {
            *reported = true;
            now = *digit;
        }
        [earlier, now]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(event: u8, end: bool, duration: u16) -> [u8; 4] {
        let d = duration.to_be_bytes();
        [event, if end { 0x80 | 10 } else { 10 }, d[0], d[1]]
    }

    #[test]
    fn decodes_fields_and_digits() {
        let e = TelephoneEvent::parse(&payload(11, true, 800)).unwrap();
        assert_eq!(
            e,
            TelephoneEvent {
                event: 11,
                end: true,
                volume: 10,
                duration: 800
            }
        );
        assert_eq!(e.digit(), Some('#'));
        let digits: String = (0..16)
            .filter_map(|n| {
                TelephoneEvent {
                    event: n,
                    end: false,
                    volume: 0,
                    duration: 0,
                }
                .digit()
            })
            .collect();
        assert_eq!(digits, "0123456789*#ABCD");
        assert!(TelephoneEvent::parse(&[1, 2]).is_err());
        for (n, digit) in digits.chars().enumerate() {
            assert_eq!(TelephoneEvent::event_for_digit(digit), Some(n as u8));
        }
        assert_eq!(TelephoneEvent::event_for_digit('b'), Some(13));
        assert_eq!(TelephoneEvent::event_for_digit('E'), None);
        let e = TelephoneEvent {
            event: 11,
            end: true,
            volume: 10,
            duration: 800,
        };
        assert_eq!(e.to_bytes(), payload(11, true, 800));
        assert_eq!(TelephoneEvent::parse(&e.to_bytes()).unwrap(), e);
    }

    #[test]
    fn one_digit_per_press_despite_repeated_end_packets() {
        let mut d = DtmfDetector::new();
        let mut got = Vec::new();
        for (ts, p) in [
            (1000, payload(5, false, 160)),
            (1000, payload(5, false, 320)),
            (1000, payload(5, true, 480)),
            (1000, payload(5, true, 480)),
            (1000, payload(5, true, 480)),
            (2000, payload(5, false, 160)),
            (2000, payload(5, true, 320)),
            (2000, payload(5, true, 320)),
        ] {
            got.extend(d.on_packet(ts, &p).into_iter().flatten());
        }
        assert_eq!(got, vec!['5', '5']);
    }

    #[test]
    fn digit_with_lost_end_packets_is_reported_when_the_next_starts() {
        let mut d = DtmfDetector::new();
        assert_eq!(d.on_packet(100, &payload(1, false, 160)), [None, None]);
        assert_eq!(d.on_packet(900, &payload(2, false, 160)), [Some('1'), None]);
        assert_eq!(d.on_packet(900, &payload(2, true, 320)), [None, Some('2')]);
    }
}
