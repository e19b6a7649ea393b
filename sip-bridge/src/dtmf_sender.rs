//! DTMF out as RFC 4733 telephone-events: one key press becomes a run of packets, one per
//! 20 ms slot of the call's paced stream, without I/O.
//!
//! All packets of a press carry the RTP timestamp of the slot where it began. The first has
//! the marker bit; each later one reports the duration so far; the last duration is sent three
//! times with the E bit (§2.5.1.4), so a receiver that loses one still sees the end. Durations
//! count units of the telephone-event clock (8000 or 48000 Hz, as negotiated).

use std::time::Duration;

use crate::dtmf_event::TelephoneEvent;
use crate::error::DtmfSendError;
use crate::pacing_clock::PACKET_INTERVAL;

/// Shortest key press we send (ITU-T Q.24 receivers need 40 ms).
pub const MIN_DTMF_DURATION: Duration = Duration::from_millis(40);
/// Longest key press we send (the 16-bit duration holds 1.36 s at 48 kHz).
pub const MAX_DTMF_DURATION: Duration = Duration::from_millis(1000);
/// Tone level in the payload: −10 dBm0, what phones send.
const VOLUME: u8 = 10;
/// How often the end packet is sent.
const END_PACKETS: u32 = 3;

/// A validated key press waiting for its turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfTone {
    digit: char,
    event: u8,
    duration: Duration,
}

impl DtmfTone {
    /// A key (`0-9`, `*`, `#`, `A-D`) held for `duration` (40 ms - 1 s).
    pub fn new(digit: char, duration: Duration) -> Result<DtmfTone, DtmfSendError> {
        let event = TelephoneEvent::event_for_digit(digit).ok_or(DtmfSendError::NotAKey(digit))?;
        if !(MIN_DTMF_DURATION..=MAX_DTMF_DURATION).contains(&duration) {
            return Err(DtmfSendError::BadDuration {
                millis: duration.as_millis(),
            });
        }
        Ok(DtmfTone {
            digit: digit.to_ascii_uppercase(),
            event,
            duration,
        })
    }

    /// The key (upper case for `A-D`).
    pub fn digit(self) -> char {
        self.digit
    }

    /// The RFC 4733 event code (0-15).
    pub fn event(self) -> u8 {
        self.event
    }

    pub fn duration(self) -> Duration {
        self.duration
    }

    /// Slots the tone itself lasts (rounded up to whole 20 ms packets).
    fn tone_slots(self) -> u32 {
        let nanos = self
            .duration
            .as_nanos()
            .div_ceil(PACKET_INTERVAL.as_nanos());
        u32::try_from(nanos).unwrap_or(u32::MAX).max(2)
    }

    /// Slots the whole press takes on the wire: the tone, then the repeated end packets.
    pub fn slots(self) -> u32 {
        self.tone_slots() + END_PACKETS - 1
    }
}

/// One telephone-event packet to send in this slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPacket {
    pub marker: bool,
    /// The RTP timestamp of the press (the same for all its packets).
    pub timestamp: u32,
    pub payload: [u8; 4],
}

/// A key press being sent, one packet per slot.
#[derive(Debug, Clone)]
pub struct DtmfEventSender {
    tone: DtmfTone,
    timestamp: u32,
    units_per_slot: u32,
    sent: u32,
}

impl DtmfEventSender {
    /// Starts `tone` in the slot whose RTP timestamp is `timestamp`, with durations counted at
    /// `event_clock_rate` Hz.
    pub fn start(tone: DtmfTone, timestamp: u32, event_clock_rate: u32) -> DtmfEventSender {
        DtmfEventSender {
            tone,
            timestamp,
            units_per_slot: event_clock_rate / 50,
            sent: 0,
        }
    }

    /// The packet for the next slot, or `None` once the press is over.
    pub fn next_packet(&mut self) -> Option<EventPacket> {
        let slot = self.sent;
        if slot >= self.tone.slots() {
            return None;
        }
        self.sent += 1;
        let tone_slots = self.tone.tone_slots();
        let end = slot + 1 >= tone_slots;
        let units = (slot + 1)
            .min(tone_slots)
            .saturating_mul(self.units_per_slot);
        let payload = TelephoneEvent {
            event: self.tone.event,
            end,
            volume: VOLUME,
            duration: u16::try_from(units).unwrap_or(u16::MAX),
        }
        .to_bytes();
        Some(EventPacket {
            marker: slot == 0,
            timestamp: self.timestamp,
            payload,
        })
    }

