//! The policy layer over the demo FAQ: transfers on request, distress and unresolved turns,
//! the reply language per turn, and relaying a streaming engine.

use std::sync::Arc;

use super::engine::{PolicyConfig, PolicyEngine};
use crate::dialogue::action::{DialogueAction, TransferReason};
use crate::dialogue::engine::DialogueEngine;
use crate::dialogue::knowledge::engine::{KnowledgeBaseEngine, not_sure_sentence};
use crate::dialogue::knowledge::knowledge_base::KnowledgeBase;
use crate::dialogue::reply_event::ReplyEvent;
use crate::dialogue::reply_stream::ReplyStream;
use crate::dialogue::request::{DialogueRequest, Turn};
use crate::lang::Lang;

fn faq() -> Arc<dyn DialogueEngine> {
    let kb = KnowledgeBase::demo().unwrap_or_else(|e| panic!("{e}"));
    Arc::new(KnowledgeBaseEngine::new(Arc::new(kb)))
}

fn policy(config: PolicyConfig) -> PolicyEngine {
    PolicyEngine::new(faq(), config).unwrap_or_else(|e| panic!("{e}"))
}

fn events(engine: &PolicyEngine, request: DialogueRequest) -> Vec<ReplyEvent> {
    let mut stream = engine.respond(request);
    let mut all = Vec::new();
    while let Ok(Some(event)) = stream.try_next() {
        all.push(event);
    }
    all
}

fn transfer_of(events: &[ReplyEvent]) -> Option<(TransferReason, String)> {
    events.iter().find_map(|e| match e {
        ReplyEvent::Action(DialogueAction::Transfer { reason, summary }) => {
            Some((reason.clone(), summary.clone()))
        }
        _ => None,
    })
}

fn spoken_lang(events: &[ReplyEvent]) -> Option<Lang> {
    events.iter().find_map(|e| match e {
        ReplyEvent::Sentence { lang, .. } => Some(*lang),
        _ => None,
    })
}

#[test]
fn explicit_request_transfers_with_a_handover_in_the_callers_language() {
    let engine = policy(PolicyConfig::default());
    // A neutral short turn after a Cantonese one is answered in Cantonese.
    let request = DialogueRequest::new("我要转人工", Lang::Zh).with_history(vec![
        Turn::caller("你哋幾點閂門？", Lang::Zh),
        Turn::bot("我哋門市每日朝早十點開到晚上十點。", Lang::Yue),
    ]);
    let out = events(&engine, request);
    let (reason, summary) = transfer_of(&out).unwrap_or_else(|| panic!("{out:?}"));
    assert_eq!(reason, TransferReason::CallerAsked);
    assert_eq!(spoken_lang(&out), Some(Lang::Yue));
    assert!(summary.contains("yue (Cantonese)"), "{summary}");
    assert!(summary.contains("你哋幾點閂門？"), "{summary}");
    assert!(
        !out.iter().any(|e| matches!(e, ReplyEvent::Matched { .. })),
        "{out:?}"
    );
}

#[test]
fn an_angry_caller_gets_a_priority_transfer() {
    let engine = policy(PolicyConfig::default());
    let out = events(
        &engine,
        DialogueRequest::new("你哋啲服務真係垃圾，我好嬲！", Lang::Yue),
    );
    let (reason, summary) = transfer_of(&out).unwrap_or_else(|| panic!("{out:?}"));
    assert_eq!(reason, TransferReason::Distress);
    assert!(summary.starts_with("[PRIORITY]"), "{summary}");
    assert!(summary.contains("emotion: angry"), "{summary}");
}

#[test]
fn the_second_negative_turn_transfers_not_the_first() {
    let engine = policy(PolicyConfig::default());
    let first = DialogueRequest::new("还没发货，有点失望", Lang::Zh);
    let out = events(&engine, first.clone());
    assert_eq!(transfer_of(&out), None, "{out:?}");
    let second = DialogueRequest::new("怎么这么慢", Lang::Zh).with_history(vec![
        Turn::caller(first.transcript.clone(), Lang::Zh),
        Turn::bot("现货订单一般在二十四小时内发货。", Lang::Zh),
    ]);
    let out = events(&engine, second);
    assert_eq!(
        transfer_of(&out).map(|t| t.0),
        Some(TransferReason::Distress),
        "{out:?}"
    );
}

#[test]
fn three_unanswered_turns_in_a_row_transfer() {
    let engine = policy(PolicyConfig::default());
    let questions = ["今天天气怎么样", "你们卖不卖二手车", "火星上有没有网络"];
    let mut history = Vec::new();
    for (n, question) in questions.iter().enumerate() {
        let request = DialogueRequest::new(*question, Lang::Zh).with_history(history.clone());
        let out = events(&engine, request);
        assert!(
            out.iter().any(|e| matches!(e, ReplyEvent::NoMatch { .. })),
            "{out:?}"
        );
        if n < 2 {
            assert_eq!(transfer_of(&out), None, "turn {n}: {out:?}");
        } else {
            let (reason, summary) = transfer_of(&out).unwrap_or_else(|| panic!("{out:?}"));
            assert_eq!(reason, TransferReason::Unresolved);
            assert!(summary.contains("3 turns in a row"), "{summary}");
            // The not-sure sentence is replaced by the handover.
            assert!(
                !out.iter().any(|e| matches!(e, ReplyEvent::Sentence { text, .. } if text == not_sure_sentence(Lang::Zh))),
                "{out:?}"
            );
        }
        history.push(Turn::caller(*question, Lang::Zh));
        history.push(Turn::bot(not_sure_sentence(Lang::Zh), Lang::Zh));
    }
}

