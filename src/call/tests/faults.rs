//! No dead air when a part fails: each fault is injected into the simulated call (Whisper
//! erring or hanging, the dialogue engine answering nothing or never, the voice erring or
//! hanging) and the caller must hear the apology within 2 s of the end of their turn, the
//! call must go on, and a second fault in a row must hand the caller to a human.

use super::phone_line::{Fault, PhoneLine, Request};
use crate::call::{CallEvent, FaultKind, Millis, SessionConfig, SessionInput, TurnOutcome};
use crate::dialogue::{ReplyEvent, TransferReason};

/// The caller's budget: end of turn → the apology's first frame.
const WITHIN_MS: u64 = 2000;

fn apology() -> String {
    SessionConfig::default().faults.apology.zh
}

/// A call past its greeting, the caller asking one question at `start`.
fn asking(line: &mut PhoneLine) -> u64 {
    let start = line.finish_greeting().0 + 500;
    line.say(start, 1200, "我的订单到哪里了");
    start
}

/// The end of turn before `heard` and how long the caller waited from it.
fn waited(line: &PhoneLine, heard: Millis) -> u64 {
    let end = line
        .ends_of_turn()
        .into_iter()
        .rev()
        .find(|at| *at <= heard)
        .expect("an end of turn before the apology");
    heard.since(end)
}

fn faults(line: &PhoneLine) -> Vec<FaultKind> {
    line.events
        .iter()
        .filter_map(|e| match e {
            CallEvent::Fault { kind, .. } => Some(*kind),
            _ => None,
        })
        .collect()
}

fn transfers(line: &PhoneLine) -> usize {
    line.requests
        .iter()
        .filter(|r| matches!(r, Request::Transfer(..)))
        .count()
}

fn hang_ups(line: &PhoneLine) -> usize {
    line.requests
        .iter()
        .filter(|r| matches!(r, Request::HangUp(..)))
        .count()
}

/// One faulted turn: the apology is heard in time, once, and the call goes on.
fn assert_apologised(line: &PhoneLine, kind: FaultKind) {
    let heard = line.heard_at(&apology());
    assert_eq!(heard.len(), 1, "one apology: {:?}", line.events);
    let wait = waited(line, heard[0]);
    assert!(wait <= WITHIN_MS, "apology {wait} ms after the end of turn");
    assert_eq!(faults(line), vec![kind]);
    assert_eq!(hang_ups(line), 0, "the call is not dropped");
    assert_eq!(transfers(line), 0);
    assert!(!line.session.is_finished());
}

#[test]
fn a_whisper_error_gets_the_apology() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = asking(&mut line);
    line.asr_fault = Some(Fault::Error);
    line.run_until(start + 6000);
    assert_apologised(&line, FaultKind::AsrFailed);
    assert!(line.dialogue_requests().is_empty());
}

#[test]
fn a_hanging_whisper_decode_gets_the_apology_at_the_turn_deadline() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = asking(&mut line);
    line.asr_fault = Some(Fault::Hang);
    line.run_until(start + 6000);
    assert_apologised(&line, FaultKind::AsrTimedOut);
    // The hanging decode was let go.
    assert!(
        line.requests
            .iter()
            .any(|r| matches!(r, Request::CancelTranscribe(_)))
    );
}

#[test]
fn an_answer_with_nothing_in_it_gets_the_apology() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = asking(&mut line);
    line.answer = Box::new(|_| Vec::new());
    line.run_until(start + 6000);
    assert_apologised(&line, FaultKind::DialogueEmpty);
    let failed = line.records();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].outcome, TurnOutcome::Failed);
    assert_eq!(failed[0].caller_text, "我的订单到哪里了");
}

#[test]
fn a_dialogue_engine_that_never_answers_gets_the_apology() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = asking(&mut line);
    line.dialogue_hangs = true;
    line.run_until(start + 6000);
    assert_apologised(&line, FaultKind::DialogueTimedOut);
    assert!(
        line.requests
            .iter()
            .any(|r| matches!(r, Request::CancelDialogue(_)))
    );
}

#[test]
fn a_voice_that_fails_on_the_answer_gets_the_apology() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = asking(&mut line);
    let apology = apology();
    // The apology is pinned at warm-up; every other sentence fails.
    line.voice_fault = Box::new(move |text| (text != apology).then_some(Fault::Error));
    line.run_until(start + 6000);
    assert_apologised(&line, FaultKind::SpeechFailed);
}

#[test]
fn a_voice_that_hangs_on_the_answer_gets_the_apology_at_the_turn_deadline() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = asking(&mut line);
    let apology = apology();
    line.voice_fault = Box::new(move |text| (text != apology).then_some(Fault::Hang));
    line.run_until(start + 6000);
    assert_apologised(&line, FaultKind::SpeechTimedOut);
}

