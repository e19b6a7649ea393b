//! One RTCP compound datagram from the peer: the first SR or RR is read for its loss and
//! jitter figures, with every field taken from inside the datagram.

use sip_bridge::rtcp_report::parse_report;

pub fn run(data: &[u8]) {
    let Some(report) = parse_report(data) else {
        return;
    };
    assert!(data.len() >= 8, "a report from {} bytes", data.len());
    if let Some(block) = report.block {
        assert!((0.0..1.0).contains(&block.fraction_lost));
        assert!((-(1 << 23)..(1 << 23)).contains(&block.cumulative_lost));
    }
}
