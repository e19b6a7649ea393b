//! The call store end to end through `hotline serve`: a Mandarin call over `/media` is stored,
//! recorded and found through the JSON API by a word of it, in Traditional (FTS5 trigram on
//! folded text) and with two characters (LIKE); anonymous requests get 401; a viewer never
//! receives the caller's number or a phone number said in a call, an admin may un-redact
//! (audited); `kill -9` in the middle of a call leaves a readable recording complete to within
//! 1 s of the kill, and the next start marks the call `recovered`. Retention (with a clock the
//! test sets) deletes what is due and keeps what is on hold.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline::store::{
    ArchiveFormat, AuditAction, BridgedLineEntry, CallEnding, CallOutcome, CallStore, Clock,
    LiveWav, NewBridgedLine, NewCall, NewTurn, RETENTION_ACTOR, RecordingArchiver, RecordingConfig,
    RecordingObjects, RecordingStatus, RetentionJob, SetClock, SqliteCallStore, StoreMetrics,
    SystemClock, TurnEntry, TurnTimings, peaks_file,
};
use support::free_port;
use support::media_caller::{MediaCaller, question_payloads};
use support::s3_server::S3Server;
use support::store_rig::{CALLER, Server, add_user, start_server_with, token};

/// A phone number said in the stored synthetic call.
const SAID_NUMBER: &str = "98765432";

fn start_server(dir: &Path, port: u16, extra_env: &[(&str, String)]) -> Server {
    start_server_with(dir, port, false, extra_env)
}

/// `hotline users add NAME --role ROLE` then `hotline tokens create NAME`: the token.
fn user_token(dir: &Path, name: &str, role: &str) -> String {
    add_user(dir, name, role);
    token(dir, name)
}

struct Api {
    client: reqwest::Client,
    port: u16,
}

impl Api {
    async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self
            .client
            .get(format!("http://127.0.0.1:{}{path}", self.port));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    async fn json(&self, path: &str, token: &str) -> serde_json::Value {
        let response = self.get(path, Some(token)).await;
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.unwrap()
    }

