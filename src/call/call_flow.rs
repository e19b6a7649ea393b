//! The call around the conversation: the dialogue engine's answers and actions, TTS audio,
//! DTMF, re-prompts after silence, transfer to a human (and coming back when it fails), and
//! hanging up.

use std::sync::Arc;

use super::bot_reply::ReplyPurpose;
use super::call_event::{CallEvent, HangUpReason};
use super::clock::Millis;
use super::config::DtmfAction;
use super::ids::{SentenceId, TurnId};
use super::output::SessionOutput;
use super::session::{Phase, Session};
use super::turn_record::TurnOutcome;
use crate::dialogue::{ReplyEvent, Speaker, TransferReason};

impl Session {
    /// One event of the answer to `turn_id`; events of cancelled turns are dropped.
    pub(super) fn on_dialogue_event(&mut self, turn_id: TurnId, event: ReplyEvent, now: Millis) {
        let Some(reply) = self
            .reply
            .as_mut()
            .filter(|r| r.turn_id == turn_id && r.dialogue_open)
        else {
            return;
        };
        match event {
            ReplyEvent::Sentence { text, lang } => {
                if text.trim().is_empty() {
                    return;
                }
                let sentence_id = self.ids.sentence();
                reply.add_sentence(sentence_id, text.clone());
                if let Some(record) = reply.record.as_mut() {
                    record.first_sentence.get_or_insert(now);
                }
                self.emit(SessionOutput::Speak {
                    sentence_id,
                    turn_id,
                    text,
                    lang,
                });
            }
            ReplyEvent::Matched { faq_id, score } => {
                if let Some(record) = reply.record.as_mut() {
                    record.matched_faq = Some(faq_id);
                    record.match_score = Some(score);
                }
            }
            ReplyEvent::NoMatch { .. } | ReplyEvent::Confirm { .. } => {}
            ReplyEvent::Action(action) => {
                reply.action_after.get_or_insert(action);
            }
        }
    }

    /// The answer to `turn_id` is complete.
    pub(super) fn on_dialogue_done(&mut self, turn_id: TurnId, now: Millis) {
        let Some(reply) = self.reply.as_mut().filter(|r| r.turn_id == turn_id) else {
            return;
        };
        reply.dialogue_open = false;
        if self.answer_was_empty() {
            self.give_up_reply(super::fault::FaultKind::DialogueEmpty, now);
        } else if self.reply.as_ref().is_some_and(|r| r.is_complete()) {
            self.finish_reply(now);
        }
    }

    /// TTS audio for a sentence; audio of cancelled sentences is dropped.
    pub(super) fn on_speech_ready(&mut self, sentence_id: SentenceId, samples: Arc<[i16]>) {
        if let Some(reply) = self.reply.as_mut() {
            reply.set_audio(sentence_id, samples);
        }
    }

    pub(super) fn on_dtmf(&mut self, digit: char, now: Millis) {
        self.event(CallEvent::Dtmf { at: now, digit });
        if self.phase != Phase::Active {
            return;
        }
        if self.awaits_rating()
            && let Some(rating) = digit.to_digit(10).filter(|d| (1..=5).contains(d))
        {
            self.finish_survey(Some(rating as u8), now);
            return;
        }
        let action = self
            .config
            .flow
            .dtmf
            .iter()
            .find(|binding| binding.digit.eq_ignore_ascii_case(&digit))
            .map(|binding| binding.action);
        match action {
            Some(DtmfAction::Transfer) => {
                let summary = self.conversation_summary();
                self.start_transfer(TransferReason::CallerAsked, summary, false, now);
            }
            Some(DtmfAction::HangUp) => self.hang_up(HangUpReason::Dtmf, now),
            None => {}
        }
    }

    /// Hand the caller to a human: stop listening and talking, say the notice unless the bot
    /// just said something, then emit `Transfer`. Repeated requests are ignored.
    pub(super) fn start_transfer(
        &mut self,
        reason: TransferReason,
        summary: String,
        bot_just_spoke: bool,
        now: Millis,
    ) {
        if self.phase != Phase::Active {
            return;
        }
        self.stop_everything(TurnOutcome::Preempted, now);
        let summary = if summary.trim().is_empty() {
            self.conversation_summary()
        } else {
            summary
        };
        self.event(CallEvent::TransferStarted {
            at: now,
            reason: reason.clone(),
            summary: summary.clone(),
        });
        self.phase = Phase::Transferring { reason, summary };
        let notice = self.config.flow.transfer_notice.get(self.lang).clone();
        if bot_just_spoke || notice.trim().is_empty() {
            self.emit_transfer();
        } else {
            self.start_system_reply(ReplyPurpose::TransferNotice, notice, false);
        }
    }