    /// Whether every packet of the press has been handed out.
    pub fn is_done(&self) -> bool {
        self.sent >= self.tone.slots()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtmf_event::DtmfDetector;

    fn all_packets(tone: DtmfTone, timestamp: u32, rate: u32) -> Vec<EventPacket> {
        let mut sender = DtmfEventSender::start(tone, timestamp, rate);
        let mut packets = Vec::new();
        while let Some(packet) = sender.next_packet() {
            packets.push(packet);
        }
        assert!(sender.is_done());
        assert_eq!(packets.len() as u32, tone.slots());
        packets
    }

    #[test]
    fn a_100_ms_press_at_8_khz() {
        let tone = DtmfTone::new('#', Duration::from_millis(100)).unwrap();
        let packets = all_packets(tone, 12_345, 8000);
        let fields: Vec<(bool, TelephoneEvent)> = packets
            .iter()
            .map(|p| (p.marker, TelephoneEvent::parse(&p.payload).unwrap()))
            .collect();
        let durations: Vec<u16> = fields.iter().map(|(_, e)| e.duration).collect();
        assert_eq!(durations, [160, 320, 480, 640, 800, 800, 800]);
        let ends: Vec<bool> = fields.iter().map(|(_, e)| e.end).collect();
        assert_eq!(ends, [false, false, false, false, true, true, true]);
        let markers: Vec<bool> = fields.iter().map(|(m, _)| *m).collect();
        assert_eq!(markers, [true, false, false, false, false, false, false]);
        assert!(packets.iter().all(|p| p.timestamp == 12_345));
        assert!(fields.iter().all(|(_, e)| e.event == 11 && e.volume == 10));
    }

    #[test]
    fn durations_count_48_khz_units_with_opus_and_round_up_to_slots() {
        let tone = DtmfTone::new('7', Duration::from_millis(50)).unwrap();
        let packets = all_packets(tone, 0, 48_000);
        let durations: Vec<u16> = packets
            .iter()
            .map(|p| TelephoneEvent::parse(&p.payload).unwrap().duration)
            .collect();
        assert_eq!(durations, [960, 1920, 2880, 2880, 2880]);
        let longest = DtmfTone::new('1', MAX_DTMF_DURATION).unwrap();
        let last = *all_packets(longest, 0, 48_000).last().unwrap();
        assert_eq!(
            TelephoneEvent::parse(&last.payload).unwrap().duration,
            48_000
        );
    }

    #[test]
    fn our_own_detector_reads_each_press_once() {
        let mut detector = DtmfDetector::new();
        let mut heard = String::new();
        for (n, digit) in "1#9".chars().enumerate() {
            let tone = DtmfTone::new(digit, Duration::from_millis(80)).unwrap();
            for packet in all_packets(tone, 1000 * n as u32, 8000) {
                heard.extend(
                    detector
                        .on_packet(packet.timestamp, &packet.payload)
                        .into_iter()
                        .flatten(),
                );
            }
        }
        assert_eq!(heard, "1#9");
    }

    #[test]
    fn bad_keys_and_durations_are_refused_with_the_fix() {
        assert_eq!(
            DtmfTone::new('x', Duration::from_millis(100)),
            Err(DtmfSendError::NotAKey('x'))
        );
        let short = DtmfTone::new('1', Duration::from_millis(10)).unwrap_err();
        assert_eq!(short, DtmfSendError::BadDuration { millis: 10 });
        assert!(short.to_string().contains("40-1000 ms"), "{short}");
        assert!(DtmfTone::new('1', Duration::from_secs(2)).is_err());
        let d = DtmfTone::new('d', MIN_DTMF_DURATION).unwrap();
        assert_eq!((d.event(), d.digit()), (15, 'D'));
    }
}
