//! The review web UI (`/review`) through `hotline serve`, with calls stored straight into the
//! store before the server starts: anonymous requests are sent to the login page, a wrong
//! password is refused (no session), forms without their CSRF token are refused, the filters
//! and the search narrow the list, a viewer never receives the caller's number or a number
//! said in a call in any page, hostile caller text (`<script>`) arrives escaped, and logout
//! ends the session; the KPI figures link to their calls; un-redaction and legal hold are
//! audited. And end to end through `/media` calls: a question the company's FAQ does not
//! answer shows on `/review/unanswered`, a supervisor adds it to the FAQ there, and the next
//! caller who asks is answered from the new entry.
//!
//! The same in a real browser: `tests/review_browser.rs`.

mod support;

use hotline::store::{
    AuditAction, CallEnding, CallOutcome, CallStore, Clock, NewCall, NewTurn, SqliteCallStore,
    SystemClock, TurnEntry, TurnTimings,
};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use support::free_port;
use support::store_rig::{
    CALLER, PASSWORD, add_bridged_line, add_user, end_transferred, start_server,
};

/// A phone number said in a stored call.
const SAID_NUMBER: &str = "98765432";
/// What a hostile caller said (and what the store kept as its FAQ id).
const HOSTILE: &str = "<script>alert('pwned')</script><img src=x onerror=alert(1)>";

/// Stores a finished one-turn call; its id.
fn store_call(
    store: &SqliteCallStore,
    lang: &str,
    said: &str,
    faq: Option<&str>,
    csat: Option<u8>,
) -> i64 {
    let started_at = SystemClock.now_ms() - 3_600_000;
    let id = store
        .open_call(&NewCall {
            leg_id: format!("synthetic-{lang}"),
            channel: "sip".into(),
            caller: Some(CALLER.into()),
            caller_unredacted: Some(CALLER.into()),
            started_at,
        })
        .unwrap();
    store
        .add_turn(
            id,
            &NewTurn {
                entry: TurnEntry {
                    index: 1,
                    lang: lang.into(),
                    caller_text: said.into(),
                    bot_text: format!("{said} → {HOSTILE}"),
                    bot_text_heard: "好的".into(),
                    faq_id: faq.map(str::to_string),
                    faq_confidence: Some(0.5),
                    outcome: "answered".into(),
                    timings: TurnTimings {
                        speech_start_ms: 1000,
                        speech_end_ms: 2000,
                        bot_audio_start_ms: Some(2500),
                        barge_in_onset_ms: Some(3000),
                        voice_to_voice_ms: Some(4200),
                        ..TurnTimings::default()
                    },
                },
                unredacted: None,
                search_text: said.into(),
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
                languages: vec![lang.into()],
                barge_ins: 1,
                csat,
                sentiment: None,
            },
        )
        .unwrap();
    id
}

/// A browser without a cookie jar: cookies are carried by hand, redirects are not followed.
struct Browser {
    client: reqwest::Client,
    port: u16,
}

/// An open event stream, read event by event.
struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    /// The next event (its name and data; comments and keep-alives skipped), within 10 s.
    async fn next(&mut self) -> (String, String) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut kind, mut data) = (String::new(), Vec::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        kind = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push(v.strip_prefix(' ').unwrap_or(v).to_string());
                    }
                }
                if !kind.is_empty() || !data.is_empty() {
                    return (kind, data.join("\n"));
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .expect("no event within 10 s")
                .unwrap()
                .expect("the event stream ended");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

struct Answer {
    status: StatusCode,
    location: Option<String>,
    cookies: Vec<String>,
    body: String,
}

impl Answer {
    /// The value of cookie `name` set by this answer.
    fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.iter().find_map(|c| {
            let (pair, _) = c.split_once(';').unwrap_or((c, ""));
            let (key, value) = pair.split_once('=')?;
            (key == name).then(|| value.to_string())
        })
    }

    /// The value of the hidden `csrf` input in the page.
    fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a csrf input")
            + 19;
        self.body[at..at + 64].to_string()
    }
}

