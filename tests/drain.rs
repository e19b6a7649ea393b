//! SIGTERM drains the node: `/readyz` says 503 `draining` at once, new calls are refused on
//! `/media` and SIP, the running call goes on, and the process exits 0 when it ends, or at
//! `[server] drain_timeout_s` when it does not.

mod support;

use std::time::{Duration, Instant};

use support::doors_rig::{Doors, DoorsServer, refusal};
use support::media_caller::MediaCaller;

async fn start(drain_timeout_s: u64) -> DoorsServer {
    let doors = Doors {
        max_calls: 4,
        drain_timeout_s,
        tokens: Vec::new(),
        env: Vec::new(),
    };
    tokio::task::spawn_blocking(move || DoorsServer::start(&doors))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_refuses_new_calls_and_exits_0_when_the_last_call_ends() {
    let mut server = start(120).await;
    let mut call = MediaCaller::connect(&server.media_url(None), "MZdrain", "+85290000011", None)
        .await
        .expect("a call before the stop");
    assert!(
        call.hears_the_bot(Duration::from_secs(30)).await,
        "no greeting"
    );

    server.sigterm();
    assert!(
        server.readyz_becomes("draining", Duration::from_secs(5)),
        "/readyz: {}\n{}",
        server.readyz().1,
        server.log_tail()
    );
    assert_eq!(server.readyz().0, 503);
    let refused =
        MediaCaller::connect(&server.media_url(None), "MZlate", "+85290000012", None).await;
    let error = refused.err().expect("no new call while draining");
    assert_eq!(
        refusal(&error).map(|(status, _)| status),
        Some(503),
        "{error:?}"
    );
    assert_eq!(server.options_status().await, Some(503), "draining");
    assert_eq!(server.metric("hotline_draining"), Some(1.0));

    assert!(
        call.still_streaming(Duration::from_secs(2)).await,
        "the running call was cut"
    );
    assert!(
        server.exited_within(Duration::ZERO).is_none(),
        "exited with a call running"
    );
    call.hang_up().await;
    let status = tokio::task::spawn_blocking(move || {
        let status = server.exited_within(Duration::from_secs(20));
        (status, server.log_tail())
    })
    .await
    .unwrap();
    let (status, log) = status;
    let status = status.unwrap_or_else(|| panic!("still running 20 s after the last call\n{log}"));
    assert!(status.success(), "exit: {status}\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_exits_0_at_the_drain_timeout_with_a_call_still_running() {
    let mut server = start(3).await;
    let mut call = MediaCaller::connect(&server.media_url(None), "MZstay", "+85290000021", None)
        .await
        .expect("a call before the stop");
    assert!(
        call.hears_the_bot(Duration::from_secs(30)).await,
        "no greeting"
    );
    let stopped = Instant::now();
    server.sigterm();
    // The caller stays on the line while the node waits.
    let talking = tokio::spawn(async move {
        call.keep_talking(Duration::from_secs(30)).await;
    });
    let (status, log) = tokio::task::spawn_blocking(move || {
        let status = server.exited_within(Duration::from_secs(20));
        (status, server.log_tail())
    })
    .await
    .unwrap();
    let waited = stopped.elapsed();
    let status = status.unwrap_or_else(|| panic!("still running 20 s after SIGTERM\n{log}"));
    assert!(status.success(), "exit: {status}\n{log}");
    assert!(
        waited >= Duration::from_millis(2900),
        "exited after {waited:?}, before the 3 s drain timeout\n{log}"
    );
    assert!(log.contains("drain timeout reached"), "{log}");
    talking.abort();
}
