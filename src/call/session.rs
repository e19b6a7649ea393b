//! `Session`: the sans-IO state machine of one call. The driver feeds it [`SessionInput`]s with
//! their call time and carries out the [`SessionOutput`]s it polls; the session never waits,
//! reads a clock or touches a socket, so whole conversations run in tests at full speed.
//!
//! This file holds the state, the input dispatch and the play-out clock; listening to the
//! caller is in `caller_turns.rs`, the call flow (dialogue, DTMF, transfer, hang-up) in
//! `call_flow.rs`.

use std::collections::VecDeque;
use std::sync::Arc;

use hotline_audio::{FRAME_MS, Frame};

use super::backchannel::BackchannelFilter;
use super::bot_reply::{BotReply, ReplyPurpose};
use super::call_event::{CallEvent, HangUpReason};
use super::clock::Millis;
use super::config::SessionConfig;
use super::echo_guard::EchoGuard;
use super::holding::HoldingPhrase;
use super::ids::{IdSource, TurnId};
use super::input::SessionInput;
use super::output::SessionOutput;
use super::survey::SurveyStage;
use super::turn::pre_roll::PreRoll;
use super::turn::speech_hysteresis::SpeechHysteresis;
use super::turn::utterance::Utterance;
use super::turn_record::{TurnOutcome, TurnRecord};
use crate::dialogue::{TransferReason, Turn};
use crate::lang::Lang;

/// Where the call as a whole stands.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Phase {
    /// The bot listens and answers.
    Active,
    /// A transfer was decided; the notice is being spoken.
    Transferring {
        reason: TransferReason,
        summary: String,
    },
    /// `Transfer` was emitted; waiting for its result.
    AwaitingTransfer,
    /// A human has the caller; the bot is out.
    Transferred,
    /// The goodbye is being spoken; `HangUp` follows.
    HangingUp,
    /// The call is over.
    Ended,
}

/// A barge-in whose playback stop happens at the next tick.
#[derive(Debug)]
pub(super) struct PendingStop {
    pub(super) turn_id: TurnId,
    pub(super) onset: Millis,
    pub(super) decided_at: Millis,
    pub(super) record: Option<TurnRecord>,
}

/// The conversation state machine of one call.
#[derive(Debug)]
pub struct Session {
    pub(super) config: SessionConfig,
    pub(super) outputs: VecDeque<SessionOutput>,
    pub(super) phase: Phase,
    /// The caller's language as last recognised.
    pub(super) lang: Lang,
    /// The conversation so far, as the dialogue engine sees it.
    pub(super) history: Vec<Turn>,
    pub(super) ids: IdSource,
    pub(super) vad: SpeechHysteresis,
    pub(super) pre_roll: PreRoll,
    /// The audio buffer of the last utterance, kept for its capacity.
    pub(super) spare_audio: Vec<i16>,
    pub(super) utterance: Option<Utterance>,
    /// Skip caller speech until the VAD reports silence (after a forced end of turn, or speech
    /// over something that cannot be interrupted).
    pub(super) ignore_until_silence: bool,
    pub(super) echo: EchoGuard,
    /// Start of the current VAD segment while it is only our echo (reported when it ends).
    pub(super) echo_segment: Option<Millis>,
    pub(super) backchannels: BackchannelFilter,
    pub(super) reply: Option<BotReply>,
    /// The transcript of a turn the caller went on speaking after (merged into the next one).
    pub(super) carry_over: Option<String>,
    pub(super) pending_stop: Option<PendingStop>,
    /// Last caller speech or end of bot speech (for re-prompts).
    pub(super) last_activity: Millis,
    pub(super) reprompts_in_row: u32,
    /// Caller turns answered from the FAQ (the call counts as resolved by the bot).
    pub(super) faq_answers: u32,
    pub(super) survey: SurveyStage,
    /// Caller turns in a row that ended in a fault (see `fault.rs`).
    pub(super) faults_in_row: u32,
    /// The holding phrase asked for or playing while a slow part is waited for (`holding.rs`).
    pub(super) holding: Option<HoldingPhrase>,
    /// When the last holding phrase stopped playing (the next one is due `hold_after_ms` later).
    pub(super) held_until: Millis,
}

impl Session {
    /// A new call at `now`: the greeting is sent to TTS at once.
    pub fn new(config: SessionConfig, now: Millis) -> Self {
        let mut session = Self {
            phase: Phase::Active,
            lang: config.default_lang,
            history: Vec::new(),
            ids: IdSource::default(),
            vad: SpeechHysteresis::new(&config.vad),
            pre_roll: PreRoll::new(config.vad.pre_roll_ms),
            spare_audio: Vec::new(),
            utterance: None,
            ignore_until_silence: false,
            echo: EchoGuard::new(&config.echo),
            echo_segment: None,
            backchannels: BackchannelFilter::new(&config.barge_in),
            reply: None,
            carry_over: None,
            pending_stop: None,
            last_activity: now,
            reprompts_in_row: 0,
            faq_answers: 0,
            survey: SurveyStage::NotAsked,
            faults_in_row: 0,
            holding: None,
            held_until: Millis(0),
            outputs: VecDeque::with_capacity(64),
            config,
        };
        let greeting = session.config.flow.greeting.get(session.lang).clone();
        if !greeting.trim().is_empty() {
            session.event(CallEvent::GreetingStarted {
                at: now,
                lang: session.lang,
            });
            let interruptible =
                session.config.barge_in.enabled && session.config.barge_in.greeting_interruptible;
            session.start_system_reply(ReplyPurpose::Greeting, greeting, interruptible);
        }
        session
    }

