//! Barge-in: real interruptions stop the bot within a tick and cut its history; backchannels,
//! coughs, the bot's own echo and speech inside the protection window do not.

use super::phone_line::{Echo, PhoneLine, Request};
use crate::call::{CallEvent, FalseBargeInReason, Millis, SessionConfig, TurnOutcome};
use crate::dialogue::{ReplyEvent, Speaker};
use crate::lang::Lang;

/// Greeting, then a question; returns the line when the answer's first frame has played.
fn answering(config: SessionConfig) -> (PhoneLine, Millis) {
    let mut line = PhoneLine::new(config);
    let start = line.finish_greeting().0 + 500;
    line.say(start, 1000, "你们周末营业吗");
    let sentences_before = line.count(|e| matches!(e, CallEvent::BotSentenceStarted { .. }));
    while line.count(|e| matches!(e, CallEvent::BotSentenceStarted { .. })) == sentences_before {
        assert!(line.now.0 < start + 5000, "the answer never started");
        line.run_until(line.now.0 + 20);
    }
    let started = line.now;
    (line, started)
}

/// As [`answering`], on a line that echoes the bot at -20 dB after 40 ms from the start.
fn answering_with_echo(config: SessionConfig) -> (PhoneLine, Millis) {
    let mut line = PhoneLine::new(config);
    line.echo = Some(Echo {
        gain: 0.1,
        delay_ms: 40,
    });
    let start = line.finish_greeting().0 + 500;
    line.say(start, 1000, "你们周末营业吗");
    while line.count(|e| matches!(e, CallEvent::BotSentenceStarted { .. })) < 2 {
        assert!(line.now.0 < start + 5000, "the answer never started");
        line.run_until(line.now.0 + 20);
    }
    let started = line.now;
    (line, started)
}

fn barge_ins(line: &PhoneLine) -> Vec<(Millis, Millis, Millis)> {
    line.events
        .iter()
        .filter_map(|e| match e {
            CallEvent::BargeIn {
                onset,
                decided_at,
                playback_stopped,
                ..
            } => Some((*onset, *decided_at, *playback_stopped)),
            _ => None,
        })
        .collect()
}

