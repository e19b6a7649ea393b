//! Test double for the network peers of the LLM engine and the Rasa connector: a tiny HTTP/1.1
//! server on a local port that answers each request with the next canned response (JSON, or
//! an SSE body written in timed chunks) and records what it was sent.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// One step of writing a response body.
#[derive(Debug, Clone)]
pub enum Step {
    /// Write these bytes as one chunk and flush.
    Write(String),
    Pause(Duration),
    /// Report the instant the previous write was flushed (see [`MockHttpServer::next_mark`]).
    Mark,
}

#[derive(Debug, Clone)]
pub struct MockResponse {
    status: u16,
    content_type: &'static str,
    steps: Vec<Step>,
}

impl MockResponse {
    /// A `text/event-stream` body written chunk by chunk.
    pub fn sse(steps: Vec<Step>) -> Self {
        Self {
            status: 200,
            content_type: "text/event-stream",
            steps,
        }
    }

    /// A JSON body.
    pub fn json(status: u16, body: &str) -> Self {
        Self {
            status,
            content_type: "application/json",
            steps: vec![Step::Write(body.to_string())],
        }
    }
}

pub struct MockHttpServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    marks: tokio::sync::Mutex<mpsc::UnboundedReceiver<Instant>>,
}

impl MockHttpServer {
    /// Serves `responses` in order, one per request; later requests get HTTP 500.
    pub async fn start(responses: Vec<MockResponse>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("mock server cannot bind: {e}"));
        let base = format!(
            "http://{}",
            listener
                .local_addr()
                .unwrap_or_else(|e| panic!("mock server has no address: {e}"))
        );
        let requests = Arc::new(Mutex::new(Vec::new()));
        let queue = Arc::new(Mutex::new(VecDeque::from(responses)));
        let (mark_tx, marks) = mpsc::unbounded_channel();
        let recorded = Arc::clone(&requests);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let (recorded, queue, mark_tx) =
                    (Arc::clone(&recorded), Arc::clone(&queue), mark_tx.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, recorded, queue, mark_tx).await;
                });
            }
        });
        Self {
            base,
            requests,
            marks: tokio::sync::Mutex::new(marks),
        }
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The instant of the next [`Step::Mark`].
    pub async fn next_mark(&self) -> Option<Instant> {
        self.marks.lock().await.recv().await
    }
}

async fn serve(
    mut stream: TcpStream,
    recorded: Arc<Mutex<Vec<RecordedRequest>>>,
    queue: Arc<Mutex<VecDeque<MockResponse>>>,
    marks: mpsc::UnboundedSender<Instant>,
) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let mut lines = head.lines();
    let mut first = lines.next().unwrap_or_default().split_whitespace();
    let (method, path) = (
        first.next().unwrap_or_default().to_string(),
        first.next().unwrap_or_default().to_string(),
    );
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buffer[head_end..]).to_string();
    if let Ok(mut r) = recorded.lock() {
        r.push(RecordedRequest {
            method,
            path,
            headers,
            body,
        });
    }
    let response = queue
        .lock()
        .ok()
        .and_then(|mut q| q.pop_front())
        .unwrap_or_else(|| MockResponse::json(500, "{\"error\":\"no canned response left\"}"));
    let reason = if response.status == 200 {
        "OK"
    } else {
        "Error"
    };
    stream
        .write_all(
            format!(
                "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
                response.status, response.content_type
            )
            .as_bytes(),
        )
        .await?;
    for step in response.steps {
        match step {
            Step::Write(text) if !text.is_empty() => {
                stream
                    .write_all(format!("{:x}\r\n{text}\r\n", text.len()).as_bytes())
                    .await?;
                stream.flush().await?;
            }
            Step::Write(_) => {}
            Step::Pause(pause) => tokio::time::sleep(pause).await,
            Step::Mark => {
                let _ = marks.send(Instant::now());
            }
        }
    }
    stream.write_all(b"0\r\n\r\n").await?;
    stream.shutdown().await
}
