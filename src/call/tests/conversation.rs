//! Turn-taking: answering a question, the speculative final decode, and the end-of-turn rules
//! (questions, hesitation, digit dictation, maximum length).

use super::phone_line::{PhoneLine, Request};
use crate::call::{CallEvent, EndOfTurnCue, Millis, PartialPolicy, SessionConfig, TurnOutcome};
use crate::dialogue::Speaker;

fn finals(line: &PhoneLine) -> Vec<crate::call::RequestId> {
    line.requests
        .iter()
        .filter_map(|r| match r {
            Request::Transcribe {
                request_id,
                partial: false,
                ..
            } => Some(*request_id),
            _ => None,
        })
        .collect()
}

#[test]
fn a_question_is_answered_sentence_by_sentence_with_voice_to_voice_measured() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let greeting_end = line.finish_greeting().0;
    let start = greeting_end + 1000;
    line.say(start, 1500, "你们周末营业吗");
    line.run_until(start + 8000);

    let records = line.records();
    assert_eq!(records.len(), 1, "{:#?}", line.events);
    let record = &records[0];
    assert_eq!(record.caller_text, "你们周末营业吗");
    assert_eq!(record.outcome, TurnOutcome::Answered);
    assert_eq!(record.speech_end.0, start + 1500);
    // A complete question: the short hangover, and the speculative decode was already there.
    assert_eq!(record.end_of_turn_cue, EndOfTurnCue::Question);
    assert_eq!(record.end_of_turn_delay_ms(), 300);
    assert!(record.used_speculative);
    assert_eq!(record.asr_wait_ms(), 0);
    assert!(record.asr_final < record.end_of_turn);
    // 300 ms hangover + 200 ms dialogue + 100 ms TTS, first frame at the next tick.
    let voice_to_voice = record.voice_to_voice_ms().unwrap();
    assert!((600..=620).contains(&voice_to_voice), "{voice_to_voice} ms");
    assert_eq!(record.dialogue_first_sentence_ms(), Some(200));
    assert_eq!(
        record.bot_text,
        "我们周末正常营业。营业时间是上午九点到晚上九点。"
    );
    assert_eq!(record.bot_text_heard, record.bot_text);
    // 24 characters at 100 ms each, played back to back.
    let (start_out, end_out) = (
        record.bot_audio_start.unwrap(),
        record.bot_audio_end.unwrap(),
    );
    assert_eq!(end_out.since(start_out), 2400);

    // The second sentence was spoken while the first played, and followed it without a gap.
    let started: Vec<_> = line
        .events
        .iter()
        .filter_map(|e| match e {
            CallEvent::BotSentenceStarted {
                at, sentence_id, ..
            } => Some((*at, *sentence_id)),
            _ => None,
        })
        .collect();
    assert_eq!(started.len(), 3, "greeting and two answer sentences");
    assert_eq!(started[2].0.since(started[1].0), 900);

    let history = line.session.history();
    assert_eq!(history.len(), 3);
    assert_eq!(history[1].speaker, Speaker::Caller);
    assert_eq!(history[2].text, record.bot_text);
    // The dialogue engine saw the greeting as context, not the question itself.
    let asked = line.dialogue_requests();
    assert_eq!(asked[0].history.len(), 1);
    assert_eq!(asked[0].history[0].speaker, Speaker::Bot);
}

/// A caller who says `text` for `speech_ms`, then the VAD's release lag of `lag_ms`.
fn said_with_vad_lag(text: &str, speech_ms: u64, lag_ms: u64) -> (PhoneLine, u64) {
    let mut line = PhoneLine::new(SessionConfig::default());
    line.asr_final_ms = 100;
    let start = line.finish_greeting().0 + 1000;
    line.say(start, speech_ms, text);
    line.vad_lag(start + speech_ms, lag_ms);
    line.run_until(start + speech_ms + 5000);
    (line, start + speech_ms)
}

