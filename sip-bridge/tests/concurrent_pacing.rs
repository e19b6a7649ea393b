//! Measurement, not a unit test (ignored by default): N concurrent sipp calls, the bridge
//! sending its 20 ms stream to one receiver thread; reports outbound inter-packet deviation
//! p50/p99/max, packets lost, and CPU time of this process.
//!
//! `SIP_BRIDGE_CALLS=200 cargo test --release -p sip-bridge --test concurrent_pacing -- --ignored --nocapture`
//!
//! `SIP_BRIDGE_CODEC=opus` makes every caller offer Opus only (the bridge encodes Opus for all
//! of them on its pacing thread); `SIP_BRIDGE_PLAY=1` has the engine play a tone to every
//! caller for the whole call, so each slot encodes audio rather than silence.

mod support;

use std::collections::HashMap;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

use sip_bridge::rtp_packet::RtpPacket;
use support::engine::{Script, Seen, loopback_config, start};
use support::sipp::{SippRun, SippTransport, run_sipp_full};

fn cpu_seconds() -> f64 {
    // utime + stime of this process, in clock ticks (100 Hz on Linux).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn memory_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run with --ignored --release"]
async fn outbound_pacing_under_concurrent_calls() {
    let calls: usize = std::env::var("SIP_BRIDGE_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let opus = std::env::var("SIP_BRIDGE_CODEC").is_ok_and(|c| c.eq_ignore_ascii_case("opus"));
    let play = std::env::var("SIP_BRIDGE_PLAY").is_ok_and(|p| p == "1");
    let script = if play {
        Script::Play {
            hz: 600.0,
            amplitude: 8000.0,
            frames: 150,
            keys: None,
        }
    } else {
        Script::Echo
    };
    println!(
        "codec={} engine={}",
        if opus { "opus" } else { "pcmu" },
        if play { "tone" } else { "echo" }
    );
    let mut bridge = start(loopback_config("127.0.0.1"), script).await;

    // Receiver on its own OS thread so its timestamps do not wait on the bridge's runtime.
    let receiver = UdpSocket::bind("127.0.0.1:0").expect("receiver socket");
    receiver
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("read timeout");
    let rtp_port = receiver.local_addr().expect("addr").port();
    let recording = std::thread::spawn(move || {
        let mut streams: HashMap<u32, Vec<(Instant, u16)>> = HashMap::new();
        let mut buf = [0u8; 2048];
        let mut idle = 0;
        while idle < 15 {
            match receiver.recv_from(&mut buf) {
                Ok((len, _)) => {
                    idle = 0;
                    if let Ok(packet) = RtpPacket::parse(&buf[..len]) {
                        streams
                            .entry(packet.ssrc)
                            .or_default()
                            .push((Instant::now(), packet.sequence));
                    }
                }
                Err(_) => idle += 1,
            }
        }
        streams
    });

    let rss_before = memory_kib("VmRSS:");
    let cpu_before = cpu_seconds();
    let wall = Instant::now();
    let scenario = if opus {
        "uac_opus_call.xml"
    } else {
        "uac_call.xml"
    };
    let mut keys = vec![("rtp_port", rtp_port.to_string())];
    let mut extra_args = Vec::new();
    if opus {
        keys.push(("formats", "111 101".to_string()));
        extra_args = vec!["-d".to_string(), "2500".to_string()];
    }
    let outcome = run_sipp_full(SippRun {
        keys,
        extra_args,
        limit: Duration::from_secs(60),
        calls,
        transport: SippTransport::Udp,
        ..SippRun::new(scenario, Some(bridge.udp))
    })
    .await;
    let cpu = cpu_seconds() - cpu_before;
    let peak_growth_kib = memory_kib("VmHWM:").saturating_sub(rss_before);
    let elapsed = wall.elapsed();
    outcome.assert_passed(scenario);
    // sipp's own view of INVITE → 200 over the wire (rtd on the 200 of uac_call.xml;
    // millisecond resolution, so 00:00:00:000000 means under 1 ms on average).
    for line in outcome
        .output
        .lines()
        .filter(|l| l.contains("Response Time"))
    {
        println!("sipp: {}", line.trim());
    }
    let streams = recording.join().expect("receiver thread");
    let seen = bridge
        .collect_until(Duration::from_millis(500), |_| false)
        .await;
    let answered = seen
        .iter()
        .filter(|s| matches!(s, Seen::Answered(_)))
        .count();

    let mut deviations_ms = Vec::new();
    let mut lost = 0u64;
    let mut packets = 0usize;
    for arrivals in streams.values() {
        packets += arrivals.len();
        for pair in arrivals.windows(2).skip(3) {
            let gap = pair[1].0.duration_since(pair[0].0).as_secs_f64() * 1000.0;
            deviations_ms.push((gap - 20.0).abs());
            lost += u64::from(pair[1].1.wrapping_sub(pair[0].1).saturating_sub(1));
        }
    }
    deviations_ms.sort_by(f64::total_cmp);
    let mut setup_ms: Vec<f64> = bridge
        .answer_times
        .lock()
        .map(|t| t.iter().map(|d| d.as_secs_f64() * 1000.0).collect())
        .unwrap_or_default();
    setup_ms.sort_by(f64::total_cmp);
    println!(
        "answer (INVITE handed over → 200 sent) ms p50={:.3} p95={:.3} max={:.3}; \
         peak memory growth {} KiB = {:.1} KiB per call",
        percentile(&setup_ms, 0.5),
        percentile(&setup_ms, 0.95),
        setup_ms.last().copied().unwrap_or(f64::NAN),
        peak_growth_kib,
        peak_growth_kib as f64 / calls.max(1) as f64
    );
    println!(
        "calls={calls} answered={answered} streams={} packets={packets} lost={lost} \
         deviation_ms p50={:.3} p99={:.3} max={:.3} cpu_s={cpu:.2} wall_s={:.2}",
        streams.len(),
        percentile(&deviations_ms, 0.5),
        percentile(&deviations_ms, 0.99),
        deviations_ms.last().copied().unwrap_or(f64::NAN),
        elapsed.as_secs_f64()
    );
    assert!(!streams.is_empty(), "no RTP received at all");
}
