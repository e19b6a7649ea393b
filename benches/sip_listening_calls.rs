//! Concurrent listening calls over SIP through the FULL engine (issue #4's target: 200 calls,
//! RTP both ways, VAD running, no ASR; outbound inter-packet deviation p99 ≤ 2 ms, nothing
//! dropped by us). The engine loads in-process with `[sip]` on a free loopback port, wired
//! into the real call driver exactly as `hotline serve` does (Silero VAD per 20 ms frame,
//! greeting TTS, strict 20 ms play-out). sipp places the calls (`uac_call_long.xml`); every
//! call's SDP points at one UDP socket of ours. The kernel stamps each packet the engine sends
//! as it arrives (`SO_TIMESTAMPNS`), so the figures do not depend on when the bench's threads
//! get a core; a sender thread sends each call noise back (PCMU, 20 ms, a -63 dBFS floor, or
//! -40 dBFS hiss: the VAD runs on real input but nothing is speech, so ASR never starts).
//! The engine also counts how late each packet left against its own 20 ms schedule
//! (`sip_bridge::send_lateness`); both views are printed.
//!
//! Printed: calls answered, packets received, lost (sequence gaps), outbound deviation
//! |gap - 20 ms| p50/p99/max during the greeting (first 3 s of each stream) and after it,
//! CPU seconds of this process per call per second, peak RSS growth per call, and
//! INVITE → 200 as sipp saw it (per call, `-trace_rtt`, millisecond resolution).
//!
//! Run: `cargo bench --bench sip_listening_calls`. Environment:
//! - `HOTLINE_BENCH_SIP_CALLS` (default 200) concurrent calls, all placed within 1 s;
//! - `HOTLINE_BENCH_SIP_HOLD_MS` (default 10000) how long each call stays up after the 200.
//! - `HOTLINE_BENCH_SIP_LOUD_NOISE=1`: callers send -40 dBFS hiss instead of a -63 dBFS noise
//!   floor, so the VAD runs its model on every chunk (above `[call.vad] energy_gate_dbfs`).
//! - `HOTLINE_BENCH_SIP_BURST=1`: every caller sends its packet at the same instant (the worst
//!   case; by default the callers' packets are spread over the 20 ms, as independent phones'
//!   are).

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hotline::call::{CallOptions, spawn_call};
use hotline::channel::run_sip_channel;
use hotline::config::Config;
use hotline::engine::Engine;
use hotline::engine_runtime::build_engine_runtime;
use hotline::thread_priority::set_this_thread_nice;
use hotline::web::WebState;
use sip_bridge::rtp_packet::RtpPacket;

/// Each stream's first seconds carry the greeting; the steady-state figures start after.
const GREETING_WINDOW: Duration = Duration::from_secs(3);
/// RTP ports the engine takes per call (below Linux's ephemeral range, away from the tests').
const RTP_PORTS: (u16, u16) = (20000, 29999);
const FRAME: Duration = Duration::from_millis(20);
/// The callers' packets go out in this many groups, 1 ms apart (see `send_noise`).
const SPREAD_PHASES: usize = 20;
/// PCMU bytes per 20 ms.
const PCMU_FRAME: usize = 160;

fn main() {
    let calls = env_number("HOTLINE_BENCH_SIP_CALLS", 200);
    let hold_ms = env_number("HOTLINE_BENCH_SIP_HOLD_MS", 10_000);
    let command = format!(
        "HOTLINE_BENCH_SIP_CALLS={calls} HOTLINE_BENCH_SIP_HOLD_MS={hold_ms} cargo bench --bench sip_listening_calls"
    );
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .try_init();
    }
    if let Err(problem) = run(calls, hold_ms, &command) {
        eprintln!("sip_listening_calls: {problem}");
    }
}

