//! The satisfaction survey: asked when a caller the bot answered from the FAQ says they are
//! done; answered by a key or a spoken number; skipped on silence; never asked when the bot
//! answered nothing; a reply that is not a rating goes back to the conversation.

use super::phone_line::{PhoneLine, Request};
use crate::call::{CallEvent, SessionConfig, SessionInput};
use crate::dialogue::{DialogueAction, ReplyEvent};

/// A dialogue engine that answers from the FAQ (when `faq` is true) and says goodbye and hangs
/// up when the caller says "没有了".
fn line(faq: bool) -> PhoneLine {
    let mut line = PhoneLine::new(SessionConfig::default());
    line.answer = Box::new(move |request| {
        if request.transcript.contains("没有了") {
            return vec![
                ReplyEvent::sentence("好的，再见。", request.lang),
                ReplyEvent::Action(DialogueAction::HangUp),
            ];
        }
        let mut events = Vec::new();
        if faq {
            events.push(ReplyEvent::Matched {
                faq_id: "opening_hours".into(),
                score: 0.9,
            });
        }
        events.push(ReplyEvent::sentence("我们每天九点开门。", request.lang));
        events
    });
    line
}

/// Greeting, one question answered, then "没有了": returns when the survey question (if any)
/// has been played.
fn ask_then_end(line: &mut PhoneLine) -> u64 {
    let start = line.finish_greeting().0 + 500;
    line.say(start, 1000, "你们几点开门");
    line.run_until(start + 5000);
    line.say(start + 5000, 800, "没有了");
    line.run_until(start + 16_000);
    start + 16_000
}

fn spoken(line: &PhoneLine) -> Vec<String> {
    line.requests
        .iter()
        .filter_map(|r| match r {
            Request::Speak(_, text) => Some(text.clone()),
            _ => None,
        })
        .collect()
}

fn ratings(line: &PhoneLine) -> Vec<Option<u8>> {
    line.events
        .iter()
        .filter_map(|e| match e {
            CallEvent::SurveyAnswered { rating, .. } => Some(*rating),
            _ => None,
        })
        .collect()
}

fn hang_ups(line: &PhoneLine) -> usize {
    line.requests
        .iter()
        .filter(|r| matches!(r, Request::HangUp(_)))
        .count()
}

#[test]
fn a_key_rates_the_call_then_the_bot_thanks_and_hangs_up() {
    let config = SessionConfig::default();
    let mut line = line(true);
    let t = ask_then_end(&mut line);
    assert_eq!(
        line.count(|e| matches!(e, CallEvent::SurveyAsked { .. })),
        1
    );
    assert!(spoken(&line).contains(&config.survey.question.zh));
    assert_eq!(hang_ups(&line), 0, "no hang-up before the rating");
    line.input(SessionInput::Dtmf('4'));
    line.run_until(t + 10_000);
    assert_eq!(ratings(&line), vec![Some(4)]);
    assert_eq!(spoken(&line).last(), Some(&config.survey.thanks.zh));
    assert_eq!(hang_ups(&line), 1);
    assert!(line.session.is_finished());
    // The key was a rating, not a transfer or a new turn.
    assert_eq!(line.dialogue_requests().len(), 2);
}

#[test]
fn a_spoken_number_rates_the_call() {
    let mut line = line(true);
    let t = ask_then_end(&mut line);
    line.say(t, 700, "五分");
    line.run_until(t + 10_000);
    assert_eq!(ratings(&line), vec![Some(5)]);
    assert_eq!(
        line.dialogue_requests().len(),
        2,
        "the rating is not a question"
    );
    assert_eq!(hang_ups(&line), 1);
}

#[test]
fn silence_after_the_question_ends_the_call_without_a_rating() {
    let config = SessionConfig::default();
    let mut line = line(true);
    let t = ask_then_end(&mut line);
    line.run_until(t + config.survey.timeout_ms + 5000);
    assert_eq!(ratings(&line), vec![None]);
    assert_eq!(hang_ups(&line), 1);
    assert_eq!(
        line.count(|e| matches!(e, CallEvent::RePrompt { .. })),
        0,
        "no re-prompt while the survey waits"
    );
}

#[test]
fn no_survey_when_the_bot_answered_nothing_from_the_faq() {
    let mut line = line(false);
    ask_then_end(&mut line);
    assert_eq!(
        line.count(|e| matches!(e, CallEvent::SurveyAsked { .. })),
        0
    );
    assert_eq!(hang_ups(&line), 1);
}

#[test]
fn no_survey_when_it_is_off() {
    let mut config = SessionConfig::default();
    config.survey.enabled = false;
    let mut line = line(true);
    line.session = crate::call::Session::new(config, crate::call::Millis::ZERO);
    line.requests.clear();
    line.events.clear();
    ask_then_end(&mut line);
    assert_eq!(
        line.count(|e| matches!(e, CallEvent::SurveyAsked { .. })),
        0
    );
    assert_eq!(hang_ups(&line), 1);
}

#[test]
fn words_that_are_not_a_rating_go_back_to_the_conversation() {
    let mut line = line(true);
    let t = ask_then_end(&mut line);
    line.say(t, 1200, "我还有一个问题");
    line.run_until(t + 6000);
    assert_eq!(ratings(&line), vec![None]);
    assert_eq!(
        line.dialogue_requests().len(),
        3,
        "the question is answered"
    );
    assert_eq!(hang_ups(&line), 0);
    // Saying goodbye again ends the call without a second survey.
    line.say(t + 6000, 800, "没有了");
    line.run_until(t + 14_000);
    assert_eq!(
        line.count(|e| matches!(e, CallEvent::SurveyAsked { .. })),
        1
    );
    assert_eq!(hang_ups(&line), 1);
}
