//! Call flow: the AI greeting, re-prompts and hanging up on silence, DTMF transfer, transfers
//! asked for by the dialogue engine, and coming back when a transfer fails.

use super::phone_line::{PhoneLine, Request};
use crate::call::{
    CallEvent, FalseBargeInReason, Millis, SessionConfig, SessionInput, TurnOutcome,
};
use crate::dialogue::{DialogueAction, ReplyEvent, TransferReason};

fn spoken(line: &PhoneLine) -> Vec<(Millis, String)> {
    line.requests
        .iter()
        .filter_map(|r| match r {
            Request::Speak(at, text) => Some((*at, text.clone())),
            _ => None,
        })
        .collect()
}

fn transfers(line: &PhoneLine) -> Vec<(Millis, TransferReason, String)> {
    line.requests
        .iter()
        .filter_map(|r| match r {
            Request::Transfer(at, reason, summary) => Some((*at, reason.clone(), summary.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn the_greeting_says_it_is_an_ai_and_cannot_be_talked_over() {
    let mut line = PhoneLine::new(SessionConfig::default());
    assert!(spoken(&line)[0].1.contains("人工智能"));
    assert_eq!(
        line.count(|e| matches!(e, CallEvent::GreetingStarted { .. })),
        1
    );
    line.say(1000, 800, "喂你好");
    let end = line.finish_greeting();
    let greeting = SessionConfig::default().flow.greeting.zh;
    // Every character played, at 100 ms each, after 100 ms of TTS.
    assert_eq!(end.0, 100 + greeting.chars().count() as u64 * 100);
    assert!(line.events.iter().any(|e| matches!(
        e,
        CallEvent::FalseBargeIn {
            reason: FalseBargeInReason::NotInterruptible,
            ..
        }
    )));
    assert!(line.dialogue_requests().is_empty());
}

#[test]
fn silence_brings_re_prompts_then_a_goodbye_and_a_hang_up() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let greeting_end = line.finish_greeting();
    line.run_until(greeting_end.0 + 60_000);

    let reprompts: Vec<_> = line
        .events
        .iter()
        .filter_map(|e| match e {
            CallEvent::RePrompt { at, count } => Some((*at, *count)),
            _ => None,
        })
        .collect();
    assert_eq!(reprompts.len(), 2);
    assert_eq!(reprompts[0], (greeting_end.plus(8000), 1));
    let texts = spoken(&line);
    assert_eq!(texts.len(), 4, "greeting, two re-prompts, goodbye");
    assert_eq!(texts[3].1, SessionConfig::default().flow.goodbye.zh);
    // The hang-up comes after the goodbye was played, not before.
    let hang_ups: Vec<_> = line
        .requests
        .iter()
        .filter_map(|r| match r {
            Request::HangUp(at) => Some(*at),
            _ => None,
        })
        .collect();
    assert_eq!(hang_ups.len(), 1);
    assert_eq!(Some(hang_ups[0].plus(20)), line.last_sentence_finished());
    assert!(line.session.is_finished());
}

#[test]
fn answering_a_re_prompt_resets_the_count() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let greeting_end = line.finish_greeting();
    line.run_until(greeting_end.0 + 12_000);
    line.say(line.now.0, 1000, "我想退货");
    line.run_until(greeting_end.0 + 60_000);
    assert_eq!(line.dialogue_requests().len(), 1);
    assert_eq!(
        line.count(|e| matches!(e, CallEvent::RePrompt { count: 1, .. })),
        2
    );
}

#[test]
fn dtmf_zero_stops_the_bot_and_transfers_with_a_summary() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = line.finish_greeting().0 + 500;
    line.say(start, 1000, "你们周末营业吗");
    line.run_until(start + 2500);
    line.input(SessionInput::Dtmf('0'));
    let pressed = line.now;
    assert!(
        line.requests
            .iter()
            .any(|r| matches!(r, Request::Flush(at) if *at == pressed))
    );
    line.input(SessionInput::Dtmf('0')); // pressed twice: one transfer
    line.run_until(start + 8000);

    let transfers = transfers(&line);
    assert_eq!(transfers.len(), 1);
    let (at, reason, summary) = &transfers[0];
    assert_eq!(*reason, TransferReason::CallerAsked);
    assert!(summary.contains("Caller: 你们周末营业吗"), "{summary}");
    // The notice was played to the end before the transfer.
    let notice = SessionConfig::default().flow.transfer_notice.zh;
    assert_eq!(spoken(&line).last().unwrap().1, notice);
    assert_eq!(Some(at.plus(20)), line.last_sentence_finished());
    assert_eq!(line.records()[0].outcome, TurnOutcome::Preempted);

    line.input(SessionInput::TransferResult { ok: true });
    assert!(line.session.is_finished());
    line.run_until(start + 10_000);
    assert_eq!(
        line.audible_frames_from(at.plus(40)),
        0,
        "the bot is out of the call"
    );
}

#[test]
fn a_failed_transfer_brings_the_bot_back() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let greeting_end = line.finish_greeting();
    line.input(SessionInput::Dtmf('0'));
    line.run_until(greeting_end.0 + 3000);
    assert_eq!(transfers(&line).len(), 1);
    line.input(SessionInput::TransferResult { ok: false });
    assert_eq!(
        line.count(|e| matches!(e, CallEvent::TransferFailed { .. })),
        1
    );
    assert_eq!(
        spoken(&line).last().unwrap().1,
        SessionConfig::default().flow.transfer_failed.zh
    );
    let start = line.now.0 + 6000;
    line.say(start, 1000, "你们周末营业吗");
    line.run_until(start + 5000);
    assert_eq!(line.dialogue_requests().len(), 1, "the bot listens again");
    assert_eq!(line.records()[0].outcome, TurnOutcome::Answered);
    assert!(!line.session.is_finished());
}

#[test]
fn a_transfer_from_the_dialogue_engine_follows_its_last_sentence() {
    let mut line = PhoneLine::new(SessionConfig::default());
    line.answer = Box::new(|request| {
        vec![
            ReplyEvent::sentence("好的，马上为您转接。", request.lang),
            ReplyEvent::Action(DialogueAction::Transfer {
                reason: TransferReason::CallerAsked,
                summary: "caller wants a human".into(),
            }),
        ]
    });
    let start = line.finish_greeting().0 + 500;
    line.say(start, 1000, "我要转人工");
    line.run_until(start + 5000);
    let transfers = transfers(&line);
    assert_eq!(transfers.len(), 1);
    assert_eq!(transfers[0].2, "caller wants a human");
    assert_eq!(Some(transfers[0].0.plus(20)), line.last_sentence_finished());
    let notice = SessionConfig::default().flow.transfer_notice.zh;
    assert!(
        spoken(&line).iter().all(|(_, text)| *text != notice),
        "no second notice"
    );
    assert_eq!(line.records()[0].outcome, TurnOutcome::Answered);
}

#[test]
fn a_caller_hang_up_cancels_work_in_flight() {
    let mut line = PhoneLine::new(SessionConfig::default());
    line.dialogue_first_ms = 1000;
    let start = line.finish_greeting().0 + 500;
    line.say(start, 1000, "你们周末营业吗");
    line.run_until(start + 1500);
    assert_eq!(line.dialogue_requests().len(), 1);
    line.input(SessionInput::HangUp);
    assert!(
        line.requests
            .iter()
            .any(|r| matches!(r, Request::CancelDialogue(_)))
    );
    line.run_until(start + 5000);
    assert!(line.session.is_finished());
    assert_eq!(line.audible_frames_from(Millis(start)), 0);
    assert_eq!(line.records()[0].outcome, TurnOutcome::CallEnded);
}