fn run(calls: usize, hold_ms: usize, command: &str) -> Result<(), String> {
    let sip_port = free_udp_port()?;
    let mut config = Config::load(None).map_err(|e| e.to_string())?;
    config.sip.enabled = true;
    config.sip.udp_listen = format!("127.0.0.1:{sip_port}");
    config.sip.tcp_listen = String::new();
    config.sip.public_address = "127.0.0.1".into();
    config.sip.rtp_port_min = RTP_PORTS.0;
    config.sip.rtp_port_max = RTP_PORTS.1;
    config.sip.trunk_allowlist = vec!["127.0.0.1".into()];
    config.sip.register = None;
    config.sip.inbound_auth = None;
    let sip = config.sip.clone();
    let engine = Engine::load(config)
        .map_err(|e| format!("cannot load the engine ({e}); run `make models models-test-data`"))?;
    let engine = Arc::new(engine);
    let runtime =
        build_engine_runtime(&engine.config.server).map_err(|e| format!("tokio runtime: {e}"))?;
    runtime.block_on(async move {
        let human_line = hotline::channel::HumanLine::default();
        let state = WebState::live(Arc::clone(&engine), human_line.clone());
        let services = Arc::clone(&state.calls);
        let answered = Arc::new(AtomicUsize::new(0));
        let drivers = Arc::new(Mutex::new(Vec::new()));
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let channel = {
            let (answered, drivers) = (Arc::clone(&answered), Arc::clone(&drivers));
            tokio::spawn(run_sip_channel(
                engine,
                sip,
                human_line,
                // Every call the benchmark makes is taken: it measures the bridge, not the limit.
                hotline::lifecycle::Admission::new(usize::MAX / 2),
                move |leg| {
                    answered.fetch_add(1, Ordering::Relaxed);
                    let driver = spawn_call(Arc::clone(&services), leg, CallOptions::default());
                    if let Ok(mut drivers) = drivers.lock() {
                        drivers.push(driver);
                    }
                },
                async move {
                    let _ = stop_rx.await;
                },
            ))
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        if channel.is_finished() {
            return Err(format!("the SIP channel did not start: {:?}", channel.await));
        }

        let peer = CallerMedia::start()?;
        let rss_before = memory_kib("VmRSS:");
        let cpu_before = cpu_seconds();
        let started = Instant::now();
        let target: SocketAddr = ([127, 0, 0, 1], sip_port).into();
        let rtp_port = peer.port;
        let lateness_before = sip_bridge::send_lateness();
        // Every call is placed within 1 s, so from 4 s on all are past their greeting.
        let lateness_steady = tokio::spawn(async {
            tokio::time::sleep(GREETING_WINDOW + Duration::from_secs(1)).await;
            sip_bridge::send_lateness()
        });
        let sipp = tokio::task::spawn_blocking(move || run_sipp(target, rtp_port, calls, hold_ms))
            .await
            .map_err(|e| format!("sipp task: {e}"))??;
        let cpu = cpu_seconds() - cpu_before;
        let wall = started.elapsed().as_secs_f64();
        let lateness_end = sip_bridge::send_lateness();
        let lateness_steady = match lateness_steady.await {
            Ok(at_4_s) => lateness_end.since(&at_4_s),
            Err(_) => lateness_end.since(&lateness_before),
        };
        let recorded = peer.finish();
        let peak_growth_kib = recorded.peak_rss_kib.saturating_sub(rss_before);

        let _ = stop_tx.send(());
        let drivers: Vec<_> = drivers.lock().map(|mut d| d.drain(..).collect()).unwrap_or_default();
        let mut ends: HashMap<String, usize> = HashMap::new();
        for driver in drivers {
            let end = match tokio::time::timeout(Duration::from_secs(5), driver).await {
                Ok(Ok(summary)) => format!("{:?}", summary.end),
                Ok(Err(error)) => format!("driver task failed: {error}"),
                Err(_) => "still running 5 s after BYE".into(),
            };
            *ends.entry(end).or_default() += 1;
        }

        let stats = RtpStats::of(&recorded.streams);
        let mut setup = sipp.setup_ms.clone();
        setup.sort_by(f64::total_cmp);
        let answered = answered.load(Ordering::Relaxed);
        println!("## SIP listening calls through the full engine (VAD on, greeting, no ASR)");
        println!();
        println!("command: {command}");
        println!("cores: {}", std::thread::available_parallelism().map_or(0, |n| n.get()));
        println!(
            "sipp: {} (successful {} failed {}); calls answered by the engine {answered}/{calls}; \
             call ends {ends:?}",
            if sipp.success { "passed" } else { "FAILED" },
            sipp.successful,
            sipp.failed,
        );
        println!(
            "RTP out (engine → caller): streams {} packets {} lost (sequence gaps) {} \
             play-out slots skipped (timestamp jumps) {}; streams with audible greeting {}",
            recorded.streams.len(),
            stats.packets,
            stats.lost,
            stats.skipped_slots,
            stats.audible_streams
        );
        println!(
            "RTP in (caller → engine): packets sent {} ({}, PCMU 20 ms, {})",
            recorded.sent,
            if std::env::var("HOTLINE_BENCH_SIP_LOUD_NOISE").is_ok_and(|v| v == "1") {
                "-40 dBFS hiss"
            } else {
                "-63 dBFS noise floor"
            },
            if std::env::var("HOTLINE_BENCH_SIP_BURST").is_ok_and(|v| v == "1") {
                "all calls' packets at once"
            } else {
                "calls' packets spread over the 20 ms"
            }
        );
        print_deviation("outbound deviation |gap-20ms|, greeting (first 3 s)", &stats.greeting);
        print_deviation("outbound deviation |gap-20ms|, after 3 s         ", &stats.steady);
        print_lateness(
            "engine's send lateness vs slot (its own clock), whole run",
            &lateness_end.since(&lateness_before),
        );
        print_lateness(
            "engine's send lateness vs slot (its own clock), from 4 s",
            &lateness_steady,
        );
        print_deviation(
            "bench's own sender thread, wake-up lateness (host noise)",
            &recorded.sender_late_ms,
        );
        println!(
            "CPU: {cpu:.2} s over {wall:.2} s wall = {:.2} cores; {:.5} CPU s per call per s ({:.2} % of a core per call)",
            cpu / wall,
            cpu / wall / calls.max(1) as f64,
            100.0 * cpu / wall / calls.max(1) as f64
        );
        println!(
            "memory: peak RSS growth {peak_growth_kib} KiB = {:.1} KiB per call (baseline {rss_before} KiB after load)",
            peak_growth_kib as f64 / calls.max(1) as f64
        );
        println!(
            "setup INVITE → 200 (sipp, ms resolution, {} calls): p50 {:.0} ms p95 {:.0} ms max {:.0} ms",
            setup.len(),
            percentile(&setup, 0.5),
            percentile(&setup, 0.95),
            setup.last().copied().unwrap_or(f64::NAN)
        );
        if !sipp.success {
            println!("sipp errors (tail):\n{}", tail(&sipp.errors, 2000));
        }
        Ok(())
    })
}

fn print_deviation(label: &str, sorted_ms: &[f64]) {
    println!(
        "{label}: n {} p50 {:.3} ms p99 {:.3} ms max {:.3} ms; over 2 ms {:.3} %",
        sorted_ms.len(),
        percentile(sorted_ms, 0.5),
        percentile(sorted_ms, 0.99),
        sorted_ms.last().copied().unwrap_or(f64::NAN),
        100.0 * sorted_ms.iter().filter(|&&d| d > 2.0).count() as f64
            / sorted_ms.len().max(1) as f64
    );
}

fn print_lateness(label: &str, lateness: &sip_bridge::SendLateness) {
    let ms = |q: f64| {
        lateness.quantile(q).map_or_else(
            || "≥20".to_string(),
            |d| format!("{:.1}", d.as_secs_f64() * 1e3),
        )
    };
    println!(
        "{label}: n {} p50 ≤{} ms p99 ≤{} ms max ≤{} ms; 2 ms or later {:.3} %",
        lateness.packets(),
        ms(0.5),
        ms(0.99),
        ms(1.0),
        100.0 * lateness.later_than(Duration::from_millis(2)) as f64
            / lateness.packets().max(1) as f64
    );
}

// ---------------------------------------------------------------------------------------------
// The callers' media: one socket for every call's RTP

/// One packet the engine sent a call, as it arrived here.
struct Arrival {
    /// When the kernel queued it (`SO_TIMESTAMPNS`, since the epoch): the moment the engine's
    /// packet arrived, however late this thread got to read it.
    at: Duration,
    sequence: u16,
    timestamp: u32,
    audible: bool,
}

type Arrivals = Vec<Arrival>;

struct Recorded {
    streams: HashMap<SocketAddr, Arrivals>,
    sent: u64,
    peak_rss_kib: u64,
    /// How late (ms, sorted) the sender thread woke for its 20 ms ticks: this host's own
    /// scheduling noise, which the receiver's timestamps share.
    sender_late_ms: Vec<f64>,
}

/// The socket every call's SDP names: a receiver thread timestamps the engine's packets, a
/// sender thread answers each source (symmetric RTP) with low noise every 20 ms and samples RSS.
struct CallerMedia {
    port: u16,
    stop: Arc<AtomicBool>,
    receiver: std::thread::JoinHandle<HashMap<SocketAddr, Arrivals>>,
    sender: std::thread::JoinHandle<Sent>,
}

impl CallerMedia {
    fn start() -> Result<CallerMedia, String> {
        let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| format!("RTP socket: {e}"))?;
        enlarge_receive_buffer(&socket, 8 << 20);
        enable_arrival_stamps(&socket)?;
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .map_err(|e| format!("RTP socket timeout: {e}"))?;
        let port = socket
            .local_addr()
            .map_err(|e| format!("RTP socket address: {e}"))?
            .port();
        let sending = socket
            .try_clone()
            .map_err(|e| format!("RTP socket clone: {e}"))?;
        let peers: Arc<Mutex<Vec<SocketAddr>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let receiver = {
            let (peers, stop) = (Arc::clone(&peers), Arc::clone(&stop));
            std::thread::spawn(move || {
                // The kernel stamps arrivals, so this thread can read late without skewing a
                // figure; at normal priority it preempted the engine's pacing thread on every
                // loopback send (a phone on another machine takes nothing from the engine's
                // cores), so it yields to everything.
                let _ = set_this_thread_nice(19);
                receive(&socket, &peers, &stop)
            })
        };
        let sender = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || send_noise(&sending, &peers, &stop))
        };
        Ok(CallerMedia {
            port,
            stop,
            receiver,
            sender,
        })
    }

    fn finish(self) -> Recorded {
        // Let the last packets after the BYEs arrive.
        std::thread::sleep(Duration::from_millis(300));
        self.stop.store(true, Ordering::Relaxed);
        let streams = self.receiver.join().unwrap_or_default();
        let mut sent = self.sender.join().unwrap_or_default();
        sent.late_ms.sort_by(f64::total_cmp);
        Recorded {
            streams,
            sent: sent.packets,
            peak_rss_kib: sent.peak_rss_kib,
            sender_late_ms: sent.late_ms,
        }
    }
}

