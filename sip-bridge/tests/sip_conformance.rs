//! RFC 3261 / RFC 4475 conformance: the messages under `tests/conformance/` (see its
//! `index.tsv`) are sent to a running bridge over UDP and over TCP (the TCP ones in sequence on
//! one connection, which must stay open), and each answer is checked against what RFC 3261
//! requires: a status code, or nothing at all for what must be dropped. At the end the user
//! agent must still answer a normal OPTIONS and INVITE. Prints the score per transport.

mod support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use support::engine::{Script, loopback_config, start};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// How long a message that must be answered may take.
const ANSWER_WAIT: Duration = Duration::from_secs(3);
/// How long we listen to be sure a dropped message got no answer.
const SILENCE_WAIT: Duration = Duration::from_millis(300);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Status(u16),
    Drop,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum TcpHandling {
    Shared,
    Own,
    UdpOnly,
}

#[derive(Debug, Clone)]
struct Case {
    name: String,
    valid: bool,
    expect: Expect,
    tcp: TcpHandling,
}

/// What came back for one message: the final status, or nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Final(u16),
    Nothing,
    /// The TCP connection was closed by the bridge.
    Closed,
}

fn suite_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

fn load_cases() -> Vec<Case> {
    let index = std::fs::read_to_string(suite_dir().join("index.tsv")).expect("index.tsv");
    index
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert!(cols.len() >= 4, "bad index line: {line}");
            Case {
                name: cols[0].to_string(),
                valid: cols[1] == "valid",
                expect: match cols[2] {
                    "drop" => Expect::Drop,
                    code => Expect::Status(code.parse().expect("status code")),
                },
                tcp: match cols[3] {
                    "shared" => TcpHandling::Shared,
                    "own" => TcpHandling::Own,
                    "udp" => TcpHandling::UdpOnly,
                    other => panic!("bad TCP handling {other}"),
                },
            }
        })
        .collect()
}

fn message(name: &str, run: &str, transport: &str) -> Vec<u8> {
    let raw = std::fs::read(suite_dir().join(format!("{name}.sip"))).expect("message file");
    // The placeholders are only in headers; bodies (and so Content-Length) are unchanged.
    String::from_utf8(raw)
        .expect("messages are UTF-8")
        .replace("%RUN%", run)
        .replace("%TRANSPORT%", transport)
        .into_bytes()
}

/// A normal OPTIONS or INVITE, to prove the user agent is alive after the suite.
fn liveness_message(method: &str, run: &str, transport: &str) -> Vec<u8> {
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
               m=audio 40002 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    let body = if method == "INVITE" { sdp } else { "" };
    let content_type = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/sdp\r\n"
    };
    format!(
        "{method} sip:bot@hotline.example SIP/2.0\r\n\
         Via: SIP/2.0/{transport} 127.0.0.1:5999;rport;branch=z9hG4bK-{run}-alive-{method}\r\n\
         Max-Forwards: 70\r\nTo: <sip:bot@hotline.example>\r\n\
         From: <sip:tester@127.0.0.1>;tag=alive\r\nCall-ID: {run}-alive-{method}@conformance\r\n\
         CSeq: 1 {method}\r\nContact: <sip:tester@127.0.0.1:5999>\r\n{content_type}\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The status code of a response's status line, if it is one.
fn status_of(response: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(response).ok()?;
    let rest = text.strip_prefix("SIP/2.0 ")?;
    rest.get(..3)?.parse().ok()
}

fn header_line<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    response.lines().find(|line| {
        line.split_once(':')
            .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case(name))
    })
}