    /// Polls `path` until `ready` says yes (10 s at most).
    async fn wait_for(
        &self,
        path: &str,
        token: &str,
        ready: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let value = self.json(path, token).await;
            if ready(&value) {
                return value;
            }
            assert!(Instant::now() < deadline, "{path}: {value}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A call as if stored with `[store] redact_pii = false`: a phone number in what was said.
fn store_call_with_personal_data(database: &Path) -> i64 {
    let store = SqliteCallStore::open(database).unwrap();
    // Yesterday: inside the retention period the server's deletion job applies at start.
    let started_at = hotline::store::SystemClock.now_ms() - 86_400_000;
    let id = store
        .open_call(&NewCall {
            leg_id: "synthetic".into(),
            channel: "sip".into(),
            caller: Some(CALLER.into()),
            caller_unredacted: Some(CALLER.into()),
            started_at,
        })
        .unwrap();
    let text = format!("我的电话是{SAID_NUMBER}");
    store
        .add_turn(
            id,
            &NewTurn {
                entry: TurnEntry {
                    index: 1,
                    lang: "zh".into(),
                    caller_text: text.clone(),
                    bot_text: "好的".into(),
                    bot_text_heard: "好的".into(),
                    faq_id: None,
                    faq_confidence: None,
                    outcome: "answered".into(),
                    timings: TurnTimings::default(),
                },
                unredacted: None,
                search_text: text,
            },
        )
        .unwrap();
    // After a bridged transfer: the agent repeats the number; a word only the agent said.
    let agent = format!("好的，稍后打回{SAID_NUMBER}，工单号猕猴桃");
    store
        .add_bridged_line(
            id,
            &NewBridgedLine {
                entry: BridgedLineEntry {
                    speaker: "agent".into(),
                    text: agent.clone(),
                    start_ms: 30_000,
                    end_ms: 33_000,
                },
                search_text: agent,
            },
        )
        .unwrap();
    store
        .close_call(
            id,
            &CallEnding {
                ended_at: started_at + 60_000,
                outcome: CallOutcome::CallerHungUp,
                ended_by: Some("caller_hung_up".into()),
                transfer_reason: None,
                languages: vec!["zh".into()],
                barge_ins: 0,
                csat: None,
                sentiment: None,
            },
        )
        .unwrap();
    id
}

fn call_ids(list: &serde_json::Value) -> Vec<i64> {
    list["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_i64())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_are_stored_found_recorded_and_recovered_after_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let admin = user_token(dir.path(), "ada", "admin");
    let viewer = user_token(dir.path(), "vic", "viewer");
    let synthetic = store_call_with_personal_data(&dir.path().join("calls.sqlite"));
    let port = free_port();
    let mut server = start_server(dir.path(), port, &[]);
    let api = Api {
        client: reqwest::Client::new(),
        port,
    };

    // Anonymous and forged tokens: 401.
    assert_eq!(api.get("/api/calls", None).await.status(), 401);
    assert_eq!(
        api.get("/api/calls/1", Some("hl_forged")).await.status(),
        401
    );

    // A Mandarin caller asks where the shop is and hangs up after the answer.
    let mut call = MediaCaller::start(port, "MZstored", CALLER).await;
    assert!(
        call.ask(&question_payloads("zh_2_tel.wav"), Duration::from_secs(40))
            .await,
        "the bot never answered"
    );
    call.listen_until_quiet(Duration::from_millis(1500), Duration::from_secs(20))
        .await;
    call.hang_up().await;

    // Stored once the call is over and its recording synced.
    let newest = api
        .wait_for("/api/calls?limit=1", &admin, |v| {
            v["calls"][0]["recording_status"] == "complete"
                && v["calls"][0]["outcome"] != "in_progress"
        })
        .await;
    let newest_id = newest["calls"][0]["id"].as_i64().unwrap();
    let newest = api.json(&format!("/api/calls/{newest_id}"), &admin).await;
    // Found by words of it (the demo FAQ's answer says 广州门店): in Traditional (folded,
    // trigram) and with two characters (LIKE).
    let path = format!("/api/calls?q={}&limit=5", urlencode("廣州門店"));
    let found = api.json(&path, &admin).await;
    assert_eq!(
        call_ids(&found),
        vec![newest_id],
        "{found}\nthe call: {newest}"
    );
    let stored = found["calls"][0].clone();
    let id = stored["id"].as_i64().unwrap();
    assert_eq!(stored["channel"], "media_stream", "{stored}");
    assert_eq!(
        stored["caller"], CALLER,
        "admins see what is kept: {stored}"
    );
    assert_eq!(stored["languages"][0], "zh", "{stored}");
    assert_eq!(stored["recording_status"], "complete", "{stored}");
    let short = api
        .json(&format!("/api/calls?q={}", urlencode("门店")), &admin)
        .await;
    assert!(call_ids(&short).contains(&id), "{short}");
    let unrelated = api
        .json(&format!("/api/calls?q={}", urlencode("發票號碼")), &admin)
        .await;
    assert!(!call_ids(&unrelated).contains(&id), "{unrelated}");
    // Newest first: the call made now before the synthetic one from yesterday.
    let all = api.json("/api/calls", &admin).await;
    assert_eq!(call_ids(&all), vec![id, synthetic], "{all}");

    let detail = api.json(&format!("/api/calls/{id}"), &admin).await;
    let turn = &detail["turns"][0];
    assert!(
        !turn["caller_text"].as_str().unwrap().is_empty(),
        "{detail}"
    );
    assert_eq!(turn["faq_id"], "shop_address", "{detail}");
    assert!(
        turn["bot_text_heard"].as_str().unwrap().contains("门店"),
        "{detail}"
    );
    assert!(
        turn["timings"]["first_audio_ms"].as_u64().is_some(),
        "{detail}"
    );

    // A viewer never receives personal data: not the caller's number, not a number said.
    let seen = api
        .get("/api/calls", Some(&viewer))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !seen.contains("91234567") && seen.contains("4567"),
        "{seen}"
    );
    let seen = api
        .get(&format!("/api/calls/{synthetic}"), Some(&viewer))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !seen.contains(SAID_NUMBER) && !seen.contains("91234567"),
        "{seen}"
    );
    // What the agent said after the transfer is in the call (redacted for the viewer above)
    // and found by search.
    let with_agent = api.json(&format!("/api/calls/{synthetic}"), &admin).await;
    assert_eq!(
        with_agent["after_transfer"][0]["speaker"], "agent",
        "{with_agent}"
    );
    assert!(
        with_agent["after_transfer"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("猕猴桃")),
        "{with_agent}"
    );
    let found = api
        .json(&format!("/api/calls?q={}", urlencode("猕猴桃")), &admin)
        .await;
    assert!(call_ids(&found).contains(&synthetic), "{found}");
    // Unanswered questions: the synthetic call's turn had no FAQ answer (the call made now was
    // answered); the viewer gets it without the number said.
    assert_eq!(api.get("/api/unanswered", None).await.status(), 401);
    let unanswered = api.json("/api/unanswered?days=7", &admin).await;
    let group = unanswered["groups"]
        .as_array()
        .and_then(|groups| groups.iter().find(|g| g["calls"][0] == synthetic))
        .unwrap_or_else(|| panic!("no group for the synthetic call: {unanswered}"));
    assert_eq!(group["count"], 1, "{unanswered}");
    assert!(
        group["example"]
            .as_str()
            .is_some_and(|e| e.contains(SAID_NUMBER)),
        "{unanswered}"
    );
    let seen = api
        .get("/api/unanswered?days=7", Some(&viewer))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !seen.contains(SAID_NUMBER) && seen.contains("groups"),
        "{seen}"
    );
    let refused = api
        .get(&format!("/api/calls/{id}?unredacted=true"), Some(&viewer))
        .await;
    assert_eq!(refused.status(), 403);
    let unredacted = api
        .json(&format!("/api/calls/{id}?unredacted=true"), &admin)
        .await;
    assert_eq!(unredacted["caller"], CALLER);

    // The recording: stereo WAV, seekable, every listen and download audited.
    let whole = api
        .get(&format!("/api/calls/{id}/recording"), Some(&viewer))
        .await;
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "audio/wav");
    let wav = whole.bytes().await.unwrap();
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(u16::from_le_bytes([wav[22], wav[23]]), 2, "stereo");
    let part = api
        .client
        .get(format!("http://127.0.0.1:{port}/api/calls/{id}/recording"))
        .bearer_auth(&admin)
        .header("Range", "bytes=44-1067")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 44-1067/{}", wav.len()).as_str()
    );
    assert_eq!(part.bytes().await.unwrap().as_ref(), &wav[44..1068]);
    let export = api
        .get(&format!("/api/calls/{id}/export"), Some(&admin))
        .await;
    assert_eq!(export.status(), 200);
    let export = export.bytes().await.unwrap();
    let mut names = Vec::new();
    let mut audit_json = String::new();
    for entry in tar::Archive::new(export.as_ref()).entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        if name == "audit.json" {
            std::io::Read::read_to_string(&mut entry, &mut audit_json).unwrap();
        }
        names.push(name);
    }
    assert_eq!(names, ["call.json", "audit.json", "recording.wav"]);
    for action in ["unredact", "listen", "download"] {
        assert!(
            audit_json.contains(&format!("\"{action}\"")),
            "{audit_json}"
        );
    }

    // kill -9 in the middle of a call.
    let mut call = MediaCaller::start(port, "MZkilled", CALLER).await;
    call.keep_talking(Duration::from_secs(4)).await;
    let running = api
        .wait_for("/api/calls?limit=1", &admin, |v| {
            v["calls"][0]["outcome"] == "in_progress"
        })
        .await;
    let killed = running["calls"][0]["id"].as_i64().unwrap();
    call.keep_talking(Duration::from_secs(2)).await;
    let alive_ms = call.started.elapsed().as_millis() as i64;
    server.0.kill().unwrap();
    let _ = server.0.wait();
    drop(call);
    let recording = recording_file(&dir.path().join("calls.sqlite"), killed);
    // Readable as it was left, before any repair.
    let left = hotline_audio::wav::read_wav_16k_mono(&recording).unwrap();
    let left_ms = left.samples.len() as i64 / 16;
    assert!(
        left_ms >= alive_ms - 1000 && left_ms <= alive_ms + 100,
        "the recording holds {left_ms} ms of a call killed after {alive_ms} ms"
    );

    // Restarted with a recording folder that cannot be made (a file is in the way).
    let blocked = dir.path().join("not-a-folder");
    std::fs::write(&blocked, b"").unwrap();
    let port = free_port();
    let _server = start_server(
        dir.path(),
        port,
        &[("HOTLINE_RECORDING__DIR", blocked.display().to_string())],
    );
    let api = Api {
        client: reqwest::Client::new(),
        port,
    };
    let recovered = api.json(&format!("/api/calls/{killed}"), &admin).await;
    assert_eq!(recovered["outcome"], "recovered", "{recovered}");
    assert_eq!(recovered["recording_status"], "recovered", "{recovered}");
    let recording_ms = recovered["recording_ms"].as_i64().unwrap();
    assert!(
        recording_ms >= alive_ms - 1000,
        "{recording_ms} ms recorded of {alive_ms}"
    );
    let wav = api
        .get(&format!("/api/calls/{killed}/recording"), Some(&admin))
        .await
        .bytes()
        .await
        .unwrap();
    let data_bytes = u32::from_le_bytes([wav[40], wav[41], wav[42], wav[43]]) as usize;
    assert_eq!(
        data_bytes,
        wav.len() - 44,
        "the header says what the file holds"
    );
    // The call stored before the kill is intact.
    let before = api.json(&format!("/api/calls/{id}"), &admin).await;
    assert_eq!(before["turns"], detail["turns"]);

    // Recording fails: the call goes on (answered), recording marked failed, counted.
    let mut call = MediaCaller::start(port, "MZunrecorded", CALLER).await;
    assert!(
        call.ask(&question_payloads("zh_2_tel.wav"), Duration::from_secs(40))
            .await,
        "a call whose recording failed was not answered"
    );
    call.hang_up().await;
    let unrecorded = api
        .wait_for("/api/calls?limit=1", &admin, |v| {
            v["calls"][0]["leg_id"] == "MZunrecorded" && v["calls"][0]["outcome"] != "in_progress"
        })
        .await;
    assert_eq!(
        unrecorded["calls"][0]["recording_status"], "failed",
        "{unrecorded}"
    );
    let metrics = support::http_get(port, "/metrics").unwrap();
    assert!(
        metrics.contains("hotline_recordings_failed_total 1"),
        "{metrics}"
    );
    eprintln!(
        "killed after {alive_ms} ms: {left_ms} ms readable as left, {recording_ms} ms after repair"
    );
}

