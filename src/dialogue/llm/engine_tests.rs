//! LLM engine tests against a local mock of an OpenAI-compatible server (canned SSE with the
//! quirks real servers show) and of a company API, plus the engine's own latency overhead.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::config::{LlmConfig, LlmFallback, ToolConfig, ToolMethod};
use super::engine::{LlmEngine, filler_sentence, transfer_sentence};
use crate::dialogue::action::{DialogueAction, TransferReason};
use crate::dialogue::engine::DialogueEngine;
use crate::dialogue::knowledge::engine::not_sure_sentence;
use crate::dialogue::knowledge::knowledge_base::KnowledgeBase;
use crate::dialogue::reply_event::ReplyEvent;
use crate::dialogue::request::{DialogueRequest, Turn};
use crate::dialogue::test_support::mock_http_server::{MockHttpServer, MockResponse, Step};
use crate::lang::Lang;

fn env(name: &str) -> Option<String> {
    match name {
        "TEST_LLM_KEY" => Some("sk-test-123".to_string()),
        "TEST_ERP_AUTH" => Some("Token erp-secret".to_string()),
        _ => None,
    }
}

fn config(base: &str) -> LlmConfig {
    LlmConfig {
        base_url: format!("{base}/v1"),
        model: "test-model".to_string(),
        api_key_env: "TEST_LLM_KEY".to_string(),
        first_token_timeout_ms: 2000,
        total_timeout_ms: 5000,
        ..LlmConfig::default()
    }
}

/// An engine over the demo FAQ that always asks the model (no question scores above 1.0
/// unless it is an FAQ question word for word; the tests ask none).
fn engine(config: &LlmConfig, tools: &[ToolConfig]) -> LlmEngine {
    engine_with_threshold(config, tools, 1.0)
}

fn engine_with_threshold(config: &LlmConfig, tools: &[ToolConfig], threshold: f32) -> LlmEngine {
    let kb = KnowledgeBase::demo().unwrap_or_else(|e| panic!("{e}"));
    LlmEngine::new(Arc::new(kb), threshold, config, tools, &env).unwrap_or_else(|e| panic!("{e}"))
}

fn data(value: serde_json::Value) -> Step {
    Step::Write(format!("data: {value}\n\n"))
}

fn content(text: &str) -> Step {
    data(json!({"choices": [{"index": 0, "delta": {"content": text}}]}))
}

fn done() -> Step {
    Step::Write("data: [DONE]\n\n".to_string())
}

fn sentences(events: &[ReplyEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            ReplyEvent::Sentence { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_confident_faq_match_is_answered_without_the_model() {
    let llm = MockHttpServer::start(vec![]).await;
    let events = engine_with_threshold(
        &config(&llm.base),
        &[],
        crate::dialogue::knowledge::engine::DEFAULT_FAQ_THRESHOLD,
    )
    .respond(DialogueRequest::new(
        "How long is the warranty on a phone?",
        Lang::En,
    ))
    .collect()
    .await;
    assert!(matches!(&events[0], ReplyEvent::Matched { faq_id, .. } if faq_id == "warranty"));
    assert_eq!(llm.requests().len(), 0, "the model must not be asked");
}

#[tokio::test]
async fn streamed_answer_survives_the_quirks_and_is_spoken_sentence_by_sentence() {
    let llm = MockHttpServer::start(vec![MockResponse::sse(vec![
        Step::Write(": keep-alive\n\n".to_string()),
        data(json!({"id": "c1", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "", "reasoning_content": "用户想知道去门店"}}]})),
        Step::Write("\n\n: keep-alive\n\n".to_string()),
        Step::Write("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"我们在旺角**彌敦道**1号".to_string()),
        Step::Write("。\"}}]}\r\n\r\n".to_string()),
        content("<think>地铁还是巴士？</think>坐地铁最快，"),
        data(json!({"choices": [{"index": 0, "delta": {"content": "大约十分钟。"}, "finish_reason": "stop"}]})),
        data(json!({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 9}})),
        done(),
    ])])
    .await;
    let request = DialogueRequest::new("最快怎么去？", Lang::Zh).with_history(vec![
        Turn::caller("你们的门店在哪里？", Lang::Zh),
        Turn::bot("我们的门店在旺角。", Lang::Zh),
    ]);
    let events = engine(&config(&llm.base), &[])
        .respond(request)
        .collect()
        .await;
    assert_eq!(
        sentences(&events),
        ["我们在旺角彌敦道1号。", "坐地铁最快，大约十分钟。"]
    );
    assert!(
        events
            .iter()
            .all(|e| matches!(e, ReplyEvent::Sentence { lang: Lang::Zh, .. }))
    );

    let requests = llm.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/v1/chat/completions")
    );
    assert_eq!(sent.header("authorization"), Some("Bearer sk-test-123"));
    let body = sent.json();
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["stream"], true);
    assert!(body.get("tools").is_none());
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let roles: Vec<&str> = messages.iter().filter_map(|m| m["role"].as_str()).collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);
    assert_eq!(messages[1]["content"], "你们的门店在哪里？");
    assert_eq!(messages[3]["content"], "最快怎么去？");
    let system = messages[0]["content"].as_str().unwrap_or_default();
    assert!(
        system.contains("Simplified Chinese") && system.contains("[1] Q:"),
        "{system}"
    );
}

