//! Single SIP requests sent the way a load balancer, a trunk or a scanner would, over UDP or a
//! TCP connection, and the final answer read back (or the silence measured). std only, so the
//! engine's tests use it too (`tests/support/mod.rs` includes this file).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static NEXT: AtomicU32 = AtomicU32::new(1);

/// An out-of-dialog request: `method` (OPTIONS, INVITE with a PCMU offer, REGISTER...) to
/// `target`, with `User-Agent: user_agent` when given, from `local` over `transport`.
pub fn request(
    method: &str,
    target: SocketAddr,
    local: SocketAddr,
    transport: &str,
    user_agent: Option<&str>,
) -> Vec<u8> {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let unique = format!("{}-{n}", std::process::id());
    let body = if method == "INVITE" {
        format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio {} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
            local.port() + 2
        )
    } else {
        String::new()
    };
    let content_type = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/sdp\r\n"
    };
    let agent = user_agent.map_or(String::new(), |a| format!("User-Agent: {a}\r\n"));
    format!(
        "{method} sip:hotline@{target} SIP/2.0\r\n\
         Via: SIP/2.0/{transport} {local};rport;branch=z9hG4bK-probe-{unique}\r\n\
         Max-Forwards: 70\r\nTo: <sip:hotline@{target}>\r\n\
         From: <sip:probe@{local}>;tag=probe{n}\r\nCall-ID: probe-{unique}@{local}\r\n\
         CSeq: 1 {method}\r\nContact: <sip:probe@{local}>\r\n{agent}{content_type}\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The status code of a response.
pub fn status_of(response: &str) -> Option<u16> {
    response.strip_prefix("SIP/2.0 ")?.get(..3)?.parse().ok()
}

/// The value of header `name` in `response`.
pub fn header<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    response.lines().find_map(|line| {
        let (n, value) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// Sends `method` over UDP to `target` and returns the first final response within `wait`
/// (None: no answer; provisional responses are skipped).
pub fn udp(
    method: &str,
    target: SocketAddr,
    user_agent: Option<&str>,
    wait: Duration,
) -> Option<String> {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("a UDP socket");
    let local = socket.local_addr().expect("its address");
    socket
        .send_to(&request(method, target, local, "UDP", user_agent), target)
        .expect("send the request");
    let deadline = Instant::now() + wait;
    let mut buf = vec![0u8; 65536];
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        socket
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .ok()?;
        let n = socket.recv(&mut buf).ok()?;
        let text = String::from_utf8_lossy(&buf[..n]).to_string();
        if status_of(&text).is_some_and(|code| code >= 200) {
            return Some(text);
        }
    }
}

/// A TCP connection to the bridge, for several requests in a row.
pub struct TcpProbe {
    stream: TcpStream,
    local: SocketAddr,
    target: SocketAddr,
    buffer: Vec<u8>,
}

impl TcpProbe {
    pub fn connect(target: SocketAddr) -> TcpProbe {
        let stream = TcpStream::connect(target).expect("connect over TCP");
        let local = stream.local_addr().expect("its address");
        TcpProbe {
            stream,
            local,
            target,
            buffer: Vec::new(),
        }
    }

    /// Sends `method` and returns the first final response within `wait`.
    pub fn send(
        &mut self,
        method: &str,
        user_agent: Option<&str>,
        wait: Duration,
    ) -> Option<String> {
        let bytes = request(method, self.target, self.local, "TCP", user_agent);
        self.stream.write_all(&bytes).expect("write the request");
        let deadline = Instant::now() + wait;
        loop {
            while let Some(message) = self.next_buffered() {
                if status_of(&message).is_some_and(|code| code >= 200) {
                    return Some(message);
                }
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            self.stream
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .ok()?;
            let mut chunk = [0u8; 16384];
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// One whole message off the buffer (headers and Content-Length bytes of body).
    fn next_buffered(&mut self) -> Option<String> {
        while self.buffer.starts_with(b"\r\n") {
            self.buffer.drain(..2);
        }
        let end = self.buffer.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
        let head = String::from_utf8_lossy(&self.buffer[..end]).to_string();
        let length: usize = header(&head, "Content-Length")
            .or_else(|| header(&head, "l"))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if self.buffer.len() < end + length {
            return None;
        }
        let message: Vec<u8> = self.buffer.drain(..end + length).collect();
        Some(String::from_utf8_lossy(&message).to_string())
    }
}