/// Asks the kernel to stamp each datagram's arrival, read back by [`recv_stamped`].
fn enable_arrival_stamps(socket: &UdpSocket) -> Result<(), String> {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: setsockopt on a socket this process owns, with a pointer to a live c_int.
    let outcome = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if outcome == 0 {
        Ok(())
    } else {
        Err(format!(
            "cannot ask for kernel arrival stamps: {}",
            std::io::Error::last_os_error()
        ))
    }
}

/// One datagram, its IPv4 source and the kernel's arrival stamp.
fn recv_stamped(
    socket: &UdpSocket,
    buf: &mut [u8],
) -> std::io::Result<(usize, SocketAddr, Duration)> {
    use std::os::fd::AsRawFd;
    // SAFETY: every pointer handed to recvmsg points into a live local of the stated size; the
    // control messages are walked with the libc CMSG macros within `control`, and a timespec is
    // read unaligned from a cmsg of type SCM_TIMESTAMPNS, which carries exactly one.
    unsafe {
        let mut source: libc::sockaddr_in = std::mem::zeroed();
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        let mut control = [0u64; 16];
        let mut message: libc::msghdr = std::mem::zeroed();
        message.msg_name = (&mut source as *mut libc::sockaddr_in).cast();
        message.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        message.msg_iov = &mut iov;
        message.msg_iovlen = 1;
        message.msg_control = control.as_mut_ptr().cast();
        message.msg_controllen = std::mem::size_of_val(&control);
        let len = libc::recvmsg(socket.as_raw_fd(), &mut message, 0);
        if len < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut stamp = None;
        let mut cmsg = libc::CMSG_FIRSTHDR(&message);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS
            {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                stamp = Some(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
            }
            cmsg = libc::CMSG_NXTHDR(&message, cmsg);
        }
        let from = SocketAddr::from((
            std::net::Ipv4Addr::from(u32::from_be(source.sin_addr.s_addr)),
            u16::from_be(source.sin_port),
        ));
        let stamp = stamp.ok_or_else(|| std::io::Error::other("no arrival stamp on a datagram"))?;
        Ok((len as usize, from, stamp))
    }
}

