//! One node's lines are shared by every channel (`[server] max_calls`): with one line, a
//! `/media` call takes it; a second `/media` call is refused before the upgrade (503 +
//! `Retry-After`), `/readyz` says 503 `full`, SIP OPTIONS and INVITE get 503 + `Retry-After`,
//! a browser's offer gets 503 + `Retry-After`, a scanner gets no answer at all, a source sending
//! REGISTERs past its rate gets 503, and the first call goes on meanwhile; once it hangs up the
//! line is free again (`/readyz` 200, a new call is taken). `/metrics` counts it all.

mod support;

use std::time::Duration;

use support::doors_rig::{Doors, DoorsServer, refusal};
use support::media_caller::MediaCaller;
use support::sip_probe::{header, status_of, udp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_line_is_shared_by_media_and_sip_and_freed_when_the_call_ends() {
    let doors = Doors {
        max_calls: 1,
        drain_timeout_s: 30,
        tokens: Vec::new(),
        env: Vec::new(),
    };
    let server = tokio::task::spawn_blocking(move || DoorsServer::start(&doors))
        .await
        .unwrap();
    let (status, ready) = server.readyz();
    assert_eq!(
        (status, ready["max_calls"].as_u64()),
        (200, Some(1)),
        "{ready}"
    );

    let mut first = MediaCaller::connect(&server.media_url(None), "MZfirst", "+85290000001", None)
        .await
        .expect("the first call is taken");
    assert!(
        first.hears_the_bot(Duration::from_secs(30)).await,
        "no greeting on the first call\n{}",
        server.log_tail()
    );

    let (status, full) = server.readyz();
    assert_eq!(status, 503, "{full}");
    assert_eq!(full["status"], "full", "{full}");
    assert_eq!(full["active_calls"], 1, "{full}");

    let second =
        MediaCaller::connect(&server.media_url(None), "MZsecond", "+85290000002", None).await;
    let error = second.err().expect("the second call is refused");
    assert_eq!(
        refusal(&error),
        Some((503, Some("5".to_string()))),
        "{error:?}"
    );

    let sip = server.sip;
    let (options, invite, scanner) = tokio::task::spawn_blocking(move || {
        let wait = Duration::from_secs(3);
        (
            udp("OPTIONS", sip, None, wait),
            udp("INVITE", sip, None, wait),
            udp(
                "OPTIONS",
                sip,
                Some("friendly-scanner"),
                Duration::from_millis(700),
            ),
        )
    })
    .await
    .unwrap();
    for (what, reply) in [("OPTIONS", options), ("INVITE", invite)] {
        let reply = reply.unwrap_or_else(|| panic!("no answer to {what}"));
        assert_eq!(status_of(&reply), Some(503), "{what}: {reply}");
        assert_eq!(header(&reply, "Retry-After"), Some("5"), "{what}: {reply}");
    }
    assert_eq!(scanner, None, "a scanner was answered");

    // A browser meets the same full node (the offer is not even read).
    let (status, retry_after) = server.post_offer("v=0\r\n");
    assert_eq!((status, retry_after.as_deref()), (503, Some("5")));

    // The default rate limit (a burst of 20 out-of-dialog INVITE/REGISTER per source, 2 a
    // second after it): the INVITE above took a token (given back by now, or not quite),
    // REGISTERs are answered 405 until the burst is spent, then 503.
    let sip = server.sip;
    let statuses = tokio::task::spawn_blocking(move || {
        (0..25)
            .map(|_| udp("REGISTER", sip, None, Duration::from_secs(3)).and_then(|r| status_of(&r)))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    let allowed = statuses.iter().take_while(|s| **s == Some(405)).count();
    assert!((19..=20).contains(&allowed), "{statuses:?}");
    assert!(
        statuses[allowed..].iter().all(|s| *s == Some(503)),
        "{statuses:?}"
    );

    assert!(
        first.still_streaming(Duration::from_secs(2)).await,
        "the first call was disturbed"
    );
    assert_eq!(server.metric("hotline_calls_active"), Some(1.0));
    assert_eq!(server.metric("hotline_calls_limit"), Some(1.0));
    let refused = server
        .metric("hotline_calls_refused_total{reason=\"full\"}")
        .unwrap_or(0.0);
    assert!(refused >= 1.0, "/media refusal counted: {refused}");
    let scanners = server
        .metric("hotline_sip_requests_stopped_total{reason=\"scanner\"}")
        .unwrap_or(0.0);
    assert!(scanners >= 1.0, "scanner counted: {scanners}");

    first.hang_up().await;
    assert!(
        server.readyz_becomes("ready", Duration::from_secs(15)),
        "the line was not given back: {}\n{}",
        server.readyz().1,
        server.log_tail()
    );
    let mut third = MediaCaller::connect(&server.media_url(None), "MZthird", "+85290000003", None)
        .await
        .expect("a call is taken again once the line is free");
    assert!(
        third.hears_the_bot(Duration::from_secs(30)).await,
        "no greeting on the third call"
    );
    assert_eq!(server.options_status().await, Some(503), "full again");
    third.hang_up().await;
}