#[test]
fn a_later_sentence_failing_is_skipped_and_the_answer_goes_on() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = asking(&mut line);
    line.voice_fault =
        Box::new(|text| (text == "营业时间是上午九点到晚上九点。").then_some(Fault::Error));
    line.run_until(start + 8000);
    assert_eq!(line.heard_at("我们周末正常营业。").len(), 1);
    assert!(line.heard_at(&apology()).is_empty());
    assert_eq!(faults(&line), vec![FaultKind::SpeechFailed]);
    assert_eq!(line.records()[0].outcome, TurnOutcome::Answered);
}

#[test]
fn a_second_fault_in_a_row_hands_the_caller_to_a_human() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = asking(&mut line);
    line.dialogue_hangs = true;
    line.run_until(start + 7000);
    line.say(start + 7000, 1200, "还是没有回答");
    line.run_until(start + 14_000);
    assert_eq!(line.heard_at(&apology()).len(), 1);
    let transfers: Vec<_> = line
        .requests
        .iter()
        .filter_map(|r| match r {
            Request::Transfer(at, reason, summary) => Some((*at, reason.clone(), summary.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(transfers.len(), 1, "{:?}", line.events);
    assert!(matches!(transfers[0].1, TransferReason::EngineDecided(_)));
    assert!(
        transfers[0].2.contains("我的订单到哪里了"),
        "{}",
        transfers[0].2
    );
    // The notice was said first, within 2 s of the second end of turn.
    let notice = SessionConfig::default().flow.transfer_notice.zh;
    let heard = line.heard_at(&notice);
    assert_eq!(heard.len(), 1);
    assert!(waited(&line, heard[0]) <= WITHIN_MS);
    line.input(SessionInput::TransferResult { ok: true });
    assert!(line.session.is_finished());
    assert_eq!(hang_ups(&line), 0);
}

#[test]
fn an_unreachable_agent_after_faults_leaves_the_bot_on_the_line() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = asking(&mut line);
    line.dialogue_hangs = true;
    line.run_until(start + 7000);
    line.say(start + 7000, 1200, "还是没有回答");
    line.run_until(start + 14_000);
    assert_eq!(transfers(&line), 1);
    line.input(SessionInput::TransferResult { ok: false });
    let failed_at = line.now;
    line.run_until(start + 18_000);
    let sorry = SessionConfig::default().flow.transfer_failed.zh;
    let heard = line.heard_at(&sorry);
    assert_eq!(heard.len(), 1);
    assert!(heard[0].since(failed_at) <= WITHIN_MS);
    assert!(!line.session.is_finished());
    assert_eq!(hang_ups(&line), 0);
}

#[test]
fn a_good_answer_between_faults_starts_the_count_again() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = asking(&mut line);
    line.dialogue_hangs = true;
    line.run_until(start + 7000);
    line.dialogue_hangs = false;
    line.say(start + 7000, 1200, "周末营业吗");
    line.run_until(start + 16_000);
    line.dialogue_hangs = true;
    line.say(start + 16_000, 1200, "那退货呢");
    line.run_until(start + 22_000);
    assert_eq!(line.heard_at(&apology()).len(), 2);
    assert_eq!(transfers(&line), 0);
}

#[test]
fn without_transfers_the_bot_keeps_apologising() {
    let mut config = SessionConfig::default();
    config.faults.transfer_after = 0;
    let mut line = PhoneLine::new(config);
    let start = asking(&mut line);
    line.asr_fault = Some(Fault::Error);
    for n in 1..3 {
        line.say(start + n * 7000, 1200, "喂");
    }
    line.run_until(start + 25_000);
    assert_eq!(line.heard_at(&apology()).len(), 3);
    assert_eq!(transfers(&line), 0);
    assert_eq!(hang_ups(&line), 0);
}

#[test]
fn a_voice_broken_for_everything_hands_over_without_a_notice() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = asking(&mut line);
    line.voice_fault = Box::new(|_| Some(Fault::Error));
    line.run_until(start + 6000);
    // The answer failed, then the apology: two faults, a transfer at once (hold audio).
    assert_eq!(transfers(&line), 1, "{:?}", line.events);
    assert!(line.heard_at(&apology()).is_empty());
    assert_eq!(hang_ups(&line), 0);
}

#[test]
fn a_hanging_decode_of_an_interruption_lets_the_bot_go_on() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = line.finish_greeting().0 + 500;
    line.answer = Box::new(|request| {
        vec![ReplyEvent::sentence(
            "我们的营业时间是每天上午九点到晚上九点，周末和节假日也正常营业。",
            request.lang,
        )]
    });
    line.say(start, 1200, "你们几点营业");
    line.run_until(start + 3500);
    // A short sound over the answer; Whisper never decides on it.
    line.asr_fault = Some(Fault::Hang);
    line.say(start + 3500, 400, "嗯对");
    line.run_until(start + 12_000);
    assert!(faults(&line).contains(&FaultKind::AsrTimedOut));
    assert!(line.count(|e| matches!(e, CallEvent::PlaybackResumed { .. })) >= 1);
    assert_eq!(line.records()[0].outcome, TurnOutcome::Answered);
    assert!(line.heard_at(&apology()).is_empty());
}
