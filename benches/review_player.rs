//! How fast the review call page's player starts on a 10-minute call (target: 300 ms): a
//! synthetic 10-minute stereo call (38 MB WAV, 20 turns, `tests/support/long_call.rs`) stored
//! into a fresh store, `hotline serve` over it, and headless Chromium
//! (`tests/browser/review_player.mjs`) opening the call page `HOTLINE_BENCH_LOADS` times
//! (default 7), each in a fresh browser context: from navigation start to the waveform drawn
//! and to playback advancing (`play()` called the moment it is drawn, then `currentTime > 0`),
//! once the engine answers `/readyz` (warm: its warm-up would otherwise share the cores).
//! Prints every load and the medians.
//!
//! `HOTLINE_BENCH_BEFORE_BIN=/path/to/older/hotline` measures that binary too, in the same
//! run, first (e.g. a build of the commit before the peaks player, to compare);
//! `HOTLINE_BENCH_BIN` replaces this build's binary (a copy kept aside, where the target
//! folder is shared).
//!
//! Run: `cargo bench --bench review_player` (needs `make test`'s Chromium and
//! `tests/browser/node_modules`).

#[path = "../tests/support/long_call.rs"]
mod long_call;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "bench horse";
const CALL_MS: u64 = 600_000;

/// `hotline serve`, killed on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn env(dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        (
            "HOTLINE_STORE__DATABASE",
            dir.join("calls.sqlite").display().to_string(),
        ),
        (
            "HOTLINE_RECORDING__DIR",
            dir.join("recordings").display().to_string(),
        ),
    ]
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// `/readyz` 200: warm (models loaded and exercised), so the loads measured do not share the
/// cores with the engine's warm-up.
fn ready(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if write!(stream, "GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n").is_err() {
        return false;
    }
    let mut reply = String::new();
    stream.read_to_string(&mut reply).is_ok() && reply.contains(" 200 ")
}

/// A fresh store holding the 10-minute call and user `ada`, served by `binary`: the server,
/// its port and the call's id.
fn serve(binary: &Path, dir: &Path) -> Result<(Server, u16, i64), String> {
    let mut add = Command::new(binary)
        .envs(env(dir))
        .args(["users", "add", "ada", "--role", "admin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    if let Some(mut stdin) = add.stdin.take() {
        let _ = writeln!(stdin, "{PASSWORD}");
    }
    if !add.wait().map_err(|e| e.to_string())?.success() {
        return Err("hotline users add failed".into());
    }
    let (id, _) = long_call::store_long_call(dir, CALL_MS);
    let port = free_port();
    let log = std::fs::File::create(dir.join("serve.log")).map_err(|e| e.to_string())?;
    let server = Server(
        Command::new(binary)
            .envs(env(dir))
            .env("HOTLINE_SERVER__LISTEN", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .arg("serve")
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| e.to_string())?,
    );
    let deadline = Instant::now() + Duration::from_secs(240);
    while !ready(port) {
        if Instant::now() > deadline {
            return Err("hotline serve was not ready (/readyz) within 240 s".into());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok((server, port, id))
}

fn measure(label: &str, binary: &Path, root: &Path, loads: u32) {
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(error) => return println!("{label}: no temporary folder: {error}"),
    };
    let (_server, port, id) = match serve(binary, dir.path()) {
        Ok(served) => served,
        Err(error) => return println!("{label}: {error}"),
    };
    let output = Command::new("timeout")
        .args(["600", "node", "review_player.mjs", "--url"])
        .arg(format!("http://127.0.0.1:{port}"))
        .args([
            "--user",
            "ada",
            "--password",
            PASSWORD,
            "--call",
            &id.to_string(),
        ])
        .args(["--loads", &loads.to_string()])
        .current_dir(root.join("tests/browser"))
        .stderr(Stdio::inherit())
        .output();
    let output = match output {
        Ok(output) => output,
        Err(error) => return println!("{label}: node: {error}"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let r: serde_json::Value = match serde_json::from_str(stdout.lines().last().unwrap_or("")) {
        Ok(r) => r,
        Err(error) => {
            return println!("{label}: review_player.mjs printed no JSON ({error}): {stdout}");
        }
    };
    if r["ok"] != true {
        return println!("{label}: failed: {}", r["failures"]);
    }
    println!("{label} ({})", binary.display());
    for (n, load) in r["loads"].as_array().into_iter().flatten().enumerate() {
        println!(
            "  load {}: waveform drawn {:>5} ms, playing {:>5} ms",
            n + 1,
            load["drawnMs"],
            load["playingMs"]
        );
        // Where the time went: [start, request sent, first byte, end] ms of the page's
        // requests, from navigation start.
        println!("          {}", load["steps"]);
    }
    println!(
        "  median of {loads}: waveform drawn {} ms, playing {} ms; seek to {} s played on after {} ms",
        r["medianDrawnMs"], r["medianPlayingMs"], r["seek"]["offset"], r["seek"]["movedOnMs"]
    );
    println!(
        "  the call page alone from the server (no browser work): median {} ms of 7",
        r["serverPageMs"]
    );
    let ranges = &r["recordingRequests"][0];
    println!("  the recording's requests on load 1 (Range): {ranges}");
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !Path::new("/usr/bin/chromium").is_file() && std::env::var_os("HOTLINE_CHROMIUM").is_none() {
        println!("review_player: skipped: no Chromium (run `make test` once to install it)");
        return;
    }
    if !root
        .join("tests/browser/node_modules/playwright-core")
        .is_dir()
    {
        println!(
            "review_player: skipped: no tests/browser/node_modules (npm ci --prefix tests/browser)"
        );
        return;
    }
    let loads = std::env::var("HOTLINE_BENCH_LOADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7u32)
        .max(1);
    println!("review player: a 10-minute stereo 16 kHz call (38 MB WAV), {loads} loads each");
    if let Some(before) = std::env::var_os("HOTLINE_BENCH_BEFORE_BIN") {
        measure("before", Path::new(&before), root, loads);
    }
    let this = std::env::var_os("HOTLINE_BENCH_BIN")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_hotline").into());
    measure("this build", Path::new(&this), root, loads);
}
