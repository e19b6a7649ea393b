//! RTP fixed header (RFC 3550 §5.1): parse what arrives, write what we send.
//!
//! Only what an audio leg needs: version 2, CSRCs and header extensions skipped, padding removed.
//! Parsing never panics; anything inconsistent is a typed error and the packet is dropped.

use crate::error::RtpError;

/// Size of the fixed RTP header without CSRCs or extensions.
pub const RTP_HEADER_LEN: usize = 12;

/// A parsed RTP packet borrowing its payload from the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    pub marker: bool,
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    pub payload: &'a [u8],
}

impl<'a> RtpPacket<'a> {
    /// Parses one datagram.
    pub fn parse(datagram: &'a [u8]) -> Result<RtpPacket<'a>, RtpError> {
        if datagram.len() < RTP_HEADER_LEN {
            return Err(RtpError::TooShort(datagram.len()));
        }
        let version = datagram[0] >> 6;
        if version != 2 {
            return Err(RtpError::BadVersion(version));
        }
        let padding = datagram[0] & 0x20 != 0;
        let extension = datagram[0] & 0x10 != 0;
        let csrc_count = usize::from(datagram[0] & 0x0f);
        let marker = datagram[1] & 0x80 != 0;
        let payload_type = datagram[1] & 0x7f;
        let sequence = u16::from_be_bytes([datagram[2], datagram[3]]);
        let timestamp = u32::from_be_bytes([datagram[4], datagram[5], datagram[6], datagram[7]]);
        let ssrc = u32::from_be_bytes([datagram[8], datagram[9], datagram[10], datagram[11]]);

        let mut start = RTP_HEADER_LEN + 4 * csrc_count;
        if extension {
            let words = datagram
                .get(start + 2..start + 4)
                .ok_or(RtpError::Truncated)?;
            start += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
        }
        let mut end = datagram.len();
        if padding {
            let pad = usize::from(*datagram.last().ok_or(RtpError::Truncated)?);
            end = end.checked_sub(pad).ok_or(RtpError::Truncated)?;
        }
        if start > end {
            return Err(RtpError::Truncated);
        }
        Ok(RtpPacket {
            marker,
            payload_type,
            sequence,
            timestamp,
            ssrc,
            payload: &datagram[start..end],
        })
    }

    /// Writes the packet (no CSRCs, no extension, no padding) into `out`, replacing its content.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.clear();
        out.reserve(RTP_HEADER_LEN + self.payload.len());
        out.push(0x80);
        out.push((u8::from(self.marker) << 7) | (self.payload_type & 0x7f));
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(self.payload);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_parse_round_trips() {
        let payload = [1u8, 2, 3, 4];
        let packet = RtpPacket {
            marker: true,
            payload_type: 8,
            sequence: 65535,
            timestamp: 0xdead_beef,
            ssrc: 42,
            payload: &payload,
        };
        let mut buf = Vec::new();
        packet.write_to(&mut buf);
        assert_eq!(buf.len(), 16);
        assert_eq!(RtpPacket::parse(&buf).unwrap(), packet);
    }

    #[test]
    fn skips_csrcs_extension_and_padding() {
        let mut buf = vec![0xb1, 0x00, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9];
        buf.extend_from_slice(&[0, 0, 0, 7]); // one CSRC
        buf.extend_from_slice(&[0xbe, 0xde, 0, 1, 1, 2, 3, 4]); // extension, one word
        buf.extend_from_slice(&[0xaa, 0xbb]); // payload
        buf.extend_from_slice(&[0, 0, 3]); // padding of 3
        let packet = RtpPacket::parse(&buf).unwrap();
        assert_eq!(packet.payload, &[0xaa, 0xbb]);
        assert_eq!(packet.sequence, 1);
        assert_eq!(packet.timestamp, 160);
    }

    #[test]
    fn rejects_bad_input_without_panicking() {
        assert!(matches!(
            RtpPacket::parse(&[0x80; 5]),
            Err(RtpError::TooShort(5))
        ));
        assert!(matches!(
            RtpPacket::parse(&[0x40; 12]),
            Err(RtpError::BadVersion(1))
        ));
        // CSRC count 15 but no room for them.
        assert!(RtpPacket::parse(&[0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
        // Padding larger than the packet.
        let mut padded = vec![0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200];
        assert!(RtpPacket::parse(&padded).is_err());
        padded[0] = 0x90; // extension header missing
        assert!(RtpPacket::parse(&padded).is_err());
    }
}
