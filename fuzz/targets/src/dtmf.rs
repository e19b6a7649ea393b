//! RFC 4733 telephone-event payloads: one payload round-trips through its 4 bytes, and a
//! stream of packets (4-byte timestamp, 1-byte length, payload, repeated) gives each key press
//! at most once, never more digits than events started.

use sip_bridge::dtmf_event::{DtmfDetector, TelephoneEvent};

pub fn run(data: &[u8]) {
    if let Ok(event) = TelephoneEvent::parse(data) {
        assert_eq!(
            event.to_bytes(),
            [data[0], data[1] & 0xbf, data[2], data[3]]
        );
        assert_eq!(TelephoneEvent::parse(&event.to_bytes()), Ok(event));
        if let Some(digit) = event.digit() {
            assert_eq!(TelephoneEvent::event_for_digit(digit), Some(event.event));
        }
    }
    let mut detector = DtmfDetector::new();
    let mut rest = data;
    let mut events_started = 0usize;
    let mut digits = 0usize;
    let mut last_timestamp = None;
    while rest.len() >= 5 {
        let timestamp = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let len = usize::from(rest[4]).min(rest.len() - 5);
        let payload = &rest[5..5 + len];
        rest = &rest[5 + len..];
        if payload.len() >= 4 && last_timestamp != Some(timestamp) {
            events_started += 1;
            last_timestamp = Some(timestamp);
        }
        digits += detector
            .on_packet(timestamp, payload)
            .iter()
            .flatten()
            .count();
        assert!(
            digits <= events_started,
            "{digits} digits from {events_started} events"
        );
    }
}