#[test]
fn a_fresh_engine_reads_unresolved_turns_from_the_history() {
    // No ledger entries: the history's "not sure" replies tell the streak.
    let not_sure = Turn::bot(not_sure_sentence(Lang::Zh), Lang::Zh);
    let history = vec![
        Turn::caller("你们卖不卖二手车", Lang::Zh),
        not_sure.clone(),
        Turn::caller("有没有二手车卖", Lang::Zh),
        not_sure,
    ];
    let out = events(
        &policy(PolicyConfig::default()),
        DialogueRequest::new("火星上有没有网络", Lang::Zh).with_history(history.clone()),
    );
    assert_eq!(
        transfer_of(&out).map(|t| t.0),
        Some(TransferReason::Unresolved),
        "{out:?}"
    );
    // An answered turn in between breaks the streak.
    let mut answered = history;
    answered[3] = Turn::bot("订单满九十九元包邮。", Lang::Zh);
    let out = events(
        &policy(PolicyConfig::default()),
        DialogueRequest::new("火星上有没有网络", Lang::Zh).with_history(answered),
    );
    assert_eq!(transfer_of(&out), None, "{out:?}");
}

#[test]
fn repeating_a_question_counts_as_unresolved() {
    let engine = policy(PolicyConfig {
        unresolved_turns_before_transfer: 2,
        ..PolicyConfig::default()
    });
    let history = vec![
        Turn::caller("运费怎么算", Lang::Zh),
        Turn::bot("订单满九十九元包邮。", Lang::Zh),
    ];
    let out = events(
        &engine,
        DialogueRequest::new("運費怎麼算？", Lang::Zh).with_history(history.clone()),
    );
    // First ask resolved, this repeat unresolved: 1 < 2.
    assert_eq!(transfer_of(&out), None, "{out:?}");
    let mut longer = history;
    longer.push(Turn::caller("運費怎麼算？", Lang::Zh));
    longer.push(Turn::bot("订单满九十九元包邮。", Lang::Zh));
    let out = events(
        &engine,
        DialogueRequest::new("运费怎么算啊", Lang::Zh).with_history(longer),
    );
    assert_eq!(
        transfer_of(&out).map(|t| t.0),
        Some(TransferReason::Unresolved),
        "{out:?}"
    );
}

#[test]
fn reply_language_follows_the_turn() {
    let engine = policy(PolicyConfig::default());
    // ASR said Mandarin, the words are Cantonese: the answer is the Cantonese one.
    let out = events(&engine, DialogueRequest::new("你哋幾點閂門？", Lang::Zh));
    assert_eq!(spoken_lang(&out), Some(Lang::Yue), "{out:?}");
    let off = policy(PolicyConfig {
        detect_language: false,
        ..PolicyConfig::default()
    });
    let out = events(&off, DialogueRequest::new("你哋幾點閂門？", Lang::Zh));
    assert_eq!(spoken_lang(&out), Some(Lang::Zh), "{out:?}");
}

#[test]
fn switched_off_rules_do_not_transfer() {
    let engine = policy(PolicyConfig {
        transfer_on_request: false,
        transfer_when_angry: false,
        negative_turns_before_transfer: 0,
        unresolved_turns_before_transfer: 0,
        detect_language: true,
    });
    for text in ["转人工", "垃圾服务，气死我了"] {
        let out = events(&engine, DialogueRequest::new(text, Lang::Zh));
        assert_eq!(transfer_of(&out), None, "{text}: {out:?}");
    }
}

/// An engine that answers from a task, one sentence at a time.
struct Streaming;

impl DialogueEngine for Streaming {
    fn name(&self) -> &str {
        "streaming"
    }

    fn respond(&self, request: DialogueRequest) -> ReplyStream {
        let (sender, stream) = ReplyStream::channel(1);
        tokio::spawn(async move {
            for part in ["one.", "two."] {
                tokio::task::yield_now().await;
                if sender
                    .send(ReplyEvent::sentence(part, request.lang))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        });
        stream
    }
}

#[tokio::test]
async fn a_streaming_engine_is_relayed_in_order() {
    let engine = PolicyEngine::new(Arc::new(Streaming), PolicyConfig::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(engine.name(), "policy+streaming");
    let all = engine
        .respond(DialogueRequest::new("tell me a story", Lang::En))
        .collect()
        .await;
    assert_eq!(
        all,
        vec![
            ReplyEvent::sentence("one.", Lang::En),
            ReplyEvent::sentence("two.", Lang::En)
        ]
    );
}