#[test]
fn a_complete_question_is_timed_from_the_fall_of_the_voice_not_the_vads_release() {
    // The VAD calls 140 ms of silence after the voice speech; the question's 300 ms wait
    // counts from where the voice fell away.
    let (line, voice_end) = said_with_vad_lag("你们周末营业吗", 1500, 140);
    let record = &line.records()[0];
    assert_eq!(record.end_of_turn_cue, EndOfTurnCue::Question);
    assert_eq!(record.speech_end.0, voice_end);
    assert_eq!(record.end_of_turn.0, voice_end + 300);
}

#[test]
fn a_turn_that_may_go_on_is_still_timed_from_the_vads_release() {
    // A plain statement may be a breath inside the turn: its 500 ms count from the VAD's
    // release, the more patient clock; the record still says where the voice ended.
    let (line, voice_end) = said_with_vad_lag("我想退货", 1000, 140);
    let record = &line.records()[0];
    assert_eq!(record.end_of_turn_cue, EndOfTurnCue::Plain);
    assert_eq!(record.speech_end.0, voice_end);
    assert_eq!(record.end_of_turn.0, voice_end + 140 + 500);
    assert_eq!(record.end_of_turn_delay_ms(), 640);
}

#[test]
fn the_voice_is_not_taken_to_end_long_before_the_vads_release() {
    // 400 ms the VAD calls speech at digital silence: a soft voice the level misses, perhaps.
    // The question is timed from at most 200 ms before the release.
    let (line, voice_end) = said_with_vad_lag("你们周末营业吗", 1500, 400);
    let record = &line.records()[0];
    assert_eq!(record.end_of_turn_cue, EndOfTurnCue::Question);
    assert_eq!(record.speech_end.0, voice_end + 200);
    assert_eq!(record.end_of_turn.0, voice_end + 200 + 300);
}

#[test]
fn the_words_are_decoded_when_the_voice_falls_not_when_the_vad_lets_go() {
    // A 200 ms decode asked for 100 ms after the voice fell is in 300 ms after it: the question
    // is answered at its 300 ms, not 200 ms after the VAD's release 140 ms after the fall.
    let mut line = PhoneLine::new(SessionConfig::default());
    line.asr_final_ms = 200;
    let start = line.finish_greeting().0 + 1000;
    line.say(start, 1500, "你们周末营业吗");
    line.vad_lag(start + 1500, 140);
    line.run_until(start + 6000);
    let voice_end = start + 1500;
    let record = &line.records()[0];
    assert_eq!(record.end_of_turn_cue, EndOfTurnCue::Question);
    assert!(record.used_speculative);
    assert_eq!(record.asr_final.0, voice_end + 100 + 200);
    assert_eq!(record.end_of_turn.0, voice_end + 300);
    assert_eq!(
        finals(&line).len(),
        1,
        "the VAD's release asks for no second decode"
    );
}

#[test]
fn a_dip_inside_the_speech_is_decoded_but_the_voice_coming_back_cancels_it() {
    // The voice falls for 120 ms between two phrases; the VAD bridges the gap. The decode asked
    // for at the dip is cancelled and its words ignored; the turn is the whole sentence.
    let mut line = PhoneLine::new(SessionConfig::default());
    line.deliver_cancelled = true;
    let start = line.finish_greeting().0 + 1000;
    line.say(start, 800, "我想查一下");
    line.vad_lag(start + 800, 120);
    line.say(start + 920, 800, "我的订单");
    line.vad_lag(start + 1720, 140);
    line.run_until(start + 6000);
    let finals = finals(&line);
    assert_eq!(finals.len(), 2, "{:#?}", line.requests);
    assert!(
        line.requests
            .iter()
            .any(|r| matches!(r, Request::CancelTranscribe(id) if *id == finals[0])),
        "the dip's decode is cancelled when the voice comes back"
    );
    let asked = line.dialogue_requests();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].transcript, "我想查一下我的订单");
}

