//! `[sip] when_full = "announce"`: with its one line taken by a `/media` call, the node answers
//! a SIP INVITE, the caller hears "all our lines are busy" (in `[call] default_lang`, English
//! here: checked by `hotline transcribe`), and the node hangs up with BYE; OPTIONS still get 503
//! (a load balancer must stop sending calls) and the first call is undisturbed. The SIP caller
//! here is a few lines of std UDP: INVITE with a PCMU offer, ACK, RTP received, BYE answered.

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use support::doors_rig::{Doors, DoorsServer};
use support::media_caller::MediaCaller;
use support::sip_probe::{header, status_of, udp};

/// What the SIP caller went through.
struct BusyCall {
    /// The final answer to the INVITE.
    answer: String,
    /// The caller's audio as heard (8 kHz, decoded μ-law).
    heard: Vec<i16>,
    /// From the 200 OK to the node's BYE.
    bye_after: Option<Duration>,
}

fn recv_text(socket: &UdpSocket, until: Instant) -> Option<String> {
    let mut buf = vec![0u8; 65536];
    loop {
        let left = until.checked_duration_since(Instant::now())?;
        socket
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .ok()?;
        if let Ok(n) = socket.recv(&mut buf) {
            return Some(String::from_utf8_lossy(&buf[..n]).to_string());
        }
    }
}

/// The lines of `message` whose header is one of `names`, in order.
fn headers_named(message: &str, names: &[&str]) -> String {
    message
        .lines()
        .filter(|line| {
            line.split_once(':')
                .is_some_and(|(n, _)| names.iter().any(|w| n.trim().eq_ignore_ascii_case(w)))
        })
        .map(|line| format!("{line}\r\n"))
        .collect()
}

/// Calls `target` over UDP and stays on the line until the node hangs up (20 s at most).
fn call_a_full_node(target: SocketAddr) -> BusyCall {
    let sip = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (local, rtp_port) = (sip.local_addr().unwrap(), rtp.local_addr().unwrap().port());
    let body = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {rtp_port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
    );
    let invite = format!(
        "INVITE sip:hotline@{target} SIP/2.0\r\nVia: SIP/2.0/UDP {local};rport;branch=z9hG4bK-busy-1\r\n\
         Max-Forwards: 70\r\nTo: <sip:hotline@{target}>\r\nFrom: <sip:caller@{local}>;tag=busy1\r\n\
         Call-ID: busy-{}@{local}\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@{local}>\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
        std::process::id(),
        body.len()
    );
    sip.send_to(invite.as_bytes(), target).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let answer = loop {
        let Some(reply) = recv_text(&sip, deadline) else {
            return BusyCall {
                answer: "no final answer to the INVITE".into(),
                heard: Vec::new(),
                bye_after: None,
            };
        };
        if status_of(&reply).is_some_and(|code| code >= 200) {
            break reply;
        }
    };
    if status_of(&answer) != Some(200) {
        return BusyCall {
            answer,
            heard: Vec::new(),
            bye_after: None,
        };
    }
    let answered = Instant::now();
    let contact = header(&answer, "Contact")
        .and_then(|c| c.split('<').nth(1)?.split('>').next())
        .unwrap_or("sip:hotline@127.0.0.1")
        .to_string();
    let ack = format!(
        "ACK {contact} SIP/2.0\r\nVia: SIP/2.0/UDP {local};rport;branch=z9hG4bK-busy-ack\r\n\
         Max-Forwards: 70\r\n{}CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
        headers_named(&answer, &["To", "From", "Call-ID"])
    );
    sip.send_to(ack.as_bytes(), target).unwrap();

    // The audio, on a thread of its own until the call ends.
    let done = Arc::new(AtomicBool::new(false));
    let listening = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut heard = Vec::new();
            let mut buf = [0u8; 2048];
            rtp.set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            while !done.load(Ordering::Relaxed) {
                if let Ok(n) = rtp.recv(&mut buf)
                    && n > 12
                    && buf[1] & 0x7f == 0
                {
                    heard.extend(
                        buf[12..n]
                            .iter()
                            .map(|&c| hotline_audio::g711::mulaw_decode(c)),
                    );
                }
            }
            heard
        })
    };
    let until = answered + Duration::from_secs(20);
    let mut bye_after = None;
    while let Some(request) = recv_text(&sip, until) {
        if request.starts_with("BYE ") {
            bye_after = Some(answered.elapsed());
            let ok = format!(
                "SIP/2.0 200 OK\r\n{}Content-Length: 0\r\n\r\n",
                headers_named(&request, &["Via", "To", "From", "Call-ID", "CSeq"])
            );
            sip.send_to(ok.as_bytes(), target).unwrap();
            break;
        }
    }
    // A last moment for the final packets, then the audio.
    std::thread::sleep(Duration::from_millis(200));
    done.store(true, Ordering::Relaxed);
    BusyCall {
        answer,
        heard: listening.join().unwrap(),
        bye_after,
    }
}