fn urlencode(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

fn recording_file(database: &Path, id: i64) -> PathBuf {
    SqliteCallStore::open(database)
        .unwrap()
        .recording_path(id)
        .unwrap()
        .expect("the killed call has a recording")
}

#[test]
fn retention_deletes_what_is_due_and_keeps_what_is_on_hold() {
    const DAY: i64 = 86_400_000;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteCallStore::open(&dir.path().join("calls.sqlite")).unwrap());
    let now = 1_900_000_000_000;
    let clock = Arc::new(SetClock::at(now));
    let call = |leg: &str, started_at: i64| {
        let id = store
            .open_call(&NewCall {
                leg_id: leg.into(),
                channel: "sip".into(),
                caller: None,
                caller_unredacted: None,
                started_at,
            })
            .unwrap();
        let path = dir.path().join(format!("{leg}.wav"));
        std::fs::write(&path, b"RIFF").unwrap();
        store
            .set_recording(id, RecordingStatus::Complete, Some(&path), Some(1000))
            .unwrap();
        store
            .close_call(id, &ended_at(started_at + 60_000))
            .unwrap();
        (id, path)
    };
    let (old, old_file) = call("old", now - 1096 * DAY);
    let (held, held_file) = call("held", now - 2000 * DAY);
    let (recent, recent_file) = call("recent", now - DAY);
    store.set_legal_hold(held, true).unwrap();
    let job = RetentionJob {
        store: Arc::clone(&store),
        clock: Arc::clone(&clock) as Arc<dyn Clock>,
        retention_days: 1095,
        objects: Arc::new(RecordingObjects::local()),
    };

    let report = job.run_once().unwrap();
    let deleted: Vec<i64> = report.deleted.iter().map(|c| c.id).collect();
    assert_eq!(deleted, vec![old]);
    assert!(!old_file.exists() && held_file.exists() && recent_file.exists());
    assert!(store.call_detail(old).unwrap().is_none());
    assert!(store.call_detail(held).unwrap().is_some());
    let audit = store.audit_entries_of(old).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, AuditAction::Delete.as_str());
    assert_eq!(audit[0].actor, RETENTION_ACTOR);
    assert!(audit[0].detail.contains("\"old\""), "{}", audit[0].detail);

    // Three years on, the recent call is due too; the held one stays until released.
    clock.advance_days(1095);
    let deleted: Vec<i64> = job
        .run_once()
        .unwrap()
        .deleted
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(deleted, vec![recent]);
    assert!(store.call_detail(held).unwrap().is_some());
    store.set_legal_hold(held, false).unwrap();
    let deleted: Vec<i64> = job
        .run_once()
        .unwrap()
        .deleted
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(deleted, vec![held]);
    assert_eq!(store.verify_audit_chain().unwrap(), None);
}