#[test]
fn the_speculative_decode_is_cancelled_and_ignored_when_the_caller_goes_on() {
    let mut line = PhoneLine::new(SessionConfig::default());
    line.asr_final_ms = 300;
    line.deliver_cancelled = true;
    let start = line.finish_greeting().0 + 1000;
    line.say(start, 800, "我想查一下");
    line.say(start + 1000, 800, "我的订单");
    line.run_until(start + 6000);

    let finals = finals(&line);
    assert_eq!(finals.len(), 2, "one per pause");
    assert!(
        line.requests
            .iter()
            .any(|r| matches!(r, Request::CancelTranscribe(id) if *id == finals[0])),
        "the first pause's decode is cancelled when the caller resumes"
    );
    let asked = line.dialogue_requests();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].transcript, "我想查一下我的订单");
    let record = &line.records()[0];
    assert!(record.used_speculative);
    assert_eq!(record.end_of_turn_cue, EndOfTurnCue::Plain);
    assert_eq!(record.end_of_turn_delay_ms(), 500);
}

#[test]
fn a_slow_decode_is_waited_for_and_used_when_it_lands() {
    let mut line = PhoneLine::new(SessionConfig::default());
    line.asr_final_ms = 800;
    let start = line.finish_greeting().0 + 1000;
    line.say(start, 1000, "我想退货");
    line.run_until(start + 5000);
    let record = &line.records()[0];
    assert_eq!(record.end_of_turn_delay_ms(), 500);
    // Requested at the first silence frame, 800 ms later: 300 ms after the end of turn.
    assert_eq!(record.asr_wait_ms(), 320);
    assert_eq!(record.dialogue_asked, record.asr_final);
    assert_eq!(
        finals(&line).len(),
        1,
        "no second decode at the end of turn"
    );
}

fn dictation(config: SessionConfig) -> PhoneLine {
    let mut line = PhoneLine::new(config);
    let start = line.finish_greeting().0 + 1000;
    line.say(start, 1500, "我的电话是138");
    line.say(start + 2300, 800, "1234");
    line.say(start + 3900, 800, "5678");
    line.run_until(start + 10_000);
    line
}

#[test]
fn digit_dictation_is_not_cut_between_digit_groups() {
    let line = dictation(SessionConfig::default());
    let asked = line.dialogue_requests();
    assert_eq!(asked.len(), 1, "{asked:#?}");
    assert_eq!(asked[0].transcript, "我的电话是138 1234 5678");
    let record = &line.records()[0];
    assert_eq!(record.end_of_turn_cue, EndOfTurnCue::Digits);
    assert_eq!(record.end_of_turn_delay_ms(), 2000);

    // Without the digits rule the same caller is cut after the first group.
    let mut config = SessionConfig::default();
    config.turn.digits_hangover_ms = config.turn.base_hangover_ms;
    let cut = dictation(config);
    assert_eq!(cut.dialogue_requests()[0].transcript, "我的电话是138");
}

/// No partials (a telephone call): only the decode at each pause reads the words.
fn without_partials() -> SessionConfig {
    let mut config = SessionConfig::default();
    config.turn.partials = PartialPolicy::Never;
    config
}

#[test]
fn without_partials_dictation_is_still_not_cut_between_digit_groups() {
    for asr_final_ms in [150, 800] {
        let mut line = PhoneLine::new(without_partials());
        line.asr_final_ms = asr_final_ms;
        let start = line.finish_greeting().0 + 1000;
        line.say(start, 1500, "我的电话是138");
        line.say(start + 2300, 800, "1234");
        line.say(start + 3900, 800, "5678");
        line.run_until(start + 10_000);
        let asked = line.dialogue_requests();
        assert_eq!(asked.len(), 1, "decode {asr_final_ms} ms: {asked:#?}");
        assert_eq!(asked[0].transcript, "我的电话是138 1234 5678");
        assert!(
            !line
                .requests
                .iter()
                .any(|r| matches!(r, Request::Transcribe { partial: true, .. })),
            "no partial decodes"
        );
        // A slow decode: the silence ended the turn first, the digits took it back.
        let withdrawn = line.count(|e| matches!(e, CallEvent::EndOfTurnWithdrawn { .. }));
        assert_eq!(
            withdrawn > 0,
            asr_final_ms > 500,
            "decode {asr_final_ms} ms"
        );
    }
}

#[test]
fn without_partials_a_hesitation_filler_still_extends_the_turn() {
    let mut line = PhoneLine::new(without_partials());
    line.asr_final_ms = 700;
    let start = line.finish_greeting().0 + 1000;
    line.say(start, 1400, "我想问一下那个");
    line.say(start + 2400, 1000, "退货政策");
    line.run_until(start + 7000);
    let asked = line.dialogue_requests();
    assert_eq!(asked.len(), 1, "{asked:#?}");
    assert_eq!(asked[0].transcript, "我想问一下那个退货政策");
}

