//! One RTP datagram: the payload lies inside the datagram, and writing the parsed header back
//! gives a packet that parses to the same fields.

use sip_bridge::rtp_packet::{RTP_HEADER_LEN, RtpPacket};

pub fn run(data: &[u8]) {
    let Ok(packet) = RtpPacket::parse(data) else {
        return;
    };
    assert!(packet.payload.len() + RTP_HEADER_LEN <= data.len());
    let base = data.as_ptr() as usize;
    let at = packet.payload.as_ptr() as usize;
    assert!(at >= base + RTP_HEADER_LEN && at + packet.payload.len() <= base + data.len());
    let mut written = Vec::new();
    packet.write_to(&mut written);
    assert_eq!(written.len(), RTP_HEADER_LEN + packet.payload.len());
    assert_eq!(RtpPacket::parse(&written), Ok(packet));
}