impl Browser {
    /// A browser for the server on `port`.
    fn new(port: u16) -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            port,
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder, cookie: &str) -> Answer {
        let request = if cookie.is_empty() {
            request
        } else {
            request.header(COOKIE, cookie)
        };
        let response = request.send().await.unwrap();
        Answer {
            status: response.status(),
            location: response
                .headers()
                .get(LOCATION)
                .map(|v| v.to_str().unwrap().to_string()),
            cookies: response
                .headers()
                .get_all(SET_COOKIE)
                .iter()
                .map(|v| v.to_str().unwrap().to_string())
                .collect(),
            body: response.text().await.unwrap(),
        }
    }

    async fn get(&self, path: &str, cookie: &str) -> Answer {
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        self.send(self.client.get(url), cookie).await
    }

    async fn post(&self, path: &str, cookie: &str, form: &[(&str, &str)]) -> Answer {
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        self.send(self.client.post(url).form(form), cookie).await
    }

    /// An event stream (Server-Sent Events) opened with `cookie`.
    async fn events(&self, path: &str, cookie: &str) -> Events {
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        let response = self
            .client
            .get(url)
            .header(COOKIE, cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Events {
            response,
            buffer: String::new(),
        }
    }

    /// Logs in as `name`: the session cookie (`hotline_review=...`).
    async fn log_in(&self, name: &str, password: &str) -> Result<String, Answer> {
        let form = self.get("/review/login", "").await;
        let token = form.cookie("hotline_review_login").expect("login cookie");
        let csrf = form.csrf();
        let answer = self
            .post(
                "/review/login",
                &format!("hotline_review_login={token}"),
                &[("name", name), ("password", password), ("csrf", &csrf)],
            )
            .await;
        match answer.cookie("hotline_review") {
            Some(session) if answer.status == StatusCode::SEE_OTHER => {
                Ok(format!("hotline_review={session}"))
            }
            _ => Err(answer),
        }
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_pages_guard_login_csrf_personal_data_and_escaping() {
    let dir = tempfile::tempdir().unwrap();
    add_user(dir.path(), "ada", "admin");
    add_user(dir.path(), "vic", "viewer");
    let (personal, hostile) = {
        let store = SqliteCallStore::open(&dir.path().join("calls.sqlite")).unwrap();
        let personal = store_call(
            &store,
            "zh",
            &format!("我的电话是{SAID_NUMBER}"),
            None,
            Some(2),
        );
        let hostile = store_call(&store, "en", HOSTILE, Some(HOSTILE), None);
        (personal, hostile)
    };
    let port = free_port();
    let _server = start_server(dir.path(), port, false);
    let browser = Browser::new(port);

    // Anonymous: every page sends to the login page; the API stays 401.
    for path in [
        "/review".to_string(),
        format!("/review/calls/{personal}"),
        format!("/review/calls/{personal}/recording"),
        format!("/review/calls/{personal}/export"),
        "/review/kpis".to_string(),
    ] {
        let answer = browser.get(&path, "").await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(answer.location.as_deref(), Some("/review/login"), "{path}");
    }
    let forged = browser.get("/review", "hotline_review=forged").await;
    assert_eq!(forged.location.as_deref(), Some("/review/login"));
    assert_eq!(browser.get("/api/calls", "").await.status, 401);
    let login = browser.get("/review/login", "").await;
    assert_eq!(login.status, 200);
    assert!(login.body.contains("type=\"password\""), "{}", login.body);

    // A login without the form's token is refused, a wrong password too (no session).
    let refused = browser
        .post(
            "/review/login",
            "",
            &[("name", "ada"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.cookie("hotline_review").is_none());
    let wrong = browser.log_in("ada", "wrong horse").await.unwrap_err();
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(
        wrong.body.contains("Wrong name or password"),
        "{}",
        wrong.body
    );
    let nobody = browser.log_in("nobody", PASSWORD).await.unwrap_err();
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);

    // The admin: the session cookie is HttpOnly and SameSite=Strict.
    let form = browser.get("/review/login", "").await;
    let token = form.cookie("hotline_review_login").unwrap();
    let answer = browser
        .post(
            "/review/login",
            &format!("hotline_review_login={token}"),
            &[
                ("name", "ada"),
                ("password", PASSWORD),
                ("csrf", &form.csrf()),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location.as_deref(), Some("/review"));
    let set = answer
        .cookies
        .iter()
        .find(|c| c.starts_with("hotline_review="))
        .unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let admin = format!(
        "hotline_review={}",
        answer.cookie("hotline_review").unwrap()
    );

    // The list: both calls, the hostile text nowhere raw; filters and search narrow it.
    let list = browser.get("/review", &admin).await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains(&format!("/review/calls/{personal}\"")));
    assert!(list.body.contains(&format!("/review/calls/{hostile}\"")));
    assert!(list.body.contains(CALLER), "admins see what is kept");
    let english = browser
        .get("/review?lang=en&channel=sip", &admin)
        .await
        .body;
    assert!(english.contains(&format!("/review/calls/{hostile}\"")));
    assert!(!english.contains(&format!("/review/calls/{personal}\"")));
    let slow = browser
        .get("/review?slow=1&outcome=caller_hung_up", &admin)
        .await
        .body;
    assert!(
        slow.contains(&format!("/review/calls/{personal}\"")),
        "{slow}"
    );
    let unhappy = browser.get("/review?csat=2", &admin).await.body;
    assert!(
        unhappy.contains(&format!("/review/calls/{personal}\"")),
        "{unhappy}"
    );
    assert!(
        !unhappy.contains(&format!("/review/calls/{hostile}\"")),
        "{unhappy}"
    );
    let none = browser
        .get("/review?outcome=transferred", &admin)
        .await
        .body;
    assert!(none.contains("No calls match"), "{none}");
    let bad = browser.get("/review?from=2026-02-30", &admin).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // Two characters in Traditional (LIKE over folded text) find the Simplified call.
    let found = browser
        .get(&format!("/review?q={}", urlencode("電話")), &admin)
        .await
        .body;
    assert!(
        found.contains(&format!("/review/calls/{personal}\"")),
        "{found}"
    );
    assert!(!found.contains(&format!("/review/calls/{hostile}\"")));

    // Hostile caller text arrives as text, never as markup.
    let page = browser
        .get(&format!("/review/calls/{hostile}"), &admin)
        .await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    assert!(!page.body.contains("<img src=x"), "{}", page.body);
    assert!(
        page.body
            .contains("&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;")
    );
    let scripts: Vec<&str> = page
        .body
        .match_indices("<script")
        .map(|(i, _)| &page.body[i..])
        .collect();
    assert_eq!(scripts.len(), 3, "only the page's own scripts");
    assert!(
        scripts
            .iter()
            .all(|s| s.starts_with("<script src=\"/review/assets/"))
    );
    // No element carries an event handler attribute.
    let handler = regex::Regex::new(r"<[a-zA-Z][^<>]*\son[a-z]+\s*=").unwrap();
    assert!(!handler.is_match(&page.body), "{}", page.body);
    // The turn's offsets for the player.
    assert!(page.body.contains("data-seek=\"2.500\""), "{}", page.body);
    assert!(page.body.contains("data-barge=\"3.000\""));

    // The KPIs: every figure links to its calls.
    let kpis = browser.get("/review/kpis?period=week", &admin).await;
    assert_eq!(kpis.status, 200, "{}", kpis.body);
    let link = regex::Regex::new(r#"<a href="(/review\?[^"]*barge=1)">100% \(2\)</a>"#).unwrap();
    let barge_link = link
        .captures(&kpis.body)
        .unwrap_or_else(|| panic!("no barge-in figure: {}", kpis.body))[1]
        .replace("&amp;", "&");
    let barged = browser.get(&barge_link, &admin).await.body;
    assert!(
        barged.contains(&format!("/review/calls/{personal}\"")),
        "{barged}"
    );
    assert!(
        barged.contains(&format!("/review/calls/{hostile}\"")),
        "{barged}"
    );
    assert!(!kpis.body.contains("<script>alert"), "{}", kpis.body);
    assert!(
        kpis.body.contains(">2.00 (1)</a>"),
        "CSAT average: {}",
        kpis.body
    );

    // Admins may un-redact (audited); forms without the CSRF token are refused.
    let unredacted = browser
        .get(&format!("/review/calls/{personal}?unredacted=1"), &admin)
        .await;
    assert_eq!(unredacted.status, 200);
    assert!(unredacted.body.contains(CALLER));
    let csrf = list.csrf();
    let no_token = browser
        .post(
            &format!("/review/calls/{personal}/hold"),
            &admin,
            &[("hold", "1")],
        )
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let wrong_token = browser
        .post(
            &format!("/review/calls/{personal}/hold"),
            &admin,
            &[("hold", "1"), ("csrf", &"0".repeat(64))],
        )
        .await;
    assert_eq!(wrong_token.status, StatusCode::FORBIDDEN);
    let held = browser
        .post(
            &format!("/review/calls/{personal}/hold"),
            &admin,
            &[("hold", "1"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(held.status, StatusCode::SEE_OTHER);
    let page = browser
        .get(&format!("/review/calls/{personal}"), &admin)
        .await;
    assert!(page.body.contains("Release legal hold"));

    // A viewer never receives personal data, in any page.
    let viewer = browser
        .log_in("vic", PASSWORD)
        .await
        .map_err(|a| a.body)
        .unwrap();
    let list = browser.get("/review", &viewer).await;
    assert_eq!(list.status, 200);
    for path in [
        "/review".to_string(),
        format!("/review?q={}", urlencode("电话")),
        format!("/review/calls/{personal}"),
    ] {
        let body = browser.get(&path, &viewer).await.body;
        assert!(
            !body.contains("91234567") && !body.contains(SAID_NUMBER),
            "{path}: {body}"
        );
        assert!(body.contains("4567"), "{path}: the masked number");
    }
    let refused = browser
        .get(&format!("/review/calls/{personal}?unredacted=1"), &viewer)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!refused.body.contains(SAID_NUMBER) && !refused.body.contains("91234567"));
    let not_admin = browser
        .post(
            &format!("/review/calls/{personal}/hold"),
            &viewer,
            &[("hold", "0"), ("csrf", &list.csrf())],
        )
        .await;
    assert_eq!(not_admin.status, StatusCode::FORBIDDEN);

    // Logout needs the token too, then ends the session.
    let kept = browser.post("/review/logout", &viewer, &[]).await;
    assert_eq!(kept.status, StatusCode::FORBIDDEN);
    assert_eq!(browser.get("/review", &viewer).await.status, 200);
    let out = browser
        .post("/review/logout", &viewer, &[("csrf", &list.csrf())])
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location.as_deref(), Some("/review/login"));
    let gone = browser.get("/review", &viewer).await;
    assert_eq!(gone.location.as_deref(), Some("/review/login"));
    // The admin's session is another one.
    assert_eq!(browser.get("/review", &admin).await.status, 200);

    // A call still running (stored after the start, so not taken for one left over by a
    // crash), bridged to an agent: its page reloads itself, shows the caller's words to the
    // agent and suggests the FAQ answers nearest to them; a finished call's page does not.
    let running = {
        let store = SqliteCallStore::open(&dir.path().join("calls.sqlite")).unwrap();
        let id = store
            .open_call(&NewCall {
                leg_id: "running".into(),
                channel: "sip".into(),
                caller: None,
                caller_unredacted: None,
                started_at: SystemClock.now_ms(),
            })
            .unwrap();
        add_bridged_line(&store, id, "caller", "那运费怎么算呢", 5000);
        store
            .set_handover_summary(id, "客户要求转人工，问了退货")
            .unwrap();
        id
    };
    let live = browser
        .get(&format!("/review/calls/{running}"), &admin)
        .await;
    assert_eq!(live.status, 200);
    for shown in [
        "http-equiv=\"refresh\"",
        "Caller (to the agent)",
        "那运费怎么算呢",
        "Suggested answers",
        "shipping_fee",
        "Handover summary",
        "客户要求转人工，问了退货",
    ] {
        assert!(
            live.body.contains(shown),
            "{shown:?} not on the live page: {}",
            live.body
        );
    }
    // Without script it reloads itself; with script it follows the call's event stream.
    assert!(live.body.contains("<noscript><meta http-equiv=\"refresh\""));
    assert!(
        live.body
            .contains(&format!("data-updates=\"/review/calls/{running}/live\""))
    );
    let mut events = browser
        .events(&format!("/review/calls/{running}/live"), &admin)
        .await;
    let (kind, data) = events.next().await;
    assert_eq!(kind, "update");
    let update: serde_json::Value = serde_json::from_str(&data).unwrap();
    assert!(
        update["transcript"]
            .as_str()
            .unwrap()
            .contains("那运费怎么算呢"),
        "{update}"
    );
    assert!(
        update["summary"]
            .as_str()
            .unwrap()
            .contains("客户要求转人工"),
        "{update}"
    );
    assert!(
        update["suggestions"]
            .as_str()
            .unwrap()
            .contains("shipping_fee"),
        "{update}"
    );
    // The agent's answer and the caller's next words arrive as ASR writes them (HTML escaped
    // by the server), with suggestions for the new words; then the call ends.
    let store = SqliteCallStore::open(&dir.path().join("calls.sqlite")).unwrap();
    let written = std::time::Instant::now();
    for (speaker, said, start_ms) in [
        ("agent", "运费是十块<b>", 8000),
        ("caller", "我想退货", 11000),
    ] {
        add_bridged_line(&store, running, speaker, said, start_ms);
    }
    let update = loop {
        let (kind, data) = events.next().await;
        assert_eq!(kind, "update");
        let update: serde_json::Value = serde_json::from_str(&data).unwrap();
        if update["transcript"].as_str().unwrap().contains("我想退货") {
            break update;
        }
    };
    println!(
        "a line written to the store reached the page's stream in {:?}",
        written.elapsed()
    );
    assert!(written.elapsed() < std::time::Duration::from_secs(3));
    let transcript = update["transcript"].as_str().unwrap();
    assert!(
        transcript.contains("运费是十块&lt;b&gt;"),
        "not escaped: {transcript}"
    );
    assert!(
        update["suggestions"].as_str().unwrap().contains("我想退货"),
        "{update}"
    );
    // A reviewer who logs out (in another tab) stops following at the stream's next read.
    let second = browser
        .log_in("ada", PASSWORD)
        .await
        .map_err(|a| a.body)
        .unwrap();
    let mut followed = browser
        .events(&format!("/review/calls/{running}/live"), &second)
        .await;
    assert_eq!(followed.next().await.0, "update");
    let list = browser.get("/review", &second).await;
    let out = browser
        .post("/review/logout", &second, &[("csrf", &list.csrf())])
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        followed.next().await,
        ("ended".to_string(), "logged out".to_string())
    );
    end_transferred(&store, running);
    assert_eq!(
        events.next().await,
        ("ended".to_string(), "over".to_string())
    );
    // A viewer may not ask the stream for the unredacted text either.
    let viewer_again = browser
        .log_in("vic", PASSWORD)
        .await
        .map_err(|a| a.body)
        .unwrap();
    let denied = browser
        .get(
            &format!("/review/calls/{running}/live?unredacted=1"),
            &viewer_again,
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let finished = browser
        .get(&format!("/review/calls/{personal}"), &admin)
        .await;
    assert!(!finished.body.contains("http-equiv=\"refresh\""));
    assert!(!finished.body.contains("Suggested answers"));

    // The un-redaction and the hold are in the audit log.
    let store = SqliteCallStore::open(&dir.path().join("calls.sqlite")).unwrap();
    let actions: Vec<(String, String)> = store
        .audit_entries_of(personal)
        .unwrap()
        .into_iter()
        .map(|e| (e.actor, e.action))
        .collect();
    for action in [AuditAction::Unredact, AuditAction::LegalHold] {
        let wanted = ("ada".to_string(), action.as_str().to_string());
        assert!(
            actions.contains(&wanted),
            "{action:?} not audited: {actions:?}"
        );
    }
}

/// The first call after call `after` (0: any) once it has ended with a turn: its id and the
/// FAQ id of each caller turn (a question may be heard as more than one turn).
async fn ended_call_faqs(database: &std::path::Path, after: i64) -> (i64, Vec<Option<String>>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let found = {
            let db = rusqlite::Connection::open(database).unwrap();
            db.query_row(
                "SELECT c.id FROM calls c WHERE c.outcome != 'in_progress' AND c.id > ?1 \
                 AND c.turn_count > 0 ORDER BY c.id LIMIT 1",
                [after],
                |row| row.get::<_, i64>(0),
            )
            .map(|id| {
                let mut turns = db
                    .prepare("SELECT faq_id FROM turns WHERE call_id = ?1 ORDER BY turn_index")
                    .unwrap();
                let faqs = turns
                    .query_map([id], |row| row.get::<_, Option<String>>(0))
                    .unwrap()
                    .collect::<Result<Vec<_>, _>>()
                    .unwrap();
                (id, faqs)
            })
        };
        if let Ok(found) = found {
            return found;
        }
        assert!(std::time::Instant::now() < deadline, "no ended call stored");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// A caller asks when the shop opens; the company's FAQ (`[dialogue] kb`) does not say, so the
/// question shows on `/review/unanswered`. A supervisor adds it to the FAQ from there (a
/// viewer sees no form and may not post; a form without its CSRF token is refused): the FAQ
/// file gets the entry, the audit log says who added what, and the next caller who asks the
/// same is answered from the new entry, without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_question_added_to_the_faq_is_answered_on_the_next_call() {
    use std::time::Duration;
    use support::media_caller::{MediaCaller, question_payloads};

    let dir = tempfile::tempdir().unwrap();
    let faq = dir.path().join("faq.csv");
    std::fs::write(
        &faq,
        "id,question,answer,lang,alt_questions\n\
         invoice,可以开发票吗,可以，结账时告诉店员抬头和税号。,zh,怎么开发票 | 发票怎么开\n\
         warranty,产品有保修吗,所有产品保修一年。,zh,坏了能保修吗 | 保修多久\n",
    )
    .unwrap();
    add_user(dir.path(), "sue", "supervisor");
    add_user(dir.path(), "vic", "viewer");
    let port = free_port();
    let _server = support::store_rig::start_server_with(
        dir.path(),
        port,
        true,
        &[("HOTLINE_DIALOGUE__KB", faq.display().to_string())],
    );
    let database = dir.path().join("calls.sqlite");
    let question = question_payloads("zh_1_tel.wav"); // 你们每天几点开门，几点关门？
    let ask = |sid: &'static str| {
        let question = question.clone();
        async move {
            let mut call = MediaCaller::start(port, sid, CALLER).await;
            assert!(
                call.ask(&question, Duration::from_secs(40)).await,
                "the bot never answered"
            );
            call.listen_until_quiet(Duration::from_millis(1500), Duration::from_secs(20))
                .await;
            call.hang_up().await;
        }
    };

    ask("MZbefore").await;
    let (first_call, faqs) = ended_call_faqs(&database, 0).await;
    assert!(
        faqs.iter().all(Option::is_none),
        "the FAQ does not say when the shop opens: {faqs:?}"
    );

    let browser = Browser::new(port);
    let viewer = browser
        .log_in("vic", PASSWORD)
        .await
        .unwrap_or_else(|a| panic!("{}", a.body));
    let seen = browser.get("/review/unanswered", &viewer).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    assert!(
        seen.body.contains(&format!("/review/calls/{first_call}")),
        "{}",
        seen.body
    );
    assert!(
        !seen.body.contains("Add to FAQ"),
        "viewers get no form: {}",
        seen.body
    );
    let refused = browser
        .post(
            "/review/unanswered/faq",
            &viewer,
            &[
                ("csrf", &seen.csrf()),
                ("topic", "x"),
                ("lang", "zh"),
                ("question", "q"),
                ("answer", "a"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

    let supervisor = browser
        .log_in("sue", PASSWORD)
        .await
        .unwrap_or_else(|a| panic!("{}", a.body));
    let page = browser.get("/review/unanswered", &supervisor).await;
    assert!(page.body.contains("Add to FAQ"), "{}", page.body);
    // What the caller's first turn was heard as (the rest of the question may have come as a
    // second turn, unanswered too): a group of its own on the page, with the form filled in.
    let asked: String = rusqlite::Connection::open(&database)
        .unwrap()
        .query_row(
            "SELECT caller_text FROM turns WHERE call_id = ?1 ORDER BY turn_index LIMIT 1",
            [first_call],
            |row| row.get(0),
        )
        .unwrap();
    assert!(!asked.trim().is_empty());
    assert!(
        page.body.contains("name=\"question\" value=\""),
        "{}",
        page.body
    );
    assert!(page.body.contains(&asked), "{}", page.body);
    let answer = "我们每天上午十点开门，晚上九点关门。";
    let form = [
        ("topic", "opening_hours"),
        ("lang", "zh"),
        ("question", asked.as_str()),
        (
            "alternatives",
            "你们每天几点开门，几点关门？\n几点开门\n几点关门",
        ),
        ("answer", answer),
    ];
    let forged = browser
        .post("/review/unanswered/faq", &supervisor, &form)
        .await;
    assert_eq!(
        forged.status,
        StatusCode::FORBIDDEN,
        "no CSRF token: {}",
        forged.body
    );
    let csrf = page.csrf();
    let mut with_token = form.to_vec();
    with_token.push(("csrf", &csrf));
    let added = browser
        .post("/review/unanswered/faq", &supervisor, &with_token)
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    assert_eq!(
        added.location.as_deref(),
        Some("/review/unanswered?added=opening_hours")
    );
    let written = std::fs::read_to_string(&faq).unwrap();
    assert!(
        written.contains("opening_hours") && written.contains(answer),
        "{written}"
    );
    assert!(
        written.contains("invoice") && written.contains("warranty"),
        "{written}"
    );
    let audited: (String, String) = rusqlite::Connection::open(&database)
        .unwrap()
        .query_row(
            "SELECT actor, detail FROM audit_log WHERE action = 'faq_edit'",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(audited.0, "sue");
    assert!(audited.1.contains("opening_hours"), "{}", audited.1);

    ask("MZafter").await;
    let (second_call, faqs) = ended_call_faqs(&database, first_call).await;
    assert!(second_call > first_call);
    assert!(
        faqs.iter().any(|f| f.as_deref() == Some("opening_hours")),
        "answered from the new entry: {faqs:?}"
    );
}
