//! The call store's and the review UI's tests' rig: `hotline serve` over a temporary data
//! folder (the caller's number and the unredacted text kept: the worst case for viewers),
//! review users and API tokens made with the CLI.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use hotline::store::{
    BridgedLineEntry, CallEnding, CallOutcome, CallStore, Clock, NewBridgedLine, SqliteCallStore,
    SystemClock,
};

pub const PASSWORD: &str = "correct horse";
/// The caller number of the stored calls: never shown to a viewer.
pub const CALLER: &str = "+85291234567";
/// `hotline serve`, killed on drop.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn env(dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        (
            "HOTLINE_STORE__DATABASE",
            dir.join("calls.sqlite").display().to_string(),
        ),
        (
            "HOTLINE_RECORDING__DIR",
            dir.join("recordings").display().to_string(),
        ),
        // The worst case for viewers: the number and the unredacted text are kept.
        ("HOTLINE_STORE__CALLER_ID", "keep".to_string()),
        ("HOTLINE_STORE__KEEP_UNREDACTED", "true".to_string()),
    ]
}

/// `hotline serve` on `port`, answering `/healthz` (and `/readyz` 200 when `ready`).
pub fn start_server(dir: &Path, port: u16, ready: bool) -> Server {
    start_server_with(dir, port, ready, &[])
}

/// [`start_server`] with more environment (settings under test); each port logs to its own
/// `serve-PORT.log`, so a restarted server keeps the first one's log.
pub fn start_server_with(
    dir: &Path,
    port: u16,
    ready: bool,
    extra_env: &[(&str, String)],
) -> Server {
    let log = std::fs::File::create(dir.join(format!("serve-{port}.log"))).unwrap();
    let mut server = Server(
        super::hotline()
            .envs(env(dir))
            .envs(extra_env.iter().cloned())
            .env("HOTLINE_SERVER__LISTEN", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "info,ort=warn")
            .arg("serve")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let path = if ready { "/readyz" } else { "/healthz" };
    let deadline = Instant::now() + Duration::from_secs(240);
    while !super::http_get(port, path).is_some_and(|r| r.contains(" 200 ")) {
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!("hotline serve exited early: {status}");
        }
        assert!(Instant::now() < deadline, "no {path} 200 within 240 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    server
}

/// `hotline users add NAME --role ROLE` (password on stdin).
pub fn add_user(dir: &Path, name: &str, role: &str) {
    let mut add = super::hotline()
        .envs(env(dir))
        .args(["users", "add", name, "--role", role])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let added = add.wait_with_output().unwrap();
    assert!(added.status.success(), "users add: {added:?}");
}

/// `hotline tokens create NAME`.
pub fn token(dir: &Path, name: &str) -> String {
    let token = super::hotline()
        .envs(env(dir))
        .args(["tokens", "create", name])
        .output()
        .unwrap();
    assert!(token.status.success(), "tokens create: {token:?}");
    String::from_utf8(token.stdout).unwrap().trim().to_string()
}

/// A line of the conversation with the agent after a bridged transfer, `said` by `speaker`
/// (`caller` or `agent`) at `start_ms` into call `id`, two seconds long.
pub fn add_bridged_line(
    store: &SqliteCallStore,
    id: i64,
    speaker: &str,
    said: &str,
    start_ms: u64,
) {
    store
        .add_bridged_line(
            id,
            &NewBridgedLine {
                entry: BridgedLineEntry {
                    speaker: speaker.into(),
                    text: said.into(),
                    start_ms,
                    end_ms: start_ms + 2000,
                },
                search_text: said.into(),
            },
        )
        .unwrap();
}

/// Ends running call `id` now as handed to a human (the caller asked).
pub fn end_transferred(store: &SqliteCallStore, id: i64) {
    store
        .close_call(
            id,
            &CallEnding {
                ended_at: SystemClock.now_ms(),
                outcome: CallOutcome::Transferred,
                ended_by: None,
                transfer_reason: Some("caller asked".into()),
                languages: vec![],
                barge_ins: 0,
                csat: None,
                sentiment: None,
            },
        )
        .unwrap();
}
