//! No dead air when a part fails: each fault is injected into the simulated call (Whisper
//! erring or hanging, the dialogue engine answering nothing or never, the voice erring or
//! hanging). A failure reported by the part gets the apology within 2 s of the end of the
//! caller's turn; a part that hangs gets the holding phrase within 2 s, again after each
//! stretch of quiet, and the apology at the hard deadline, so the caller never sits through
//! more than 2 s of silence. A part that is only slow gets the holding phrase and then the
//! real answer. The call goes on, and a second fault in a row hands the caller to a human.

use super::phone_line::{Fault, PhoneLine, Request};
use crate::call::{
    CallEvent, FaultKind, Millis, SessionConfig, SessionInput, TurnOutcome, WaitingFor,
};
use crate::dialogue::{ReplyEvent, TransferReason};

/// The caller's budget: end of turn → the apology's first frame.
const WITHIN_MS: u64 = 2000;

fn apology() -> String {
    SessionConfig::default().faults.apology.zh
}

fn holding() -> String {
    SessionConfig::default().faults.holding.zh
}

/// The hard deadline: end of turn → the apology for a part that hangs.
fn give_up_after() -> u64 {
    SessionConfig::default().faults.give_up_after_ms
}

/// The longest stretch without sound the bot played from `from` until `to`.
fn longest_quiet(line: &PhoneLine, from: Millis, to: Millis) -> u64 {
    let mut longest = 0;
    let mut quiet_since = from;
    for (at, frame) in line.played.iter().filter(|(at, _)| *at >= from && *at < to) {
        if frame.rms() > 0.0 {
            longest = longest.max(at.since(quiet_since));
            quiet_since = at.plus(20);
        }
    }
    longest.max(to.since(quiet_since))
}

/// A hanging part: the holding phrase within 2 s of the end of turn, no silence over 2 s,
/// then the apology at the hard deadline (once), and the call goes on.
fn assert_held_then_apologised(line: &PhoneLine, kind: FaultKind) {
    let heard = line.heard_at(&apology());
    assert_eq!(heard.len(), 1, "one apology: {:?}", line.events);
    let end_of_turn = end_of_turn_before(line, heard[0]);
    let wait = heard[0].since(end_of_turn);
    assert!(
        wait >= give_up_after(),
        "apology {wait} ms after the end of turn, before the hard deadline"
    );
    assert!(
        wait <= give_up_after() + 1500,
        "apology {wait} ms after the end of turn"
    );
    let holds = line.heard_at(&holding());
    assert!(holds.len() >= 2, "holding phrases: {holds:?}");
    assert!(
        holds[0].since(end_of_turn) <= WITHIN_MS,
        "the first holding phrase {} ms after the end of turn",
        holds[0].since(end_of_turn)
    );
    let quiet = longest_quiet(line, end_of_turn, heard[0]);
    assert!(
        quiet <= WITHIN_MS,
        "{quiet} ms of silence before the apology"
    );
    assert_eq!(faults(line), vec![kind]);
    assert_eq!(hang_ups(line), 0, "the call is not dropped");
    assert_eq!(transfers(line), 0);
    assert!(!line.session.is_finished());
}

/// A slow part: the holding phrase within 2 s of the end of turn, then the real answer, no
/// apology, no fault.
fn assert_held_then_answered(line: &PhoneLine) {
    let answer = line.heard_at("我们周末正常营业。");
    assert_eq!(answer.len(), 1, "the answer: {:?}", line.events);
    let end_of_turn = end_of_turn_before(line, answer[0]);
    let holds = line.heard_at(&holding());
    assert!(!holds.is_empty(), "no holding phrase: {:?}", line.events);
    assert!(holds[0].since(end_of_turn) <= WITHIN_MS);
    assert!(holds[0] < answer[0]);
    let quiet = longest_quiet(line, end_of_turn, answer[0]);
    assert!(
        quiet <= WITHIN_MS,
        "{quiet} ms of silence before the answer"
    );
    assert!(line.heard_at(&apology()).is_empty());
    assert!(faults(line).is_empty(), "{:?}", faults(line));
    let records = line.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].outcome, TurnOutcome::Answered);
    // The turn's record is the answer's: its first audio is the answer, not the holding phrase.
    assert_eq!(records[0].first_audio_out, Some(answer[0]));
    assert_eq!(
        records[0].bot_text,
        "我们周末正常营业。营业时间是上午九点到晚上九点。"
    );
}

/// A call past its greeting, the caller asking one question at `start`.
fn asking(line: &mut PhoneLine) -> u64 {
    let start = line.finish_greeting().0 + 500;
    line.say(start, 1200, "我的订单到哪里了");
    start
}

/// The caller's last end of turn before `heard`.
fn end_of_turn_before(line: &PhoneLine, heard: Millis) -> Millis {
    line.ends_of_turn()
        .into_iter()
        .rev()
        .find(|at| *at <= heard)
        .expect("an end of turn before the bot spoke")
}