/// 200 calls' packets arrive at 10 000 a second: the default buffer holds about 25 ms of them,
/// so a short stall of this thread would count as loss by the engine. Best effort.
fn enlarge_receive_buffer(socket: &UdpSocket, bytes: libc::c_int) {
    use std::os::fd::AsRawFd;
    // SAFETY: setsockopt on a socket this process owns, with a pointer to a live c_int and its
    // size; failure only leaves the default buffer.
    let outcome = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&bytes as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if outcome != 0 {
        eprintln!(
            "sip_listening_calls: cannot enlarge the callers' receive buffer ({}); a stall of the \
             bench's receiver may show as loss",
            std::io::Error::last_os_error()
        );
    }
}

fn receive(
    socket: &UdpSocket,
    peers: &Mutex<Vec<SocketAddr>>,
    stop: &AtomicBool,
) -> HashMap<SocketAddr, Arrivals> {
    let mut streams: HashMap<SocketAddr, Arrivals> = HashMap::new();
    let mut buf = [0u8; 2048];
    while !stop.load(Ordering::Relaxed) {
        let Ok((len, from, at)) = recv_stamped(socket, &mut buf) else {
            continue;
        };
        let Ok(packet) = RtpPacket::parse(&buf[..len]) else {
            continue;
        };
        // μ-law: the low 7 bits near 0x7F are near zero; well below is audible.
        let audible = packet.payload.iter().any(|&b| (b & 0x7F) < 0x60);
        let arrivals = streams.entry(from).or_insert_with(|| {
            if let Ok(mut peers) = peers.lock() {
                peers.push(from);
            }
            Vec::with_capacity(1024)
        });
        arrivals.push(Arrival {
            at,
            sequence: packet.sequence,
            timestamp: packet.timestamp,
            audible,
        });
    }
    streams
}