#[tokio::test]
async fn tool_calls_reach_the_company_api_and_the_answer_continues() {
    let erp = MockHttpServer::start(vec![MockResponse::json(
        200,
        r#"{"order_id":"20241122000123","status":"shipped","eta":"明天"}"#,
    )])
    .await;
    let llm = MockHttpServer::start(vec![
        MockResponse::sse(vec![
            content("好的"),
            // id and name only in the first delta; the arguments in fragments; no index later.
            data(json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_x", "type": "function", "function": {"name": "order_status", "arguments": ""}}]}}]})),
            Step::Write(": keep-alive\n\n".to_string()),
            data(json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"order_id\":"}}]}}]})),
            data(json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"function": {"arguments": "\"20241122000123\"}"}}]}}]})),
            data(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})),
            done(),
        ]),
        MockResponse::sse(vec![
            content("您的订单已发货，"),
            content("预计明天送达。"),
            done(),
        ]),
    ])
    .await;
    let tool = ToolConfig {
        name: "order_status".to_string(),
        description: "Look up an order's status by its order number".to_string(),
        parameters: json!(
            r#"{"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]}"#
        ),
        url: format!("{}/api/orders/{{order_id}}", erp.base),
        method: ToolMethod::Get,
        auth_header_env: "TEST_ERP_AUTH".to_string(),
        timeout_ms: 2000,
    };
    let events = engine(&config(&llm.base), &[tool])
        .respond(DialogueRequest::new("帮我查订单20241122000123", Lang::Zh))
        .collect()
        .await;
    assert_eq!(
        sentences(&events),
        ["好的", "您的订单已发货，预计明天送达。"]
    );

    let api = erp.requests();
    assert_eq!(api.len(), 1);
    assert_eq!(
        (api[0].method.as_str(), api[0].path.as_str()),
        ("GET", "/api/orders/20241122000123")
    );
    assert_eq!(api[0].header("authorization"), Some("Token erp-secret"));

    let rounds = llm.requests();
    assert_eq!(rounds.len(), 2);
    let first = rounds[0].json();
    assert_eq!(first["tools"][0]["function"]["name"], "order_status");
    assert_eq!(
        first["tools"][0]["function"]["parameters"]["required"][0],
        "order_id"
    );
    let second = rounds[1].json();
    let messages = second["messages"].as_array().cloned().unwrap_or_default();
    let assistant = &messages[messages.len() - 2];
    assert_eq!(assistant["role"], "assistant");
    assert_eq!(assistant["content"], "好的");
    assert_eq!(assistant["tool_calls"][0]["id"], "call_x");
    assert_eq!(
        assistant["tool_calls"][0]["function"]["arguments"],
        "{\"order_id\":\"20241122000123\"}"
    );
    let tool_result = &messages[messages.len() - 1];
    assert_eq!(tool_result["role"], "tool");
    assert_eq!(tool_result["tool_call_id"], "call_x");
    assert!(
        tool_result["content"]
            .as_str()
            .unwrap_or_default()
            .contains("shipped")
    );
}

#[tokio::test]
async fn a_slow_first_token_gets_one_filler_then_the_answer() {
    let llm = MockHttpServer::start(vec![MockResponse::sse(vec![
        Step::Pause(Duration::from_millis(500)),
        content("Our shop opens at ten. "),
        Step::Pause(Duration::from_millis(300)),
        content("See you then!"),
        done(),
    ])])
    .await;
    let config = LlmConfig {
        first_token_timeout_ms: 150,
        ..config(&llm.base)
    };
    let events = engine(&config, &[])
        .respond(DialogueRequest::new("Are you open on the moon?", Lang::En))
        .collect()
        .await;
    assert_eq!(
        sentences(&events),
        [
            filler_sentence(Lang::En),
            "Our shop opens at ten.",
            "See you then!"
        ]
    );
}

