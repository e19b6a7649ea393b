//! Locking people out with the command line: `hotline tokens list` (no secret printed),
//! `tokens revoke` by id, by user and by the token itself, `users list|disable|enable|remove`,
//! each change in the store's audit log under `cli:USER`. Then through a running
//! `hotline serve`: a revoked token is refused (401) at its next request, a disabled user's
//! other tokens and review session too, until enabled; a removed user's session ends.

mod support;

use std::path::Path;

use hotline::store::SqliteCallStore;
use support::free_port;
use support::review_session::{review_client, review_login};
use support::store_rig::{PASSWORD, add_user, env, start_server, token};

/// `hotline ARGS` with the test's store: (success, stdout, stderr).
fn hotline(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = support::hotline()
        .envs(env(dir))
        .env("USER", "tester")
        .args(args)
        .output()
        .expect("the hotline binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The ids of `tokens list --json`, with their user and whether revoked.
fn listed(dir: &Path) -> Vec<(i64, String, bool)> {
    let (ok, out, err) = hotline(dir, &["tokens", "list", "--json"]);
    assert!(ok, "tokens list --json: {err}");
    out.lines()
        .map(|line| {
            let token: serde_json::Value = serde_json::from_str(line).unwrap();
            (
                token["id"].as_i64().unwrap(),
                token["user"].as_str().unwrap().to_string(),
                !token["revoked_at"].is_null(),
            )
        })
        .collect()
}

#[test]
fn the_cli_lists_revokes_disables_and_removes_and_audits_each_change() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    add_user(dir, "ada", "admin");
    add_user(dir, "sam", "supervisor");
    let first = token(dir, "sam");
    let second = token(dir, "sam");
    let third = token(dir, "sam");
    let ada = token(dir, "ada");

    let (ok, table, _) = hotline(dir, &["tokens", "list"]);
    assert!(ok);
    for secret in [&first, &second, &third, &ada] {
        assert!(!table.contains(&secret[3..12]), "a secret listed:\n{table}");
    }
    assert!(table.contains("sam") && table.contains("ada"), "{table}");
    let tokens = listed(dir);
    assert_eq!(tokens.len(), 4);
    assert!(tokens.iter().all(|(_, _, revoked)| !revoked));

    // By id.
    let id = tokens[0].0.to_string();
    let (ok, out, _) = hotline(dir, &["tokens", "revoke", &id]);
    assert!(ok, "{out}");
    assert!(out.contains(&format!("revoked token(s) {id}")), "{out}");
    let (ok, out, _) = hotline(dir, &["tokens", "revoke", &id]);
    assert!(ok && out.contains("nothing to revoke"), "{out}");
    // By the token itself (as found in a leaked file).
    let (ok, out, _) = hotline(dir, &["tokens", "revoke", &second]);
    assert!(ok, "{out}");
    assert!(!out.contains(&second[3..]), "the token echoed: {out}");
    // By user: the rest of sam's.
    let (ok, out, _) = hotline(dir, &["tokens", "revoke", "sam"]);
    assert!(ok && out.contains(&tokens[2].0.to_string()), "{out}");
    let revoked: Vec<bool> = listed(dir).into_iter().map(|(_, _, r)| r).collect();
    assert_eq!(revoked, [true, true, true, false]);
    let (ok, table, _) = hotline(dir, &["tokens", "list"]);
    assert!(ok && table.contains("UTC"), "{table}");

    // Unknown targets: a clear error, non-zero exit.
    for (target, says) in [
        ("999", "no API token 999"),
        ("nobody", "no user \"nobody\""),
        (
            "hl_0000000000000000000000000000000000000000000000000000000000000000",
            "not one of this store's",
        ),
    ] {
        let (ok, _, err) = hotline(dir, &["tokens", "revoke", target]);
        assert!(!ok && err.contains(says), "{target}: {err}");
    }

    // Users: disable, enable, remove.
    let (ok, out, _) = hotline(dir, &["users", "disable", "sam"]);
    assert!(ok && out.contains("disabled"), "{out}");
    let (_, users, _) = hotline(dir, &["users", "list", "--json"]);
    let sam: serde_json::Value = serde_json::from_str(users.lines().nth(1).unwrap()).unwrap();
    assert_eq!(sam["name"], "sam");
    assert!(!sam["disabled_at"].is_null(), "{sam}");
    let (ok, _, err) = hotline(dir, &["tokens", "create", "sam"]);
    assert!(!ok && err.contains("users enable sam"), "{err}");
    let (ok, _, _) = hotline(dir, &["users", "enable", "sam"]);
    assert!(ok);
    let (ok, out, _) = hotline(dir, &["users", "remove", "sam"]);
    assert!(ok && out.contains("removed"), "{out}");
    let (_, users, _) = hotline(dir, &["users", "list"]);
    assert!(!users.contains("sam") && users.contains("ada"), "{users}");
    let (ok, _, err) = hotline(dir, &["users", "remove", "sam"]);
    assert!(!ok && err.contains("no user \"sam\""), "{err}");
    assert_eq!(listed(dir).len(), 1, "sam's tokens went with sam");

    // Every change audited, by whom, and the chain intact.
    let store = SqliteCallStore::open(&dir.join("calls.sqlite")).unwrap();
    let entries = store.audit_entries_without_call().unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "user_add",
            "user_add",
            "token_create",
            "token_create",
            "token_create",
            "token_create",
            "token_revoke",
            "token_revoke",
            "token_revoke",
            "user_disable",
            "user_enable",
            "user_remove"
        ]
    );
    // Added by the rig as whoever runs the tests; changed here as USER=tester.
    assert!(entries.iter().all(|e| e.actor.starts_with("cli:")));
    assert!(entries[6..].iter().all(|e| e.actor == "cli:tester"));
    for secret in [&first, &second, &third, &ada] {
        assert!(entries.iter().all(|e| !e.detail.contains(&secret[3..])));
    }
    assert_eq!(store.verify_audit_chain().unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_server_refuses_revoked_tokens_and_locked_out_users_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    add_user(dir, "sam", "supervisor");
    add_user(dir, "vic", "viewer");
    let revoked = token(dir, "sam");
    let kept = token(dir, "sam");
    let port = free_port();
    let _server = start_server(dir, port, false);
    let client = reqwest::Client::new();
    let calls = |token: String| {
        let request = client
            .get(format!("http://127.0.0.1:{port}/api/calls"))
            .bearer_auth(token);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(calls(revoked.clone()).await, 200);
    assert_eq!(calls(kept.clone()).await, 200);

    let (ok, _, err) = hotline(dir, &["tokens", "revoke", &revoked]);
    assert!(ok, "{err}");
    assert_eq!(
        calls(revoked.clone()).await,
        401,
        "revoked: refused at once"
    );
    assert_eq!(
        calls(kept.clone()).await,
        200,
        "the other token still works"
    );

    // A disabled user: their tokens and their review session are refused, until enabled.
    let session = review_login(port, "sam", PASSWORD).await;
    let review = review_client();
    let page = |cookie: String| {
        let request = review
            .get(format!("http://127.0.0.1:{port}/review"))
            .header("cookie", cookie);
        async move { request.send().await.unwrap() }
    };
    assert_eq!(page(session.clone()).await.status(), 200);
    let (ok, _, _) = hotline(dir, &["users", "disable", "sam"]);
    assert!(ok);
    assert_eq!(calls(kept.clone()).await, 401);
    let answer = page(session.clone()).await;
    assert_eq!(answer.status(), 303, "sent to the login page");
    assert_eq!(answer.headers()["location"], "/review/login");
    assert_eq!(page(session).await.status(), 303, "the session is gone");
    let (ok, _, _) = hotline(dir, &["users", "enable", "sam"]);
    assert!(ok);
    assert_eq!(calls(kept.clone()).await, 200, "enabled again");

    // A removed user: session ended, tokens gone.
    let session = review_login(port, "vic", PASSWORD).await;
    assert_eq!(page(session.clone()).await.status(), 200);
    let (ok, _, _) = hotline(dir, &["users", "remove", "vic"]);
    assert!(ok);
    assert_eq!(page(session).await.status(), 303);
    let (ok, _, _) = hotline(dir, &["users", "remove", "sam"]);
    assert!(ok);
    assert_eq!(calls(kept).await, 401);
}