fn false_barge_ins(line: &PhoneLine) -> Vec<FalseBargeInReason> {
    line.events
        .iter()
        .filter_map(|e| match e {
            CallEvent::FalseBargeIn { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

/// The answer was played to the end and is in the history whole.
fn assert_answer_completed(line: &PhoneLine) {
    assert!(barge_ins(line).is_empty(), "{:#?}", line.events);
    let records = line.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].outcome, TurnOutcome::Answered);
    let last = line.session.history().last().unwrap();
    assert_eq!(last.speaker, Speaker::Bot);
    assert!(!last.interrupted);
    assert_eq!(
        last.text,
        "我们周末正常营业。营业时间是上午九点到晚上九点。"
    );
}

#[test]
fn a_real_interruption_stops_playback_within_a_tick_and_cuts_the_history() {
    let (mut line, answer_start) = answering(SessionConfig::default());
    let interrupt = answer_start.0 + 1000;
    line.say(interrupt, 1200, "等一下我想改地址");
    line.run_until(interrupt + 6000);

    let barge_ins = barge_ins(&line);
    assert_eq!(barge_ins.len(), 1);
    let (onset, _decided, stopped) = barge_ins[0];
    assert_eq!(onset.0, interrupt + 20, "the first speech frame");
    // Paused after 100 ms of speech: the 5th speech frame, silence from the next tick.
    assert!(
        stopped.since(onset) <= 100,
        "reaction {} ms",
        stopped.since(onset)
    );
    // Nothing of the answer is played after the stop.
    let next_reply = line
        .requests
        .iter()
        .filter_map(|r| match r {
            Request::AskDialogue(at, _) if *at > stopped => Some(*at),
            _ => None,
        })
        .next()
        .unwrap();
    assert_eq!(
        line.played
            .iter()
            .filter(|(at, f)| *at >= stopped && *at < next_reply && f.rms() > 0.0)
            .count(),
        0
    );
    assert!(line.requests.iter().any(|r| matches!(r, Request::Flush(_))));

    let records = line.records();
    let interrupted = &records[0];
    assert!(
        line.requests
            .iter()
            .any(|r| matches!(r, Request::CancelSpeech(turn) if *turn == interrupted.turn_id))
    );
    assert_eq!(interrupted.outcome, TurnOutcome::Interrupted);
    assert_eq!(
        interrupted.barge_in_reaction_ms(),
        Some(stopped.since(onset))
    );
    // Heard: the first sentence (9 characters, 900 ms) and the share of the second played.
    let played_ms = stopped.since(interrupted.bot_audio_start.unwrap());
    let second: String = "营业时间是上午九点到晚上九点。"
        .chars()
        .take(((played_ms - 900) as f64 / 100.0).round() as usize)
        .collect();
    let expected = format!("我们周末正常营业。{second}");
    assert_eq!(interrupted.bot_text_heard, expected);
    let cut_turn = line
        .session
        .history()
        .iter()
        .find(|t| t.interrupted)
        .expect("an interrupted bot turn");
    assert_eq!(cut_turn.text, expected);

    // The interruption became the next caller turn and was answered.
    assert_eq!(records.len(), 2, "{records:#?}");
    assert_eq!(records[1].caller_text, "等一下我想改地址");
    let asked = line.dialogue_requests();
    assert!(
        asked[1]
            .history
            .iter()
            .any(|t| t.interrupted && t.text == expected)
    );
}

#[test]
fn mandarin_and_cantonese_backchannels_do_not_interrupt() {
    for word in ["嗯", "係呀"] {
        let (mut line, answer_start) = answering(SessionConfig::default());
        line.say(answer_start.0 + 600, 300, word);
        line.run_until(answer_start.0 + 4000);
        assert_eq!(
            false_barge_ins(&line),
            [FalseBargeInReason::Backchannel(word.into())]
        );
        // Playback held while the word was checked, then went on.
        assert_eq!(
            line.count(|e| matches!(e, CallEvent::PlaybackPaused { .. })),
            1
        );
        assert_eq!(
            line.count(|e| matches!(e, CallEvent::PlaybackResumed { .. })),
            1
        );
        assert_answer_completed(&line);
    }
}

#[test]
fn an_english_mm_hmm_does_not_interrupt() {
    let config = SessionConfig {
        default_lang: Lang::En,
        ..SessionConfig::default()
    };
    let mut line = PhoneLine::new(config);
    line.answer = Box::new(|request| {
        vec![ReplyEvent::sentence(
            "We are open every day from nine to nine, including weekends.",
            request.lang,
        )]
    });
    line.ms_per_char = 60;
    let start = line.finish_greeting().0 + 500;
    line.say(start, 1200, "are you open on weekends");
    line.run_until(start + 3000);
    line.say(line.now.0, 400, "mm-hmm");
    line.run_until(start + 8000);
    assert_eq!(
        false_barge_ins(&line),
        [FalseBargeInReason::Backchannel("mm-hmm".into())]
    );
    assert!(barge_ins(&line).is_empty());
    assert_eq!(line.records()[0].outcome, TurnOutcome::Answered);
}

#[test]
fn a_short_interruption_with_real_words_is_a_barge_in() {
    let (mut line, answer_start) = answering(SessionConfig::default());
    line.say(answer_start.0 + 600, 400, "不是");
    line.run_until(answer_start.0 + 6000);
    assert_eq!(barge_ins(&line).len(), 1);
    assert_eq!(line.records()[1].caller_text, "不是");
}

#[test]
fn a_hum_transcribed_as_unsure_words_does_not_interrupt() {
    // Whisper hears a synthetic "嗯" as "我们" with a mean token probability of 0.02-0.16.
    let (mut line, answer_start) = answering(SessionConfig::default());
    line.say_unsure(answer_start.0 + 600, 300, "我们", 0.1);
    line.run_until(answer_start.0 + 4000);
    assert_eq!(
        false_barge_ins(&line),
        [FalseBargeInReason::LowConfidence("我们".into())]
    );
    assert_answer_completed(&line);
}

#[test]
fn a_hum_transcribed_as_more_words_than_it_could_hold_does_not_interrupt() {
    // 240 ms of "嗯" over the bot's echo came back as "的漫画,的" with confidence 0.72.
    let (mut line, answer_start) = answering(SessionConfig::default());
    line.say(answer_start.0 + 600, 240, "的漫画,的");
    line.run_until(answer_start.0 + 4000);
    assert_eq!(
        false_barge_ins(&line),
        [FalseBargeInReason::Implausible("的漫画,的".into())]
    );
    assert_answer_completed(&line);
}

#[test]
fn a_lone_syllable_hums_but_a_one_word_stop_interrupts() {
    // Whisper writes a Piper "Mm-hmm" as "M" and a synthetic 嗯 as "冰 冰 冰".
    for hum in ["M", "冰 冰 冰"] {
        let (mut line, answer_start) = answering(SessionConfig::default());
        line.say(answer_start.0 + 600, 300, hum);
        line.run_until(answer_start.0 + 4000);
        assert_eq!(
            false_barge_ins(&line),
            [FalseBargeInReason::Backchannel(hum.into())]
        );
        assert_answer_completed(&line);
    }
    let (mut line, answer_start) = answering(SessionConfig::default());
    line.say(answer_start.0 + 600, 300, "停");
    line.run_until(answer_start.0 + 4000);
    assert_eq!(barge_ins(&line).len(), 1);
}

#[test]
fn half_a_character_is_not_words() {
    let (mut line, answer_start) = answering(SessionConfig::default());
    line.say(answer_start.0 + 600, 300, "灵魂 \u{FFFD}");
    line.run_until(answer_start.0 + 4000);
    assert_eq!(
        false_barge_ins(&line),
        [FalseBargeInReason::LowConfidence("灵魂 \u{FFFD}".into())]
    );
    assert_answer_completed(&line);
}

#[test]
fn a_short_sure_interruption_is_a_barge_in_even_near_the_confidence_floor() {
    let (mut line, answer_start) = answering(SessionConfig::default());
    line.say_unsure(answer_start.0 + 600, 400, "等一下", 0.35);
    line.run_until(answer_start.0 + 6000);
    assert_eq!(barge_ins(&line).len(), 1);
    assert_eq!(line.records()[1].caller_text, "等一下");
}

#[test]
fn a_cough_shorter_than_the_minimum_speech_is_ignored() {
    let (mut line, answer_start) = answering(SessionConfig::default());
    line.cough(answer_start.0 + 800, 120);
    line.run_until(answer_start.0 + 4000);
    assert_eq!(false_barge_ins(&line), [FalseBargeInReason::TooShort]);
    assert_answer_completed(&line);
}

#[test]
fn the_bots_own_echo_at_minus_20_db_does_not_interrupt_it() {
    let mut config = SessionConfig::default();
    // Any ignored caller speech while the bot spoke would show as a false barge-in.
    config.barge_in.pause_after_ms = 20;
    let mut line = PhoneLine::new(config);
    line.echo = Some(Echo {
        gain: 0.1,
        delay_ms: 40,
    });
    let start = line.finish_greeting().0 + 500;
    line.say(start, 1000, "你们周末营业吗");
    line.run_until(start + 6000);
    assert_answer_completed(&line);
    assert_eq!(
        line.count(|e| matches!(e, CallEvent::PlaybackPaused { .. })),
        0
    );
    assert_eq!(
        line.count(|e| matches!(e, CallEvent::CallerSpeechStarted { .. })),
        1,
        "only the question is caller speech"
    );
    assert!(
        false_barge_ins(&line)
            .iter()
            .all(|r| *r == FalseBargeInReason::Echo)
    );
    assert!(
        !false_barge_ins(&line).is_empty(),
        "the VAD did fire on the echo"
    );
}

#[test]
fn caller_speech_on_top_of_the_echo_still_interrupts() {
    let (mut line, answer_start) = answering_with_echo(SessionConfig::default());
    let interrupt = answer_start.0 + 1000;
    line.say(interrupt, 1200, "等一下我想改地址");
    line.run_until(interrupt + 6000);
    let barge_ins = barge_ins(&line);
    assert_eq!(barge_ins.len(), 1, "{:#?}", false_barge_ins(&line));
    let (onset, _, stopped) = barge_ins[0];
    assert!(
        stopped.since(onset) <= 250,
        "reaction {} ms",
        stopped.since(onset)
    );
    assert_eq!(line.records()[1].caller_text, "等一下我想改地址");
}

/// Barge-in settings where only the protection window applies at the answer's start (no
/// caller resuming their question: see the resume-window tests).
fn protection_only() -> SessionConfig {
    let mut config = SessionConfig::default();
    config.barge_in.resume_window_ms = 0;
    config
}

#[test]
fn speech_inside_the_protection_window_does_not_interrupt() {
    let (mut line, answer_start) = answering(protection_only());
    line.say(answer_start.0, 240, "喂");
    line.run_until(answer_start.0 + 4000);
    assert_eq!(
        false_barge_ins(&line),
        [FalseBargeInReason::ProtectionWindow]
    );
    assert_answer_completed(&line);
}

#[test]
fn speech_that_starts_in_the_protection_window_and_goes_on_interrupts_after_it() {
    let (mut line, answer_start) = answering(protection_only());
    line.say(answer_start.0, 1200, "我不是问这个我想问退货");
    line.run_until(answer_start.0 + 4000);
    let barge_ins = barge_ins(&line);
    assert_eq!(barge_ins.len(), 1);
    // Counted from the window's end (a few frames later when a syllable trough of the caller
    // lines up with the bot's envelope and passes for echo).
    let onset = barge_ins[0].0;
    assert!(
        onset >= answer_start.plus(300) && onset <= answer_start.plus(400),
        "{onset}"
    );
}

#[test]
fn speech_while_the_bot_thinks_merges_into_one_turn() {
    let mut line = PhoneLine::new(SessionConfig::default());
    line.dialogue_first_ms = 1500;
    let start = line.finish_greeting().0 + 500;
    line.say(start, 1000, "我想查订单");
    // The caller goes on 700 ms later, after the end of turn but before any answer.
    line.say(start + 1700, 1200, "号码是幺三八");
    line.run_until(start + 10_000);

    let asked = line.dialogue_requests();
    assert_eq!(asked.len(), 2);
    assert_eq!(asked[0].transcript, "我想查订单");
    assert_eq!(asked[1].transcript, "我想查订单号码是幺三八");
    assert!(
        asked[1].history.iter().all(|t| t.speaker == Speaker::Bot),
        "the superseded question is not in the history twice"
    );
    let records = line.records();
    assert!(
        line.requests
            .iter()
            .any(|r| matches!(r, Request::CancelDialogue(turn) if *turn == records[0].turn_id))
    );
    let outcomes: Vec<_> = records.iter().map(|r| r.outcome).collect();
    assert_eq!(outcomes, [TurnOutcome::Superseded, TurnOutcome::Answered]);
    assert!(barge_ins(&line).is_empty(), "nothing was playing");
}

#[test]
fn a_caller_who_goes_on_as_the_answer_starts_stops_it_and_is_heard_whole() {
    // A question in two clauses with a pause that ends the turn ("几点开门，几点关门"): the
    // caller resumes just before the answer's audio starts, so the bot stops at once (no
    // protection window for speech that began first) and the two clauses are one question.
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = line.finish_greeting().0 + 500;
    line.say(start, 1000, "你们每天几点开门");
    let mut answer_start = None;
    while answer_start.is_none() {
        assert!(line.now.0 < start + 5000, "the answer never started");
        if line
            .requests
            .iter()
            .any(|r| matches!(r, Request::AskDialogue(..)))
        {
            answer_start = Some(line.now);
        }
        line.run_until(line.now.0 + 20);
    }
    let resumed_at = line.now.0;
    line.say(resumed_at, 900, "几点关门");
    line.run_until(resumed_at + 6000);

    // Audible bot audio after the caller went on, before the merged question was asked.
    let asked = line.dialogue_requests();
    assert_eq!(asked.len(), 2, "{:#?}", line.events);
    assert_eq!(asked[1].transcript, "你们每天几点开门几点关门");
    let second_ask = line
        .requests
        .iter()
        .filter_map(|r| match r {
            Request::AskDialogue(at, _) => Some(at.0),
            _ => None,
        })
        .nth(1)
        .unwrap();
    let talked_over_ms = line
        .played
        .iter()
        .filter(|(at, frame)| at.0 >= resumed_at && at.0 < second_ask && frame.dbfs() > -60.0)
        .count()
        * 20;
    assert!(
        talked_over_ms <= 200,
        "the bot talked over the caller for {talked_over_ms} ms"
    );
    let records = line.records();
    assert_ne!(records[0].outcome, TurnOutcome::Answered);
}

#[test]
fn a_caller_who_goes_on_just_after_the_answer_starts_is_finishing_the_question() {
    // The bench's "你们每天几点开门，几点关门": the caller resumed 60 ms after the answer's
    // audio began. Not shielded, not a barge-in of a speaking bot: one question.
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = line.finish_greeting().0 + 500;
    line.say(start, 1000, "你们每天几点开门");
    let before = line.count(|e| matches!(e, CallEvent::BotSentenceStarted { .. }));
    while line.count(|e| matches!(e, CallEvent::BotSentenceStarted { .. })) == before {
        assert!(line.now.0 < start + 5000, "the answer never started");
        line.run_until(line.now.0 + 20);
    }
    let resumed_at = line.now.0 + 60;
    line.run_until(resumed_at);
    line.say(resumed_at, 900, "几点关门");
    line.run_until(resumed_at + 6000);
    let asked = line.dialogue_requests();
    assert_eq!(asked.len(), 2, "{:#?}", line.events);
    assert_eq!(asked[1].transcript, "你们每天几点开门几点关门");
    let talked_over_ms = line
        .played
        .iter()
        .filter(|(at, frame)| at.0 >= resumed_at && at.0 < resumed_at + 900 && frame.dbfs() > -60.0)
        .count()
        * 20;
    assert!(
        talked_over_ms <= 200,
        "the bot talked over the caller for {talked_over_ms} ms"
    );
}

#[test]
fn a_typed_message_stops_the_answer_and_is_answered_like_speech() {
    let (mut line, started) = answering(SessionConfig::default());
    line.run_until(started.0 + 400);
    let at = line.now;
    line.input(crate::call::SessionInput::CallerText(
        "  How much is delivery?  ".into(),
    ));
    line.run_until(at.0 + 40);
    assert!(
        line.requests
            .iter()
            .any(|r| matches!(r, Request::Flush(t) if *t >= at)),
        "the answer kept playing"
    );
    let asked = line.dialogue_requests();
    assert_eq!(
        asked.last().map(|r| r.transcript.as_str()),
        Some("How much is delivery?")
    );
    assert!(line.events.iter().any(|e| matches!(
        e,
        CallEvent::CallerTyped { text, .. } if text == "How much is delivery?"
    )));
    let cut = line
        .records()
        .into_iter()
        .find(|r| r.caller_text == "你们周末营业吗")
        .expect("the first turn's record");
    assert_eq!(cut.outcome, TurnOutcome::Superseded);
    // Blank text is not a turn.
    let before = line.dialogue_requests().len();
    line.input(crate::call::SessionInput::CallerText("   ".into()));
    line.run_until(line.now.0 + 40);
    assert_eq!(line.dialogue_requests().len(), before);
}