#[tokio::test]
async fn a_model_that_never_answers_falls_back_in_time() {
    for fallback in [LlmFallback::NotSure, LlmFallback::Transfer] {
        let llm = MockHttpServer::start(vec![MockResponse::sse(vec![
            Step::Write(": keep-alive\n\n".to_string()),
            Step::Pause(Duration::from_secs(3)),
            content("太迟了。"),
            done(),
        ])])
        .await;
        let config = LlmConfig {
            first_token_timeout_ms: 100,
            total_timeout_ms: 400,
            on_timeout: fallback,
            ..config(&llm.base)
        };
        let started = std::time::Instant::now();
        let events = engine(&config, &[])
            .respond(DialogueRequest::new("你哋有冇火星嘅分店？", Lang::Yue))
            .collect()
            .await;
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            events[0],
            ReplyEvent::sentence(filler_sentence(Lang::Yue), Lang::Yue)
        );
        match fallback {
            LlmFallback::NotSure => {
                assert!(
                    matches!(events[1], ReplyEvent::NoMatch { .. }),
                    "{events:?}"
                );
                assert_eq!(
                    events[2],
                    ReplyEvent::sentence(not_sure_sentence(Lang::Yue), Lang::Yue)
                );
            }
            LlmFallback::Transfer => {
                assert_eq!(
                    events[1],
                    ReplyEvent::sentence(transfer_sentence(Lang::Yue), Lang::Yue)
                );
                assert!(matches!(
                    &events[2],
                    ReplyEvent::Action(DialogueAction::Transfer { reason: TransferReason::EngineDecided(_), summary })
                        if summary.contains("火星")
                ));
            }
        }
        assert_eq!(events.len(), 3, "{events:?}");
    }
}

#[tokio::test]
async fn a_refused_request_falls_back_and_the_key_is_never_shown() {
    let llm = MockHttpServer::start(vec![MockResponse::json(
        401,
        r#"{"error":{"message":"bad key"}}"#,
    )])
    .await;
    let engine = engine(&config(&llm.base), &[]);
    assert!(!format!("{engine:?}").contains("sk-test-123"), "{engine:?}");
    let events = engine
        .respond(DialogueRequest::new(
            "Can I pay with bitcoin on Mars?",
            Lang::En,
        ))
        .collect()
        .await;
    assert_eq!(sentences(&events), [not_sure_sentence(Lang::En)]);
}

#[tokio::test]
async fn servers_without_streamed_tools_get_a_plain_request() {
    let erp = MockHttpServer::start(vec![MockResponse::json(200, r#"{"status":"packed"}"#)]).await;
    let llm = MockHttpServer::start(vec![
        MockResponse::json(200, r#"{"choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"c9","type":"function","function":{"name":"order_status","arguments":{"order_id":"A1"}}}]},"finish_reason":"tool_calls"}]}"#),
        MockResponse::json(200, r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"Your order is packed."},"finish_reason":"stop"}]}"#),
    ])
    .await;
    let tool = ToolConfig {
        name: "order_status".to_string(),
        description: "Order status".to_string(),
        url: format!("{}/orders", erp.base),
        method: ToolMethod::Post,
        ..ToolConfig::default()
    };
    let config = LlmConfig {
        stream_with_tools: false,
        ..config(&llm.base)
    };
    let events = engine(&config, &[tool])
        .respond(DialogueRequest::new(
            "Where is order A1 on Jupiter?",
            Lang::En,
        ))
        .collect()
        .await;
    assert_eq!(sentences(&events), ["Your order is packed."]);
    assert_eq!(llm.requests()[0].json()["stream"], false);
    let api = erp.requests();
    assert_eq!(
        (api[0].method.as_str(), api[0].json()["order_id"].as_str()),
        ("POST", Some("A1"))
    );
}

/// Our overhead between the server writing the first sentence and the Sentence event:
/// `cargo test --release -p hotline --lib llm_engine_tests::first_sentence_overhead -- --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_sentence_overhead_is_small() {
    const RUNS: usize = 20;
    let responses = (0..RUNS)
        .map(|_| {
            MockResponse::sse(vec![
                data(json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})),
                Step::Pause(Duration::from_millis(20)),
                content("您好，这是第一句话。"),
                Step::Mark,
                Step::Pause(Duration::from_millis(50)),
                content("这是第二句。"),
                done(),
            ])
        })
        .collect();
    let llm = MockHttpServer::start(responses).await;
    let engine = engine(&config(&llm.base), &[]);
    let mut overheads = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let mut stream = engine.respond(DialogueRequest::new("火星上有分店吗？", Lang::Zh));
        let first = stream.next().await;
        let received = tokio::time::Instant::now();
        assert!(
            matches!(first, Some(ReplyEvent::Sentence { ref text, .. }) if text == "您好，这是第一句话。"),
            "{first:?}"
        );
        let written = llm.next_mark().await.unwrap_or_else(|| panic!("no mark"));
        overheads.push(received.saturating_duration_since(written).as_secs_f64() * 1000.0);
        while stream.next().await.is_some() {}
    }
    overheads.sort_by(f64::total_cmp);
    let (median, p90, max) = (
        overheads[RUNS / 2],
        overheads[RUNS * 9 / 10],
        overheads[RUNS - 1],
    );
    println!(
        "first-sentence overhead over {RUNS} answers: median {median:.3} ms, p90 {p90:.3} ms, max {max:.3} ms"
    );
    assert!(
        median <= 30.0,
        "median overhead {median:.3} ms exceeds 30 ms"
    );
}
