//! Runs sipp (Debian package `sip-tester`) as a real SIP peer against the bridge.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

/// Transport sipp uses towards the bridge.
#[derive(Debug, Clone, Copy)]
pub enum SippTransport {
    Udp,
    Tcp,
}

/// Path of a committed scenario file.
pub fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("scenarios")
        .join(name)
}

/// Panics with the fix when sipp is missing.
pub fn require_sipp() {
    let found = std::process::Command::new("sipp")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(
        found,
        "sipp is not installed: these tests drive a real SIP peer. Install it with \
         `apt-get install sip-tester` (Debian/Ubuntu), then re-run."
    );
}

/// A free local port for sipp's own SIP socket.
pub fn free_port(transport: SippTransport) -> u16 {
    match transport {
        SippTransport::Udp => std::net::UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .map(|a| a.port())
            .expect("an ephemeral UDP port on 127.0.0.1"),
        SippTransport::Tcp => std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .map(|a| a.port())
            .expect("an ephemeral TCP port on 127.0.0.1"),
    }
}

/// What a finished sipp run left behind.
#[derive(Debug)]
pub struct SippOutcome {
    pub success: bool,
    pub output: String,
    pub errors: String,
}

/// Runs one call of `scenario_name` against `target`, with `-key` values, and waits for it.
pub async fn run_sipp(
    scenario_name: &'static str,
    target: SocketAddr,
    transport: SippTransport,
    keys: Vec<(&'static str, String)>,
    limit: Duration,
) -> SippOutcome {
    run_sipp_calls(scenario_name, target, transport, keys, limit, 1).await
}

/// Runs `calls` calls at once (all started within about a second).
pub async fn run_sipp_calls(
    scenario_name: &'static str,
    target: SocketAddr,
    transport: SippTransport,
    keys: Vec<(&'static str, String)>,
    limit: Duration,
    calls: usize,
) -> SippOutcome {
    run_sipp_full(SippRun {
        scenario: scenario_name,
        target: Some(target),
        transport,
        keys,
        extra_args: Vec::new(),
        limit,
        calls,
        local_port: None,
    })
    .await
}

/// Everything one sipp run can be told.
pub struct SippRun {
    pub scenario: &'static str,
    /// `None` for a UAS scenario (sipp waits for calls on `local_port`).
    pub target: Option<SocketAddr>,
    pub transport: SippTransport,
    pub keys: Vec<(&'static str, String)>,
    pub extra_args: Vec<String>,
    pub limit: Duration,
    pub calls: usize,
    pub local_port: Option<u16>,
}

impl SippRun {
    pub fn new(scenario: &'static str, target: Option<SocketAddr>) -> SippRun {
        SippRun {
            scenario,
            target,
            transport: SippTransport::Udp,
            keys: Vec::new(),
            extra_args: Vec::new(),
            limit: Duration::from_secs(20),
            calls: 1,
            local_port: None,
        }
    }
}

/// A bridged transfer's two peers on loopback: the agent (sipp UAS `uas_agent.xml`, its RTP on
/// `agent_rtp`) waits on `agent_port`; 300 ms later the caller (sipp UAC `uac_call_long.xml`,
/// its RTP on `caller_rtp`) calls `bridge` and stays up `caller_ms`.
pub async fn start_agent_then_caller(
    agent_port: u16,
    agent_rtp: u16,
    bridge: SocketAddr,
    caller_rtp: u16,
    caller_ms: u64,
    limit: Duration,
) -> (
    tokio::task::JoinHandle<SippOutcome>,
    tokio::task::JoinHandle<SippOutcome>,
) {
    let agent = tokio::spawn(run_sipp_full(SippRun {
        keys: vec![("rtp_port", agent_rtp.to_string())],
        local_port: Some(agent_port),
        limit,
        ..SippRun::new("uas_agent.xml", None)
    }));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let caller = tokio::spawn(run_sipp_full(SippRun {
        keys: vec![("rtp_port", caller_rtp.to_string())],
        extra_args: vec!["-d".into(), caller_ms.to_string()],
        limit,
        ..SippRun::new("uac_call_long.xml", Some(bridge))
    }));
    (agent, caller)
}

pub async fn run_sipp_full(run: SippRun) -> SippOutcome {
    let SippRun {
        scenario: scenario_name,
        target,
        transport,
        keys,
        extra_args,
        limit,
        calls,
        local_port,
    } = run;
    require_sipp();
    let dir = std::env::temp_dir().join(format!(
        "sip-bridge-sipp-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).expect("a temp dir for sipp logs");
    let error_file = dir.join("errors.log");
    let mut command = tokio::process::Command::new("sipp");
    command
        .arg("-sf")
        .arg(scenario(scenario_name))
        .args(["-m", &calls.to_string(), "-l", &calls.to_string()])
        .args(["-r", &calls.to_string(), "-rp", "1000"])
        .args(["-i", "127.0.0.1", "-mi", "127.0.0.1"])
        .args([
            "-p",
            &local_port
                .unwrap_or_else(|| free_port(transport))
                .to_string(),
        ])
        .args([
            "-t",
            match transport {
                SippTransport::Udp => "u1",
                SippTransport::Tcp => "t1",
            },
        ])
        .args(["-timeout", &format!("{}s", limit.as_secs().max(1))])
        .args(["-timeout_error", "-nostdin", "-trace_err"])
        .arg("-error_file")
        .arg(&error_file)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (key, value) in &keys {
        command.arg("-key").arg(key).arg(value);
    }
    command.args(&extra_args);
    if let Some(target) = target {
        command.arg(target.to_string());
    }
    let child = command.spawn().expect("sipp starts");
    let output = tokio::time::timeout(limit + Duration::from_secs(5), child.wait_with_output())
        .await
        .expect("sipp finishes within its own -timeout")
        .expect("sipp output readable");
    let errors = std::fs::read_to_string(&error_file).unwrap_or_default();
    std::fs::remove_dir_all(&dir).ok();
    SippOutcome {
        success: output.status.success(),
        output: format!(
            "{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
        errors,
    }
}

impl SippOutcome {
    pub fn assert_passed(&self, what: &str) {
        assert!(
            self.success,
            "sipp scenario `{what}` failed.\nerrors:\n{}\noutput (tail):\n{}",
            self.errors,
            tail(&self.output, 3000)
        );
    }
}

fn tail(text: &str, max: usize) -> &str {
    let start = text.len().saturating_sub(max);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    &text[start..]
}