    /// Feed one input that happened at `now` (times must not go backwards).
    pub fn handle(&mut self, input: SessionInput, now: Millis) {
        match input {
            SessionInput::Tick => self.on_tick(now),
            SessionInput::CallerAudio { frame, speech_prob } => {
                self.on_caller_audio(&frame, speech_prob, now)
            }
            SessionInput::TranscriptReady {
                request_id,
                text,
                lang,
                confidence,
            } => self.on_transcript(request_id, text, lang, confidence, now),
            SessionInput::EndOfTurnJudged {
                request_id,
                complete_probability,
            } => self.on_end_of_turn_judged(request_id, complete_probability, now),
            SessionInput::TranscriptSkipped { request_id } => {
                self.on_transcript_skipped(request_id)
            }
            SessionInput::TranscriptFailed { request_id } => {
                self.on_transcript_failed(request_id, now)
            }
            SessionInput::DialogueReply { turn_id, event } => {
                self.on_dialogue_event(turn_id, event, now)
            }
            SessionInput::DialogueDone { turn_id } => self.on_dialogue_done(turn_id, now),
            SessionInput::SpeechReady {
                sentence_id,
                samples,
            } => {
                if !self.on_holding_audio(sentence_id, Arc::clone(&samples)) {
                    self.on_speech_ready(sentence_id, samples)
                }
            }
            SessionInput::SpeechFailed { sentence_id } => {
                if !self.on_holding_failed(sentence_id, now) {
                    self.on_speech_failed(sentence_id, now)
                }
            }
            SessionInput::Dtmf(digit) => self.on_dtmf(digit, now),
            SessionInput::CallerText(text) => self.on_caller_text(&text, now),
            SessionInput::HangUp => self.on_caller_hung_up(now),
            SessionInput::TransferResult { ok } => self.on_transfer_result(ok, now),
        }
    }

    /// The next thing for the driver to do, oldest first.
    pub fn poll_output(&mut self) -> Option<SessionOutput> {
        self.outputs.pop_front()
    }

    /// The conversation so far (bot turns cut at what the caller heard).
    pub fn history(&self) -> &[Turn] {
        &self.history
    }

    /// The caller's language as last recognised (the default language before the first turn).
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// True once the call is over for the bot (hung up, or handed to a human).
    pub fn is_finished(&self) -> bool {
        matches!(self.phase, Phase::Ended | Phase::Transferred)
    }

    pub(super) fn emit(&mut self, output: SessionOutput) {
        self.outputs.push_back(output);
    }

    pub(super) fn event(&mut self, event: CallEvent) {
        self.outputs.push_back(SessionOutput::Event(event));
    }

    /// The play-out clock: exactly one frame per tick.
    fn on_tick(&mut self, now: Millis) {
        if let Some(stop) = self.pending_stop.take() {
            self.report_barge_in(stop, now);
        }
        let frame = self.next_frame_to_play(now).unwrap_or_default();
        self.echo.record_played(now, frame.rms());
        self.emit(SessionOutput::PlayFrame(frame));
        if self.reply.as_ref().is_some_and(|r| r.is_complete()) {
            self.finish_reply(now.plus(u64::from(FRAME_MS)));
        }
        self.check_utterance(now);
        self.check_turn_deadline(now);
        self.check_silence(now);
    }

    fn next_frame_to_play(&mut self, now: Millis) -> Option<Frame> {
        if !matches!(
            self.phase,
            Phase::Active | Phase::Transferring { .. } | Phase::HangingUp
        ) {
            return None;
        }
        if let Some(frame) = self.next_holding_frame(now) {
            return Some(frame);
        }
        let audible_dbfs = self.config.audible_dbfs;
        let reply = self.reply.as_mut()?;
        if let Some(onset) = reply.paused {
            if reply.paused_at.is_none() {
                reply.paused_at = Some(now);
                self.event(CallEvent::PlaybackPaused { at: now, onset });
            }
            return None;
        }
        let played = reply.next_frame()?;
        let turn_id = reply.turn_id;
        reply.started_at.get_or_insert(now);
        if let Some(record) = reply.record.as_mut() {
            record.bot_audio_start.get_or_insert(now);
            if record.first_audio_out.is_none() && played.frame.dbfs() >= audible_dbfs {
                record.first_audio_out = Some(now);
            }
        }
        if let Some(sentence_id) = played.started {
            let text = reply.sentence_text(sentence_id).to_string();
            self.event(CallEvent::BotSentenceStarted {
                at: now,
                turn_id,
                sentence_id,
                text,
            });
        }
        if let Some(sentence_id) = played.finished {
            self.event(CallEvent::BotSentenceFinished {
                at: now.plus(u64::from(FRAME_MS)),
                turn_id,
                sentence_id,
            });
        }
        Some(played.frame)
    }