/// An ACK for a 2xx to an INVITE, so the bridge stops retransmitting it.
fn ack_for(response: &[u8], transport: &str) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(response).ok()?;
    let cseq = header_line(text, "CSeq")?.split_once(':')?.1.trim();
    if !cseq.ends_with("INVITE") {
        return None;
    }
    let number = cseq.split_whitespace().next()?;
    let (to, from, call_id) = (
        header_line(text, "To")?,
        header_line(text, "From")?,
        header_line(text, "Call-ID")?,
    );
    Some(
        format!(
            "ACK sip:bot@hotline.example SIP/2.0\r\n\
             Via: SIP/2.0/{transport} 127.0.0.1:5999;rport;branch=z9hG4bK-ack-{number}-{}\r\n\
             Max-Forwards: 70\r\n{to}\r\n{from}\r\n{call_id}\r\nCSeq: {number} ACK\r\n\
             Content-Length: 0\r\n\r\n",
            rand_suffix()
        )
        .into_bytes(),
    )
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

async fn udp_exchange(
    socket: &UdpSocket,
    target: SocketAddr,
    bytes: &[u8],
    wait: Duration,
) -> Outcome {
    socket.send_to(bytes, target).await.expect("udp send");
    let deadline = tokio::time::Instant::now() + wait;
    let mut buf = vec![0u8; 65536];
    loop {
        let Ok(Ok((n, _))) = tokio::time::timeout_at(deadline, socket.recv_from(&mut buf)).await
        else {
            return Outcome::Nothing;
        };
        let Some(code) = status_of(&buf[..n]) else {
            continue; // a request from the bridge (none expected) or noise
        };
        if code >= 200 {
            if (200..300).contains(&code)
                && let Some(ack) = ack_for(&buf[..n], "UDP")
            {
                socket.send_to(&ack, target).await.expect("udp ack");
            }
            return Outcome::Final(code);
        }
    }
}