#[derive(Default)]
struct Sent {
    packets: u64,
    peak_rss_kib: u64,
    late_ms: Vec<f64>,
}

/// Sends every known peer one noise frame per 20 ms tick, sampling RSS as it goes.
fn send_noise(socket: &UdpSocket, peers: &Mutex<Vec<SocketAddr>>, stop: &AtomicBool) -> Sent {
    let ssrc_base = std::process::id();
    let loud_noise = std::env::var("HOTLINE_BENCH_SIP_LOUD_NOISE").is_ok_and(|v| v == "1");
    let mut random = 0x9E37_79B9_7F4A_7C15u64;
    let mut out = Vec::with_capacity(12 + PCMU_FRAME);
    let mut payload = [0u8; PCMU_FRAME];
    let mut sent = Sent::default();
    let burst = std::env::var("HOTLINE_BENCH_SIP_BURST").is_ok_and(|v| v == "1");
    // Phones on separate lines send on clocks of their own, so their packets arrive spread
    // over the 20 ms; the burst mode sends every call's packet at the same instant instead.
    let phases = if burst { 1 } else { SPREAD_PHASES };
    let mut tick = 0u32;
    let mut phase = 0usize;
    let mut next = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        sent.late_ms
            .push(Instant::now().duration_since(next).as_secs_f64() * 1000.0);
        let targets: Vec<SocketAddr> = peers.lock().map(|p| p.clone()).unwrap_or_default();
        for (index, target) in targets.iter().enumerate() {
            if index % phases != phase {
                continue;
            }
            for byte in &mut payload {
                random ^= random << 13;
                random ^= random >> 7;
                random ^= random << 17;
                // μ-law 0xFF/0x7F decode to 0 and 0xFE/0x7E to ±32 of 32768: a line's noise
                // floor at about -63 dBFS. (0x70..=0x7F with 0xF0..=0xFF, up to ±480, is
                // about -40 dBFS: loud hiss, which the VAD must look at.)
                *byte = if loud_noise {
                    0x70 | (random as u8 & 0x8F)
                } else {
                    0x7E | (random as u8 & 0x81)
                };
            }
            out.clear();
            RtpPacket {
                marker: tick == 0,
                payload_type: 0,
                sequence: tick as u16,
                timestamp: tick.wrapping_mul(PCMU_FRAME as u32),
                ssrc: ssrc_base.wrapping_add(index as u32),
                payload: &payload,
            }
            .write_to(&mut out);
            if socket.send_to(&out, target).is_ok() {
                sent.packets += 1;
            }
        }
        phase += 1;
        next += FRAME / phases as u32;
        if phase < phases {
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            }
            continue;
        }
        phase = 0;
        if tick.is_multiple_of(5) {
            sent.peak_rss_kib = sent.peak_rss_kib.max(memory_kib("VmRSS:"));
        }
        tick = tick.wrapping_add(1);
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        } else {
            next = now;
        }
    }
    sent
}

