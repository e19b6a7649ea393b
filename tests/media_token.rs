//! `/media` with `[media] token` set: a stream without a token, or with a wrong one, is refused
//! (a wrong `?token=` with 401 before the upgrade; a missing or wrong
//! `customParameters.token` by closing the socket with the reason) and logged; the right token
//! in either place, any of the configured ones, gets a call.

mod support;

use std::time::Duration;

use support::doors_rig::{Doors, DoorsServer, refusal};
use support::media_caller::MediaCaller;

const FIRST: &str = "first-token-7f3a9c2e41d8b6";
const SECOND: &str = "second-token-0b5e8d1a7c94f2";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_streams_need_a_right_token_in_the_url_or_the_start_message() {
    let doors = Doors {
        max_calls: 4,
        drain_timeout_s: 5,
        tokens: vec![FIRST, SECOND],
        env: Vec::new(),
    };
    let server = tokio::task::spawn_blocking(move || DoorsServer::start(&doors))
        .await
        .unwrap();

    let wrong_query = MediaCaller::connect(
        &server.media_url(Some("first-token-7f3a9c2e41d8b7")),
        "MZwrongquery",
        "+85290000031",
        None,
    )
    .await;
    let error = wrong_query.err().expect("a wrong ?token= is refused");
    assert_eq!(
        refusal(&error).map(|(status, _)| status),
        Some(401),
        "{error:?}"
    );

    for (sid, token) in [
        ("MZnotoken", None),
        ("MZwrongparam", Some("not-the-token-at-all-000")),
    ] {
        let mut caller = MediaCaller::connect(&server.media_url(None), sid, "+85290000032", token)
            .await
            .expect("the upgrade itself is not refused: the token may come in start");
        let reason = caller
            .closed_by_server(Duration::from_secs(5))
            .await
            .unwrap_or_else(|| panic!("{sid}: the socket stayed open"));
        assert!(reason.contains("token"), "{sid}: close reason {reason:?}");
    }

    let mut by_query = MediaCaller::connect(
        &server.media_url(Some(FIRST)),
        "MZquery",
        "+85290000033",
        None,
    )
    .await
    .expect("the right ?token= is let in");
    assert!(
        by_query.hears_the_bot(Duration::from_secs(30)).await,
        "no greeting with ?token=\n{}",
        server.log_tail()
    );
    let mut by_parameter = MediaCaller::connect(
        &server.media_url(None),
        "MZparam",
        "+85290000034",
        Some(SECOND),
    )
    .await
    .expect("connected");
    assert!(
        by_parameter.hears_the_bot(Duration::from_secs(30)).await,
        "no greeting with customParameters.token\n{}",
        server.log_tail()
    );
    by_query.hang_up().await;
    by_parameter.hang_up().await;

    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    assert!(
        log.contains("/media refused: wrong ?token="),
        "{}",
        server.log_tail()
    );
    assert_eq!(
        log.matches("/media refused: no right token in the start message")
            .count(),
        2,
        "{}",
        server.log_tail()
    );
    assert!(
        !log.contains(FIRST) && !log.contains(SECOND),
        "a token was logged"
    );
}