    /// Start saying a system message (greeting, re-prompt, notice) as a one-sentence reply.
    pub(super) fn start_system_reply(
        &mut self,
        purpose: ReplyPurpose,
        text: String,
        interruptible: bool,
    ) {
        let turn_id = self.ids.turn();
        let sentence_id = self.ids.sentence();
        let mut reply = BotReply::new(turn_id, purpose, self.lang, interruptible);
        reply.add_sentence(sentence_id, text.clone());
        self.emit(SessionOutput::Speak {
            sentence_id,
            turn_id,
            text,
            lang: self.lang,
        });
        self.reply = Some(reply);
    }

    /// The current reply was played to the end at `at`: record it and do what comes after.
    pub(super) fn finish_reply(&mut self, at: Millis) {
        let Some(reply) = self.reply.take() else {
            return;
        };
        let text = reply.full_text();
        if !text.is_empty() {
            self.history.push(Turn::bot(text.clone(), reply.lang));
        }
        if reply.purpose == ReplyPurpose::Answer && reply.started_at.is_some() {
            self.faults_in_row = 0;
        }
        if let Some(mut record) = reply.record {
            if record.matched_faq.is_some() {
                self.faq_answers += 1;
            }
            record.bot_text_heard = text.clone();
            record.bot_text = text;
            if reply.started_at.is_some() {
                record.bot_audio_end = Some(at);
            }
            record.outcome = TurnOutcome::Answered;
            self.event(CallEvent::TurnCompleted(Box::new(record)));
        }
        self.last_activity = at;
        match (reply.action_after, reply.purpose) {
            (Some(crate::dialogue::DialogueAction::Transfer { reason, summary }), _) => {
                self.start_transfer(reason, summary, reply.started_at.is_some(), at)
            }
            (Some(crate::dialogue::DialogueAction::HangUp), _) => {
                self.hang_up(HangUpReason::Dialogue, at)
            }
            (None, ReplyPurpose::Goodbye) => {
                self.emit(SessionOutput::HangUp);
                self.phase = Phase::Ended;
            }
            (None, ReplyPurpose::TransferNotice) => self.emit_transfer(),
            (None, _) => {}
        }
    }

    /// Stop the current reply without a barge-in (DTMF, transfer, hang-up): whatever was heard
    /// goes into the history, work in flight is cancelled.
    pub(super) fn preempt_reply(&mut self, outcome: TurnOutcome, now: Millis) {
        let Some(reply) = self.reply.take() else {
            return;
        };
        if let Some(record) = self.cut_reply(reply, now) {
            self.event(CallEvent::TurnCompleted(Box::new(TurnRecord {
                outcome,
                ..record
            })));
        }
    }

    /// Stop a reply where the caller is: flush, cancel its work, put what was heard in the
    /// history. Returns its turn record (outcome still to set).
    pub(super) fn cut_reply(&mut self, reply: BotReply, stopped: Millis) -> Option<TurnRecord> {
        if reply.started_at.is_some() {
            self.emit(SessionOutput::FlushPlayback);
        }
        if reply.has_sentences() {
            self.emit(SessionOutput::CancelSpeech {
                turn_id: reply.turn_id,
            });
        }
        if reply.dialogue_open {
            self.emit(SessionOutput::CancelDialogue {
                turn_id: reply.turn_id,
            });
        }
        let heard = reply.heard_text();
        let full = reply.full_text();
        if !heard.is_empty() {
            self.history.push(if heard == full {
                Turn::bot(heard.clone(), reply.lang)
            } else {
                Turn::bot_interrupted(heard.clone(), reply.lang)
            });
        }
        let started = reply.started_at.is_some();
        reply.record.map(|mut record| {
            record.bot_text = full;
            record.bot_text_heard = heard;
            if started {
                record.bot_audio_end = Some(reply.paused_at.unwrap_or(stopped));
            }
            record
        })
    }

    /// Emit a barge-in whose playback stopped at `stopped`, with its turn record.
    pub(super) fn report_barge_in(&mut self, stop: PendingStop, stopped: Millis) {
        self.event(CallEvent::BargeIn {
            turn_id: stop.turn_id,
            onset: stop.onset,
            decided_at: stop.decided_at,
            playback_stopped: stopped,
        });
        if let Some(mut record) = stop.record {
            record.barge_in_onset = Some(stop.onset);
            record.playback_stopped = Some(stopped);
            record.bot_audio_end = record.bot_audio_start.map(|_| stopped);
            record.outcome = TurnOutcome::Interrupted;
            self.event(CallEvent::TurnCompleted(Box::new(record)));
        }
    }
}