// ---------------------------------------------------------------------------------------------
// Figures

struct RtpStats {
    packets: usize,
    lost: u64,
    /// 20 ms slots the engine's play-out never sent (RTP timestamp jumped over them).
    skipped_slots: u64,
    audible_streams: usize,
    /// Sorted deviations (ms) of gaps ending in each stream's first 3 s, and after.
    greeting: Vec<f64>,
    steady: Vec<f64>,
}

impl RtpStats {
    fn of(streams: &HashMap<SocketAddr, Arrivals>) -> RtpStats {
        let mut stats = RtpStats {
            packets: 0,
            lost: 0,
            skipped_slots: 0,
            audible_streams: 0,
            greeting: Vec::new(),
            steady: Vec::new(),
        };
        for arrivals in streams.values() {
            stats.packets += arrivals.len();
            if arrivals.iter().any(|a| a.audible) {
                stats.audible_streams += 1;
            }
            let Some(first) = arrivals.first().map(|a| a.at) else {
                continue;
            };
            for pair in arrivals.windows(2) {
                let (before, after) = (&pair[0], &pair[1]);
                stats.lost += u64::from(
                    after
                        .sequence
                        .wrapping_sub(before.sequence)
                        .saturating_sub(1),
                );
                // The play-out clock skips slots it was too late for and advances the timestamp.
                let step = after.timestamp.wrapping_sub(before.timestamp) / PCMU_FRAME as u32;
                stats.skipped_slots += u64::from(step.saturating_sub(1));
                let gap_ms = after.at.saturating_sub(before.at).as_secs_f64() * 1000.0;
                let deviation = (gap_ms - 20.0).abs();
                if before.at.saturating_sub(first) >= GREETING_WINDOW {
                    stats.steady.push(deviation);
                } else {
                    stats.greeting.push(deviation);
                }
            }
        }
        stats.greeting.sort_by(f64::total_cmp);
        stats.steady.sort_by(f64::total_cmp);
        stats
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn cpu_seconds() -> f64 {
    // utime + stime of this process (fields 14 and 15 of /proc/self/stat), 100 ticks a second.
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    (ticks(11).unwrap_or(0.0) + ticks(12).unwrap_or(0.0)) / 100.0
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

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn free_udp_port() -> Result<u16, String> {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free UDP port on 127.0.0.1: {e}"))
}

fn tail(text: &str, max: usize) -> &str {
    let start = text.len().saturating_sub(max);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    &text[start..]
}

// ---------------------------------------------------------------------------------------------
// sipp

struct SippResult {
    success: bool,
    successful: u64,
    failed: u64,
    errors: String,
    /// INVITE → 200 per call, ms.
    setup_ms: Vec<f64>,
}

fn scenario_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sip-bridge")
        .join("tests")
        .join("scenarios")
        .join("uac_call_long.xml")
}

/// Places `calls` calls at once (all within a second), each up `hold_ms` after its 200.
fn run_sipp(
    target: SocketAddr,
    rtp_port: u16,
    calls: usize,
    hold_ms: usize,
) -> Result<SippResult, String> {
    let dir = std::env::temp_dir().join(format!("hotline-bench-sipp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("temp dir {}: {e}", dir.display()))?;
    let error_file = dir.join("errors.log");
    let limit_s = hold_ms / 1000 + 60;
    let output = std::process::Command::new("sipp")
        .arg("-sf")
        .arg(scenario_path())
        .args(["-m", &calls.to_string(), "-l", &calls.to_string()])
        .args(["-r", &calls.to_string(), "-rp", "1000"])
        .args(["-i", "127.0.0.1", "-mi", "127.0.0.1"])
        .args(["-p", &free_udp_port()?.to_string(), "-t", "u1"])
        .args(["-d", &hold_ms.to_string()])
        .args(["-key", "rtp_port", &rtp_port.to_string()])
        .args(["-timeout", &format!("{limit_s}s"), "-timeout_error"])
        .args(["-nostdin", "-trace_err", "-trace_rtt", "-rtt_freq", "1"])
        .arg("-error_file")
        .arg(&error_file)
        .arg(target.to_string())
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| {
            format!("sipp did not run ({e}); install it with `apt-get install sip-tester`")
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let count = |label: &str| {
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .and_then(|l| l.split('|').nth(2))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    let result = SippResult {
        success: output.status.success(),
        successful: count("Successful call"),
        failed: count("Failed call"),
        errors: std::fs::read_to_string(&error_file).unwrap_or_default()
            + &String::from_utf8_lossy(&output.stderr),
        setup_ms: read_rtt(&dir),
    };
    std::fs::remove_dir_all(&dir).ok();
    Ok(result)
}

/// Response times from sipp's `*_rtt.csv` (`-trace_rtt`): the `response_time` column, in ms.
fn read_rtt(dir: &Path) -> Vec<f64> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut times = Vec::new();
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().ends_with("_rtt.csv") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        let mut lines = text.lines();
        let Some(column) = lines.next().and_then(|header| {
            header
                .split(';')
                .position(|h| h.to_ascii_lowercase().contains("response_time"))
        }) else {
            continue;
        };
        times.extend(lines.filter_map(|l| {
            l.split(';')
                .nth(column)
                .and_then(|v| v.trim().parse::<f64>().ok())
        }));
    }
    times
}