/// 20 ms stretches (160 samples at 8 kHz) louder than -40 dBFS.
fn audible_ms(samples: &[i16]) -> usize {
    samples
        .chunks(160)
        .filter(|chunk| {
            let energy: f64 = chunk.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
            (energy / chunk.len() as f64).sqrt() > 32768.0 * 0.01
        })
        .count()
        * 20
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_who_finds_every_line_busy_is_told_so_and_hung_up() {
    let doors = Doors {
        max_calls: 1,
        drain_timeout_s: 30,
        tokens: Vec::new(),
        env: vec![
            ("HOTLINE_SIP__WHEN_FULL", "announce"),
            ("HOTLINE_CALL__DEFAULT_LANG", "en"),
        ],
    };
    let server = tokio::task::spawn_blocking(move || DoorsServer::start(&doors))
        .await
        .unwrap();
    let mut first = MediaCaller::connect(&server.media_url(None), "MZfirst", "+85290000001", None)
        .await
        .expect("the first call is taken");
    assert!(
        first.hears_the_bot(Duration::from_secs(30)).await,
        "no greeting on the first call\n{}",
        server.log_tail()
    );

    let sip = server.sip;
    let (options, call) = tokio::task::spawn_blocking(move || {
        (
            udp("OPTIONS", sip, None, Duration::from_secs(3)),
            call_a_full_node(sip),
        )
    })
    .await
    .unwrap();
    let options = options.expect("an answer to OPTIONS");
    assert_eq!(status_of(&options), Some(503), "OPTIONS: {options}");
    assert_eq!(
        status_of(&call.answer),
        Some(200),
        "{}\n{}",
        call.answer,
        server.log_tail()
    );
    let bye_after = call
        .bye_after
        .unwrap_or_else(|| panic!("the node never hung up\n{}", server.log_tail()));
    let audible = audible_ms(&call.heard);
    println!(
        "busy announcement: {audible} ms audible of {} ms heard, BYE {bye_after:?} after the answer",
        call.heard.len() / 8
    );
    assert!(audible >= 1500, "too little heard: {audible} ms");
    assert!(
        bye_after < Duration::from_millis(audible as u64 + 3000),
        "hung up only after {bye_after:?} for {audible} ms of words"
    );

    // What was said, through the engine's own recogniser.
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("busy.wav");
    hotline_audio::wav::write_wav_mono(&wav, &call.heard, 8000).unwrap();
    let output = support::hotline()
        .arg("--config")
        .arg(&server.config)
        .args(["transcribe", "--lang", "en", "--json"])
        .arg(&wav)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_lowercase();
    println!("heard: {text}");
    assert!(
        text.contains("busy") && text.contains("later"),
        "not the busy announcement: {text}"
    );

    assert!(
        first.still_streaming(Duration::from_secs(2)).await,
        "the first call was disturbed"
    );
    assert_eq!(server.metric("hotline_calls_active"), Some(1.0));
    first.hang_up().await;
}