/// How long the caller waited from their end of turn for what started at `heard`.
fn waited(line: &PhoneLine, heard: Millis) -> u64 {
    heard.since(end_of_turn_before(line, heard))
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
fn a_hanging_whisper_decode_gets_holding_phrases_then_the_apology() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = asking(&mut line);
    line.asr_fault = Some(Fault::Hang);
    line.run_until(start + 12_000);
    assert_held_then_apologised(&line, FaultKind::AsrTimedOut);
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
fn a_dialogue_engine_that_never_answers_gets_holding_phrases_then_the_apology() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = asking(&mut line);
    line.dialogue_hangs = true;
    line.run_until(start + 12_000);
    assert_held_then_apologised(&line, FaultKind::DialogueTimedOut);
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
    let (apology, holding) = (apology(), holding());
    // The apology and the holding phrase are pinned at warm-up; every other sentence fails.
    line.voice_fault =
        Box::new(move |text| (text != apology && text != holding).then_some(Fault::Error));
    line.run_until(start + 6000);
    assert_apologised(&line, FaultKind::SpeechFailed);
}

#[test]
fn a_voice_that_hangs_on_the_answer_gets_holding_phrases_then_the_apology() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = asking(&mut line);
    let (apology, holding) = (apology(), holding());
    line.voice_fault =
        Box::new(move |text| (text != apology && text != holding).then_some(Fault::Hang));
    line.run_until(start + 12_000);
    assert_held_then_apologised(&line, FaultKind::SpeechTimedOut);
}

#[test]
fn a_slow_whisper_decode_gets_the_holding_phrase_then_the_answer() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = asking(&mut line);
    line.asr_final_ms = 3000;
    line.run_until(start + 10_000);
    assert_held_then_answered(&line);
    assert_eq!(
        line.count(|e| matches!(
            e,
            CallEvent::Holding {
                waiting_for: WaitingFor::Recogniser,
                ..
            }
        )),
        1
    );
}

#[test]
fn a_slow_dialogue_engine_gets_the_holding_phrase_then_the_answer() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = asking(&mut line);
    line.dialogue_first_ms = 3500;
    line.run_until(start + 10_000);
    assert_held_then_answered(&line);
}

#[test]
fn a_slow_voice_gets_the_holding_phrase_then_the_answer() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = asking(&mut line);
    line.tts_ms = 2600;
    line.run_until(start + 12_000);
    assert_held_then_answered(&line);
}

#[test]
fn a_very_slow_part_gets_several_holding_phrases_and_no_long_silence() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = asking(&mut line);
    line.asr_final_ms = 6500;
    line.run_until(start + 14_000);
    assert!(line.heard_at(&holding()).len() >= 2);
    assert_held_then_answered(&line);
}

#[test]
fn the_caller_talking_over_the_holding_phrase_stops_it() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = asking(&mut line);
    line.dialogue_first_ms = 4000;
    let mut t = start;
    while line.heard_at(&holding()).is_empty() && t < start + 6000 {
        t += 20;
        line.run_until(t);
    }
    let holds = line.heard_at(&holding());
    assert_eq!(holds.len(), 1, "{:?}", line.events);
    // The caller says something while "请稍等。" plays: it stops there.
    let cut_at = holds[0].0 + 100;
    line.say(cut_at, 800, "喂你好");
    line.run_until(cut_at + 200);
    assert!(
        line.requests
            .iter()
            .any(|r| matches!(r, Request::Flush(at) if at.0 >= cut_at && at.0 < cut_at + 200))
    );
    assert_eq!(line.audible_frames_from(Millis(cut_at + 60)), 0);
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
    line.run_until(start + 12_000);
    line.say(start + 12_000, 1200, "还是没有回答");
    line.run_until(start + 24_000);
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
    // The notice was said at the hard deadline of the second turn, the caller held until then.
    let notice = SessionConfig::default().flow.transfer_notice.zh;
    let heard = line.heard_at(&notice);
    assert_eq!(heard.len(), 1);
    let second_end = end_of_turn_before(&line, heard[0]);
    assert!(waited(&line, heard[0]) <= give_up_after() + 1500);
    assert!(longest_quiet(&line, second_end, heard[0]) <= WITHIN_MS);
    line.input(SessionInput::TransferResult { ok: true });
    assert!(line.session.is_finished());
    assert_eq!(hang_ups(&line), 0);
}

#[test]
fn an_unreachable_agent_after_faults_leaves_the_bot_on_the_line() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = asking(&mut line);
    line.dialogue_hangs = true;
    line.run_until(start + 12_000);
    line.say(start + 12_000, 1200, "还是没有回答");
    line.run_until(start + 24_000);
    assert_eq!(transfers(&line), 1);
    line.input(SessionInput::TransferResult { ok: false });
    let failed_at = line.now;
    line.run_until(start + 28_000);
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
    line.run_until(start + 12_000);
    line.dialogue_hangs = false;
    line.say(start + 12_000, 1200, "周末营业吗");
    line.run_until(start + 21_000);
    line.dialogue_hangs = true;
    line.say(start + 21_000, 1200, "那退货呢");
    line.run_until(start + 33_000);
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