/// How the calls of the recording tests end: answered by the bot at `ended_at`.
fn ended_at(ended_at: i64) -> CallEnding {
    CallEnding {
        ended_at,
        outcome: CallOutcome::AnsweredByBot,
        ended_by: None,
        transfer_reason: None,
        languages: vec![],
        barge_ins: 0,
        csat: None,
        sentiment: None,
    }
}

/// A stereo recording of `seconds` as the recorder writes it: a tone on each side.
fn tone_recording(path: &Path, seconds: usize) {
    let mut wav = LiveWav::create(path).unwrap();
    let tone = |hz: f32, i: usize| {
        ((i as f32 * hz * std::f32::consts::TAU / 16_000.0).sin() * 6000.0) as i16
    };
    let left: Vec<i16> = (0..seconds * 16_000).map(|i| tone(250.0, i)).collect();
    let right: Vec<i16> = (0..seconds * 16_000).map(|i| tone(900.0, i)).collect();
    wav.push(&left, &right);
    wav.finish().unwrap();
}

#[test]
fn finished_recordings_are_archived_as_ogg_opus_and_still_draw_and_expire() {
    const MINUTE: i64 = 60_000;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteCallStore::open(&dir.path().join("calls.sqlite")).unwrap());
    let now = 1_900_000_000_000;
    let clock = Arc::new(SetClock::at(now));
    let call = |leg: &str, ended_at: Option<i64>, wav: Option<usize>| {
        let id = store
            .open_call(&NewCall {
                leg_id: leg.into(),
                channel: "sip".into(),
                caller: None,
                caller_unredacted: None,
                started_at: now - 200 * MINUTE,
            })
            .unwrap();
        let path = dir.path().join(format!("{leg}.wav"));
        match wav {
            Some(seconds) => tone_recording(&path, seconds),
            None => std::fs::write(&path, b"RIFF, but nothing after").unwrap(),
        }
        let status = if ended_at.is_some() {
            RecordingStatus::Complete
        } else {
            RecordingStatus::Recording
        };
        store.set_recording(id, status, Some(&path), None).unwrap();
        if let Some(ended_at) = ended_at {
            store.close_call(id, &self::ended_at(ended_at)).unwrap();
        }
        (id, path)
    };
    let (old, old_wav) = call("old", Some(now - 120 * MINUTE), Some(3));
    let (fresh, fresh_wav) = call("fresh", Some(now - 10 * MINUTE), Some(1));
    let (running, running_wav) = call("running", None, Some(1));
    let (broken, broken_wav) = call("broken", Some(now - 120 * MINUTE), None);
    let archiver = RecordingArchiver {
        store: Arc::clone(&store) as Arc<dyn CallStore>,
        clock: Arc::clone(&clock) as Arc<dyn Clock>,
        config: RecordingConfig {
            archive_format: ArchiveFormat::Opus,
            archive_after_minutes: 60,
            ..RecordingConfig::default()
        },
        objects: Arc::new(RecordingObjects::local()),
        metrics: Arc::new(StoreMetrics::default()),
    };

    let report = archiver.run_once().unwrap();
    assert_eq!(report.archived, vec![old]);
    assert_eq!(report.failed.len(), 1, "{:?}", report.failed);
    assert_eq!(report.failed[0].0, broken);
    assert!(
        report.failed[0].1.contains("broken.wav"),
        "{:?}",
        report.failed
    );
    assert!(
        report.bytes_after * 15 < report.bytes_before,
        "{} bytes of Opus for {} of WAV",
        report.bytes_after,
        report.bytes_before
    );
    let opus = store.recording_path(old).unwrap().unwrap();
    assert_eq!(opus, dir.path().join("old.opus"));
    assert!(
        !old_wav.exists(),
        "the WAV goes once the store points at the Opus file"
    );
    assert!(fresh_wav.exists() && running_wav.exists() && broken_wav.exists());
    assert_eq!(store.recording_path(fresh).unwrap().unwrap(), fresh_wav);
    assert_eq!(store.recording_path(running).unwrap().unwrap(), running_wav);
    let detail = store.call_detail(old).unwrap().unwrap();
    assert_eq!(detail.call.recording_status, RecordingStatus::Complete);

    // The waveform was read from the WAV before it went.
    let peaks: serde_json::Value =
        serde_json::from_slice(&std::fs::read(peaks_file(&opus)).unwrap()).unwrap();
    assert_eq!(peaks["duration_s"], 3.0);
    assert_eq!(peaks["channels"].as_array().unwrap().len(), 2);

    // An independent reader (opus-tools, from Debian) finds a valid stream of the same length.
    let info = std::process::Command::new("opusinfo")
        .arg(&opus)
        .output()
        .expect("opusinfo (Debian opus-tools, installed by `make test`) must be installed");
    let text =
        String::from_utf8_lossy(&info.stdout).to_string() + &String::from_utf8_lossy(&info.stderr);
    assert!(info.status.success(), "{text}");
    assert!(
        !text.contains("WARNING") && !text.contains("ERROR"),
        "{text}"
    );
    assert!(text.contains("Channels: 2"), "{text}");
    assert!(text.contains("Playback length: 0m:03.000s"), "{text}");

    // The next run has nothing new; the broken file is retried, left as it is.
    let again = archiver.run_once().unwrap();
    assert!(again.archived.is_empty());
    assert_eq!(again.failed.len(), 1);

    // Retention deletes the archived recording and its peaks.
    clock.advance_days(1096);
    let retention = RetentionJob {
        store: Arc::clone(&store),
        clock: Arc::clone(&clock) as Arc<dyn Clock>,
        retention_days: 1095,
        objects: Arc::new(RecordingObjects::local()),
    };
    let report = retention.run_once().unwrap();
    assert!(report.deleted.iter().any(|c| c.id == old));
    assert!(!opus.exists() && !peaks_file(&opus).exists());
    assert!(report.files_left.is_empty(), "{:?}", report.files_left);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recordings_archived_to_an_s3_store_play_export_and_expire_from_there() {
    const HOUR: i64 = 3_600_000;
    let s3 = S3Server::start("recordings");
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("calls.sqlite");
    // A call that ended two hours ago, its WAV still in the local folder.
    let wav = dir.path().join("recordings/2026-12-05/call-s3.wav");
    std::fs::create_dir_all(wav.parent().unwrap()).unwrap();
    tone_recording(&wav, 2);
    let original = std::fs::read(&wav).unwrap();
    let now = SystemClock.now_ms();
    let id = {
        let store = SqliteCallStore::open(&database).unwrap();
        let id = store
            .open_call(&NewCall {
                leg_id: "s3-call".into(),
                channel: "sip".into(),
                caller: None,
                caller_unredacted: None,
                started_at: now - 2 * HOUR,
            })
            .unwrap();
        store
            .set_recording(id, RecordingStatus::Complete, Some(&wav), Some(2000))
            .unwrap();
        store
            .close_call(id, &ended_at(now - 2 * HOUR + 60_000))
            .unwrap();
        id
    };
    let admin = user_token(dir.path(), "ada", "admin");
    let endpoint = format!("http://127.0.0.1:{}", s3.port);
    // Credentials as operators give them: the usual AWS_* variables.
    let port = free_port();
    let _server = start_server(
        dir.path(),
        port,
        &[
            (
                "HOTLINE_RECORDING__OBJECT_STORE",
                "s3://recordings/calls".to_string(),
            ),
            ("AWS_ENDPOINT", endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
            ("AWS_ACCESS_KEY_ID", "hotline-test".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "hotline-test-secret".to_string()),
        ],
    );

    // The server's archiving job runs at start: the call's recording moves to the bucket.
    let store = SqliteCallStore::open(&database).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let url = loop {
        let location = store.recording_path(id).unwrap().unwrap();
        if location.to_string_lossy().starts_with("s3://") {
            break location;
        }
        assert!(
            Instant::now() < deadline,
            "not archived within 30 s: {}",
            std::fs::read_to_string(dir.path().join(format!("serve-{port}.log"))).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        url.to_string_lossy(),
        "s3://recordings/calls/2026-12-05/call-s3.wav"
    );
    assert!(
        !wav.exists(),
        "the local WAV goes once the store points at the object"
    );
    assert!(!peaks_file(&wav).exists());
    let status = s3.object_status("recordings", "calls/2026-12-05/call-s3.wav");
    assert!(
        status.as_deref().is_some_and(|s| s.contains(" 200 ")),
        "{status:?}"
    );
    let status = s3.object_status("recordings", "calls/2026-12-05/call-s3.peaks.json");
    assert!(
        status.as_deref().is_some_and(|s| s.contains(" 200 ")),
        "{status:?}"
    );

    // Played from the bucket: a range, then the whole file, byte for byte.
    let client = reqwest::Client::new();
    let recording = format!("http://127.0.0.1:{port}/api/calls/{id}/recording");
    let part = client
        .get(&recording)
        .bearer_auth(&admin)
        .header("Range", "bytes=40-139")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 40-139/{}", original.len()).as_str()
    );
    assert_eq!(part.bytes().await.unwrap(), &original[40..140]);
    let whole = client
        .get(&recording)
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "audio/wav");
    assert_eq!(whole.bytes().await.unwrap(), original.as_slice());

    // The export holds it too.
    let export = client
        .get(format!("http://127.0.0.1:{port}/api/calls/{id}/export"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    let tar_bytes = export.bytes().await.unwrap();
    let mut archive = tar::Archive::new(tar_bytes.as_ref());
    let exported = archive
        .entries()
        .unwrap()
        .filter_map(Result::ok)
        .find(|entry| entry.path().unwrap().to_string_lossy() == "recording.wav")
        .map(|mut entry| {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
            bytes
        })
        .expect("recording.wav in the export");
    assert_eq!(exported, original);

    // Retention deletes the object and its peaks from the bucket.
    let objects = RecordingObjects::from_config(&RecordingConfig {
        object_store: "s3://recordings/calls".to_string(),
        object_store_options: [
            ("aws_endpoint", endpoint.as_str()),
            ("aws_allow_http", "true"),
            ("aws_region", "us-east-1"),
            ("aws_access_key_id", "hotline-test"),
            ("aws_secret_access_key", "hotline-test-secret"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        ..RecordingConfig::default()
    })
    .unwrap();
    let retention = RetentionJob {
        store: Arc::new(SqliteCallStore::open(&database).unwrap()),
        clock: Arc::new(SetClock::at(now + 1100 * 24 * HOUR)) as Arc<dyn Clock>,
        retention_days: 1095,
        objects: Arc::new(objects),
    };
    let report = tokio::task::spawn_blocking(move || retention.run_once().unwrap())
        .await
        .unwrap();
    assert!(report.deleted.iter().any(|c| c.id == id));
    assert!(report.files_left.is_empty(), "{:?}", report.files_left);
    for key in [
        "calls/2026-12-05/call-s3.wav",
        "calls/2026-12-05/call-s3.peaks.json",
    ] {
        let status = s3.object_status("recordings", key);
        assert!(
            status.as_deref().is_some_and(|s| s.contains(" 404 ")),
            "{key}: {status:?}"
        );
    }
}