/// Reads SIP messages off a TCP stream, framed by Content-Length.
struct TcpReader {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl TcpReader {
    fn next_buffered(&mut self) -> Option<Vec<u8>> {
        while self.buffer.starts_with(b"\r\n") {
            self.buffer.drain(..2);
        }
        let end = self.buffer.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
        let head = String::from_utf8_lossy(&self.buffer[..end]).to_string();
        let length = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                let name = name.trim();
                (name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("l"))
                    .then(|| value.trim().parse::<usize>().ok())
                    .flatten()
            })
            .unwrap_or(0);
        if self.buffer.len() < end + length {
            return None;
        }
        Some(self.buffer.drain(..end + length).collect())
    }

    async fn exchange(&mut self, bytes: &[u8], wait: Duration) -> Outcome {
        if self.stream.write_all(bytes).await.is_err() {
            return Outcome::Closed;
        }
        let deadline = tokio::time::Instant::now() + wait;
        let mut chunk = vec![0u8; 65536];
        loop {
            while let Some(message) = self.next_buffered() {
                let Some(code) = status_of(&message) else {
                    continue;
                };
                if code >= 200 {
                    if (200..300).contains(&code)
                        && let Some(ack) = ack_for(&message, "TCP")
                    {
                        self.stream.write_all(&ack).await.ok();
                    }
                    return Outcome::Final(code);
                }
            }
            match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Err(_) => return Outcome::Nothing,
                Ok(Ok(0)) | Ok(Err(_)) => return Outcome::Closed,
                Ok(Ok(n)) => self.buffer.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

async fn tcp_connect(target: SocketAddr) -> TcpReader {
    TcpReader {
        stream: TcpStream::connect(target).await.expect("tcp connect"),
        buffer: Vec::new(),
    }
}

fn wait_for(case: &Case) -> Duration {
    match case.expect {
        Expect::Drop => SILENCE_WAIT,
        Expect::Status(_) => ANSWER_WAIT,
    }
}

fn meets(case: &Case, outcome: Outcome) -> bool {
    match (case.expect, outcome) {
        (Expect::Status(want), Outcome::Final(got)) => want == got,
        (Expect::Drop, Outcome::Nothing) => true,
        _ => false,
    }
}

/// valid answered, valid total, invalid rejected or dropped, invalid total, exact misses.
struct Score {
    valid_answered: usize,
    valid_total: usize,
    invalid_refused: usize,
    invalid_total: usize,
    misses: Vec<String>,
}

impl Score {
    fn new() -> Score {
        Score {
            valid_answered: 0,
            valid_total: 0,
            invalid_refused: 0,
            invalid_total: 0,
            misses: Vec::new(),
        }
    }

    fn record(&mut self, case: &Case, outcome: Outcome) {
        let exact = meets(case, outcome);
        if case.valid {
            self.valid_total += 1;
            self.valid_answered += usize::from(exact);
        } else {
            self.invalid_total += 1;
            let refused = matches!(outcome, Outcome::Nothing | Outcome::Closed)
                || matches!(outcome, Outcome::Final(code) if code >= 400);
            self.invalid_refused += usize::from(refused);
        }
        if !exact {
            self.misses.push(format!(
                "{}: expected {:?}, got {outcome:?}",
                case.name, case.expect
            ));
        }
    }

    fn print(&self, transport: &str) {
        println!(
            "{transport}: valid answered {}/{}, invalid rejected or dropped {}/{}",
            self.valid_answered, self.valid_total, self.invalid_refused, self.invalid_total
        );
        for miss in &self.misses {
            println!("  {transport} miss: {miss}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc4475_style_suite_over_udp_and_tcp() {
    let bridge = start(loopback_config("127.0.0.1"), Script::Echo).await;
    let cases = load_cases();

    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("udp bind");
    let mut udp = Score::new();
    for case in &cases {
        let bytes = message(&case.name, "u", "UDP");
        let outcome = udp_exchange(&socket, bridge.udp, &bytes, wait_for(case)).await;
        udp.record(case, outcome);
    }
    let udp_options = udp_exchange(
        &socket,
        bridge.udp,
        &liveness_message("OPTIONS", "u", "UDP"),
        ANSWER_WAIT,
    )
    .await;
    let udp_invite = udp_exchange(
        &socket,
        bridge.udp,
        &liveness_message("INVITE", "u", "UDP"),
        ANSWER_WAIT,
    )
    .await;
    udp.print("UDP");

    let mut tcp = Score::new();
    let mut shared = tcp_connect(bridge.tcp).await;
    let mut closed_after = None;
    for case in cases.iter().filter(|c| c.tcp != TcpHandling::UdpOnly) {
        let bytes = message(&case.name, "t", "TCP");
        let outcome = if case.tcp == TcpHandling::Own {
            tcp_connect(bridge.tcp)
                .await
                .exchange(&bytes, wait_for(case))
                .await
        } else {
            let outcome = shared.exchange(&bytes, wait_for(case)).await;
            if outcome == Outcome::Closed {
                closed_after.get_or_insert_with(|| case.name.clone());
                shared = tcp_connect(bridge.tcp).await;
            }
            outcome
        };
        tcp.record(case, outcome);
    }
    let tcp_options = shared
        .exchange(&liveness_message("OPTIONS", "t", "TCP"), ANSWER_WAIT)
        .await;
    let tcp_invite = shared
        .exchange(&liveness_message("INVITE", "t", "TCP"), ANSWER_WAIT)
        .await;
    tcp.print("TCP");

    assert_eq!(
        udp_options,
        Outcome::Final(200),
        "OPTIONS over UDP after the suite"
    );
    assert_eq!(
        udp_invite,
        Outcome::Final(200),
        "INVITE over UDP after the suite"
    );
    assert_eq!(
        tcp_options,
        Outcome::Final(200),
        "OPTIONS over TCP after the suite"
    );
    assert_eq!(
        tcp_invite,
        Outcome::Final(200),
        "INVITE over TCP after the suite"
    );
    assert_eq!(
        closed_after, None,
        "the shared TCP connection was closed by the bridge"
    );
    for (transport, score) in [("UDP", &udp), ("TCP", &tcp)] {
        assert!(
            score.misses.is_empty(),
            "{transport}: answers differ from RFC 3261: {:#?}",
            score.misses
        );
    }
}
