//! The review UI in a real browser: a Mandarin call over `/media` made earlier in the test, a
//! user made with `hotline users add`; headless Chromium (Debian `chromium`, npm
//! `playwright-core`, `tests/browser/review_call.mjs`) logs in, finds the call by a Chinese
//! word from it, opens it, plays the recording and clicks a turn: the player moves to that
//! turn's offset, and the listen is in the audit log. A running call's page
//! (`tests/browser/review_live.mjs`) follows the call: a line written to the store appears in
//! the transcript without a reload, and the page reloads into the finished call's page when
//! the call ends. Skips, saying why, only when Chromium, node or `tests/browser/node_modules`
//! is missing.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hotline::store::{AuditAction, CallStore, Clock, NewCall, SqliteCallStore, SystemClock};
use serde_json::Value;
use support::browser_tools::{browser_dir, missing_browser_tools};
use support::free_port;
use support::media_caller::{MediaCaller, question_payloads};
use support::store_rig::{
    CALLER, PASSWORD, add_bridged_line, add_user, end_transferred, start_server, token,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_in_chromium_finds_plays_and_seeks_a_call() {
    if let Some(reason) = missing_browser_tools() {
        eprintln!("SKIPPED: {reason}");
        return;
    }
    support::require_model_file("ggml-base-q8_0.bin");
    let dir = tempfile::tempdir().unwrap();
    add_user(dir.path(), "ada", "admin");
    let api_token = token(dir.path(), "ada");
    let port = free_port();
    let _server = start_server(dir.path(), port, true);

    // A Mandarin caller asks where the shop is (the answer says 广州门店) and hangs up.
    let mut call = MediaCaller::start(port, "MZreview", CALLER).await;
    assert!(
        call.ask(&question_payloads("zh_2_tel.wav"), Duration::from_secs(40))
            .await,
        "the bot never answered"
    );
    call.listen_until_quiet(Duration::from_millis(1500), Duration::from_secs(20))
        .await;
    call.hang_up().await;
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let id = loop {
        let list: Value = client
            .get(format!("http://127.0.0.1:{port}/api/calls?limit=1"))
            .bearer_auth(&api_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let call = &list["calls"][0];
        if call["recording_status"] == "complete" && call["outcome"] != "in_progress" {
            break call["id"].as_i64().unwrap();
        }
        assert!(Instant::now() < deadline, "the call was not stored: {list}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    let output = tokio::task::spawn_blocking(move || {
        Command::new("timeout")
            .args(["120", "node", "review_call.mjs", "--url"])
            .arg(format!("http://127.0.0.1:{port}"))
            .args(["--user", "ada", "--password", PASSWORD, "--query", "門店"])
            // HOTLINE_REVIEW_SHOTS=DIR: screenshots of the pages, to look at.
            .args(
                std::env::var("HOTLINE_REVIEW_SHOTS")
                    .map(|dir| vec!["--shots".to_string(), dir])
                    .unwrap_or_default(),
            )
            .current_dir(browser_dir())
            .stderr(Stdio::inherit())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let r: Value = serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("review_call.mjs printed no JSON ({e}): {stdout}"));
    let log = || {
        std::fs::read_to_string(dir.path().join(format!("serve-{port}.log"))).unwrap_or_default()
    };
    println!("browser: {r}");
    assert!(r["ok"] == true, "{r}\n--- serve.log tail:\n{}", {
        let log = log();
        log[log.len().saturating_sub(4000)..].to_string()
    });
    assert_eq!(r["anonymousUrl"], "/review/login", "{r}");
    assert_eq!(r["opened"], format!("/review/calls/{id}"), "{r}");
    assert_eq!(r["consoleErrors"], serde_json::json!([]), "{r}");
    assert_eq!(r["pageErrors"], serde_json::json!([]), "{r}");
    assert_eq!(r["external"], serde_json::json!([]), "{r}");
    assert!(r["regions"].as_u64().unwrap_or(0) >= 2, "turns drawn: {r}");

    // Playing, then the click moved the player to the bot line's offset.
    let offset = r["clickedOffset"].as_f64().unwrap();
    let before = r["timeBeforeClick"].as_f64().unwrap();
    let after = r["timeAfterClick"].as_f64().unwrap();
    assert!(r["playing"] == true, "{r}");
    assert!(
        offset > 1.0 && before < offset - 0.5,
        "no distance to seek over: {r}"
    );
    // Still playing: the time read just after the click is the offset plus however long
    // the read took (never before the offset; 1 s of slack for a loaded machine).
    assert!(
        after >= offset - 0.05 && after < offset + 1.0,
        "the player is at {after} s, not at the turn's {offset} s: {r}"
    );
    assert_eq!(r["currentTurn"], "turn-1", "{r}");

    // The listen went to the audit log.
    let store = SqliteCallStore::open(&dir.path().join("calls.sqlite")).unwrap();
    let listens = store
        .audit_entries_of(id)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == AuditAction::Listen.as_str() && e.actor == "ada")
        .count();
    assert!(listens >= 1, "the listen was not audited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_of_a_running_call_follows_it_in_chromium() {
    use tokio::io::AsyncBufReadExt;

    if let Some(reason) = missing_browser_tools() {
        eprintln!("SKIPPED: {reason}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    add_user(dir.path(), "ada", "supervisor");
    let port = free_port();
    let _server = start_server(dir.path(), port, true);
    // A call handed to an agent, still running (stored after the start, so not taken for one
    // left over by a crash).
    let store = SqliteCallStore::open(&dir.path().join("calls.sqlite")).unwrap();
    let id = store
        .open_call(&NewCall {
            leg_id: "live-in-chromium".into(),
            channel: "sip".into(),
            caller: None,
            caller_unredacted: None,
            started_at: SystemClock.now_ms(),
        })
        .unwrap();
    add_bridged_line(&store, id, "caller", "我想问一下运费", 5000);

    let mut node = tokio::process::Command::new("timeout")
        .args(["120", "node", "review_live.mjs", "--url"])
        .arg(format!("http://127.0.0.1:{port}"))
        .args(["--user", "ada", "--password", PASSWORD, "--call"])
        .arg(id.to_string())
        .args(["--expect", "我要退货"])
        .current_dir(browser_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(node.stdout.take().unwrap()).lines();
    let mut last = String::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        match line.as_str() {
            // The page follows the call: the agent answers, the caller says more.
            "following" => {
                add_bridged_line(&store, id, "agent", "运费是十块", 8000);
                add_bridged_line(&store, id, "caller", "那我要退货", 11000);
            }
            // It showed them: the call ends.
            "updated" => end_transferred(&store, id),
            _ => last = line,
        }
    }
    let _ = node.wait().await;
    let r: Value = serde_json::from_str(&last)
        .unwrap_or_else(|e| panic!("review_live.mjs printed no JSON ({e}): {last}"));
    println!("browser: {r}");
    assert!(r["ok"] == true, "{r}");
    assert!(
        r["sameDocument"] == true,
        "the page reloaded instead of following: {r}"
    );
    assert!(
        r["lineAppearedMs"].as_u64().unwrap() < 3000,
        "the new line took too long: {r}"
    );
    assert!(r["suggestionsShown"].as_u64().unwrap_or(0) >= 1, "{r}");
    assert_eq!(r["finished"]["live"], false, "{r}");
    assert_eq!(r["consoleErrors"], serde_json::json!([]), "{r}");
    assert_eq!(r["pageErrors"], serde_json::json!([]), "{r}");
    assert_eq!(r["external"], serde_json::json!([]), "{r}");
}