    /// Emit the `Transfer` decided earlier and wait for its result.
    pub(super) fn emit_transfer(&mut self) {
        let Phase::Transferring { reason, summary } =
            std::mem::replace(&mut self.phase, Phase::AwaitingTransfer)
        else {
            return;
        };
        self.emit(SessionOutput::Transfer { reason, summary });
    }

    pub(super) fn on_transfer_result(&mut self, ok: bool, now: Millis) {
        if self.phase != Phase::AwaitingTransfer {
            return;
        }
        if ok {
            self.phase = Phase::Transferred;
            self.event(CallEvent::TransferCompleted { at: now });
            return;
        }
        self.phase = Phase::Active;
        self.event(CallEvent::TransferFailed { at: now });
        self.last_activity = now;
        let message = self.config.flow.transfer_failed.get(self.lang).clone();
        if !message.trim().is_empty() {
            let interruptible = self.config.barge_in.enabled;
            self.start_system_reply(ReplyPurpose::TransferFailed, message, interruptible);
        }
    }

    /// The bot ends the call: after a goodbye when the caller stopped answering, at once otherwise.
    pub(super) fn hang_up(&mut self, reason: HangUpReason, now: Millis) {
        if !matches!(self.phase, Phase::Active) {
            return;
        }
        if reason == HangUpReason::Dialogue && self.survey_due() {
            self.stop_everything(TurnOutcome::Preempted, now);
            self.start_survey(now);
            return;
        }
        self.event(CallEvent::HangingUp { at: now, reason });
        self.stop_everything(TurnOutcome::Preempted, now);
        let goodbye = self.config.flow.goodbye.get(self.lang).clone();
        if reason == HangUpReason::NoResponse && !goodbye.trim().is_empty() {
            self.phase = Phase::HangingUp;
            self.start_system_reply(ReplyPurpose::Goodbye, goodbye, false);
        } else {
            self.phase = Phase::Ended;
            self.emit(SessionOutput::HangUp);
        }
    }

    pub(super) fn on_caller_hung_up(&mut self, now: Millis) {
        if self.phase == Phase::Ended {
            return;
        }
        self.event(CallEvent::CallerHungUp { at: now });
        self.stop_everything(TurnOutcome::CallEnded, now);
        self.phase = Phase::Ended;
    }

    /// Stop talking and listening: cut the reply, cancel every decode and pending stop.
    pub(super) fn stop_everything(&mut self, outcome: TurnOutcome, now: Millis) {
        if let Some(stop) = self.pending_stop.take() {
            self.report_barge_in(stop, now);
        }
        self.preempt_reply(outcome, now);
        if let Some(utterance) = self.utterance.take() {
            self.release_utterance(utterance);
        }
        self.carry_over = None;
    }

    /// Re-prompt after caller silence; say goodbye after too many re-prompts.
    pub(super) fn check_silence(&mut self, now: Millis) {
        if self.check_survey_timeout(now) {
            return;
        }
        let idle = self.phase == Phase::Active
            && self.reply.is_none()
            && self.utterance.is_none()
            && self.pending_stop.is_none();
        let waiting_for_rating = self.awaits_rating();
        if !idle
            || waiting_for_rating
            || now.since(self.last_activity) < self.config.flow.reprompt_after_ms
        {
            return;
        }
        if self.reprompts_in_row >= self.config.flow.max_reprompts {
            self.hang_up(HangUpReason::NoResponse, now);
            return;
        }
        self.reprompts_in_row += 1;
        self.last_activity = now;
        self.event(CallEvent::RePrompt {
            at: now,
            count: self.reprompts_in_row,
        });
        let text = self.config.flow.reprompt.get(self.lang).clone();
        let interruptible = self.config.barge_in.enabled;
        self.start_system_reply(ReplyPurpose::RePrompt, text, interruptible);
    }

    /// The latest turns as "Caller: … / Bot: …" lines, newest kept, within the configured length.
    pub(super) fn conversation_summary(&self) -> String {
        let budget = self.config.flow.summary_max_chars;
        let mut lines: Vec<String> = Vec::new();
        let mut used = 0;
        for turn in self.history.iter().rev() {
            let who = match turn.speaker {
                Speaker::Caller => "Caller",
                Speaker::Bot => "Bot",
            };
            let line = format!("{who}: {}", turn.text);
            let len = line.chars().count() + 1;
            if used + len > budget {
                break;
            }
            used += len;
            lines.push(line);
        }
        lines.reverse();
        lines.join("\n")
    }
}