#[test]
fn without_partials_a_question_is_answered_as_soon_as_its_words_are_in() {
    let mut line = PhoneLine::new(without_partials());
    let start = line.finish_greeting().0 + 1000;
    line.say(start, 2000, "我想问一下你们周末营业吗");
    line.run_until(start + 6000);
    let record = &line.records()[0];
    assert_eq!(record.end_of_turn_cue, EndOfTurnCue::Question);
    assert_eq!(record.end_of_turn_delay_ms(), 300);
    assert_eq!(
        line.requests
            .iter()
            .filter(|r| matches!(r, Request::Transcribe { .. }))
            .count(),
        1,
        "one decode for the whole turn"
    );
}

#[test]
fn a_statement_that_sounds_complete_is_answered_sooner_when_asked_to() {
    let mut config = without_partials();
    config.turn.acoustic.shorten_when_complete = true;
    let mut line = PhoneLine::new(config);
    line.complete_probability = Some(0.9);
    let start = line.finish_greeting().0 + 1000;
    line.say(start, 1000, "我想退货");
    line.run_until(start + 5000);
    let record = &line.records()[0];
    assert_eq!(record.end_of_turn_cue, EndOfTurnCue::SoundsComplete);
    assert_eq!(record.end_of_turn_delay_ms(), 200);
}

#[test]
fn a_statement_that_sounds_unfinished_waits_for_the_rest() {
    let run = |complete_probability| {
        let mut line = PhoneLine::new(without_partials());
        line.complete_probability = complete_probability;
        let start = line.finish_greeting().0 + 1000;
        line.say(start, 1200, "我上周买的耳机");
        line.say(start + 1900, 900, "好像坏了");
        line.run_until(start + 6000);
        line.dialogue_requests()
            .into_iter()
            .map(|r| r.transcript)
            .collect::<Vec<_>>()
    };
    // The voice left hanging: the 680 ms pause is waited out and both parts are one turn.
    assert_eq!(run(Some(0.05)), vec!["我上周买的耳机好像坏了".to_string()]);
    // Words alone: the pause ends the turn (the rest becomes a second question).
    assert_eq!(run(None)[0], "我上周买的耳机");
}

/// When the acoustic model was asked at each pause: (when, ms of audio it judged).
fn judgements(line: &PhoneLine) -> Vec<(Millis, u64)> {
    line.requests
        .iter()
        .filter_map(|r| match r {
            Request::JudgeEndOfTurn(at, audio_ms) => Some((*at, *audio_ms)),
            _ => None,
        })
        .collect()
}

#[test]
fn the_end_of_turn_model_runs_only_where_its_verdict_can_change_the_wait() {
    let run = |words: &str, asr_final_ms| {
        let mut line = PhoneLine::new(without_partials());
        line.complete_probability = Some(0.05);
        line.asr_final_ms = asr_final_ms;
        let start = line.finish_greeting().0 + 1000;
        line.say(start, 1500, words);
        line.run_until(start + 6000);
        (line, start)
    };
    // A question keeps its short wait whatever the sound says: the model is not run.
    let (question, _) = run("你们周末营业吗", 150);
    assert!(judgements(&question).is_empty());
    assert_eq!(question.records()[0].end_of_turn_delay_ms(), 300);
    // A plain statement: judged once the words are in.
    let (statement, _) = run("我上周买的耳机", 150);
    let asked = judgements(&statement);
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(
        statement.records()[0].end_of_turn_cue,
        EndOfTurnCue::SoundsUnfinished
    );
    // Words later than that: judged meanwhile (150 ms before the plain wait ends), on the same
    // audio, up to the pause and not the silence since (the model was trained on turns that
    // end where the speech ends).
    let (slow, _) = run("我上周买的耳机", 450);
    let slow_asked = judgements(&slow);
    assert_eq!(slow_asked.len(), 1, "{slow_asked:?}");
    assert!(slow_asked[0].0 > asked[0].0, "{slow_asked:?} vs {asked:?}");
    assert_eq!(slow_asked[0].1, asked[0].1, "the same audio judged");
    let (late_question, _) = run("你们周末营业吗", 700);
    assert_eq!(judgements(&late_question).len(), 1);
}

#[test]
fn digits_keep_their_long_wait_whatever_the_sound_says() {
    let mut line = PhoneLine::new(without_partials());
    line.complete_probability = Some(0.99);
    line.asr_final_ms = 400;
    let start = line.finish_greeting().0 + 1000;
    line.say(start, 1500, "我的电话是138");
    line.say(start + 2300, 800, "1234");
    line.run_until(start + 8000);
    let asked = line.dialogue_requests();
    assert_eq!(asked.len(), 1, "{asked:#?}");
    assert_eq!(asked[0].transcript, "我的电话是138 1234");
}

fn hesitant(config: SessionConfig) -> PhoneLine {
    let mut line = PhoneLine::new(config);
    let start = line.finish_greeting().0 + 1000;
    line.say(start, 1400, "我想问一下那个");
    line.say(start + 2400, 1000, "退货政策");
    line.run_until(start + 7000);
    line
}

#[test]
fn a_hesitation_filler_extends_the_turn() {
    let line = hesitant(SessionConfig::default());
    let asked = line.dialogue_requests();
    assert_eq!(asked.len(), 1, "{asked:#?}");
    assert_eq!(asked[0].transcript, "我想问一下那个退货政策");
    assert!(
        line.count(|e| matches!(
            e,
            CallEvent::EndOfTurn {
                cue: EndOfTurnCue::Hesitation,
                ..
            }
        )) == 0
    );

    let mut config = SessionConfig::default();
    config.turn.hesitation_hangover_ms = config.turn.base_hangover_ms;
    let cut = hesitant(config);
    assert_eq!(cut.dialogue_requests()[0].transcript, "我想问一下那个");
}

#[test]
fn the_maximum_utterance_length_forces_the_end_of_turn() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = line.finish_greeting().0 + 1000;
    line.say(start, 17_000, &"请帮我查一下订单".repeat(20));
    line.run_until(start + 19_000);
    let ends: Vec<_> = line
        .events
        .iter()
        .filter_map(|e| match e {
            CallEvent::EndOfTurn { at, cue, .. } => Some((*at, *cue)),
            _ => None,
        })
        .collect();
    assert_eq!(
        ends.len(),
        1,
        "the rest of the speech is not a second turn: {ends:?}"
    );
    assert_eq!(ends[0].1, EndOfTurnCue::MaxLength);
    let record = &line.records()[0];
    assert_eq!(record.end_of_turn.since(record.speech_start), 15_000);
    assert!(!record.used_speculative);
    assert_eq!(line.dialogue_requests().len(), 1);
}

#[test]
fn a_short_click_while_the_bot_is_idle_is_dropped_without_a_decode() {
    let mut line = PhoneLine::new(SessionConfig::default());
    let start = line.finish_greeting().0 + 1000;
    line.cough(start, 60);
    line.run_until(start + 2000);
    assert_eq!(finals(&line).len(), 0);
    assert_eq!(
        line.count(|e| matches!(e, CallEvent::UtteranceDropped { .. })),
        1
    );
    assert!(line.dialogue_requests().is_empty());
}

#[test]
fn skipped_partials_are_asked_for_again_and_the_final_still_comes() {
    let mut line = PhoneLine::new(SessionConfig::default());
    line.skip_partials = true;
    let start = line.finish_greeting().0 + 1000;
    line.say(start, 2000, "我想问一下你们周末营业吗");
    line.run_until(start + 6000);

    let partials = line
        .requests
        .iter()
        .filter(|r| matches!(r, Request::Transcribe { partial: true, .. }))
        .count();
    // One every partial_interval_ms (300) from partial_min_audio_ms (300) of a 2 s turn.
    assert!(partials >= 4, "{partials} partial requests");
    assert_eq!(line.dialogue_requests().len(), 1);
    assert_eq!(
        line.dialogue_requests()[0].transcript,
        "我想问一下你们周末营业吗"
    );
}
