//! No dead air when a part fails. Whisper erring or hanging, the dialogue engine closing its
//! answer with nothing in it or never answering, a voice failing or hanging: each would leave
//! the caller in silence. A part that is only slow gets the holding phrase (`holding.rs`) at
//! `[call.faults] hold_after_ms` and is waited for; one that reports a failure, or is still not
//! done at `give_up_after_ms` after the end of turn, gets the turn given up and the short
//! apology said, which offers a human; after `transfer_after` faulted turns in a row the caller
//! is handed to one instead. The call is never dropped.

use serde::{Deserialize, Serialize};

use super::bot_reply::ReplyPurpose;
use super::call_event::{CallEvent, FalseBargeInReason};
use super::clock::Millis;
use super::holding::WaitingFor;
use super::ids::{RequestId, SentenceId};
use super::session::{Phase, Session};
use super::turn_record::{TurnOutcome, TurnRecord};
use crate::dialogue::TransferReason;

/// Which part failed, and how (for logs, `/metrics` and the call store).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Whisper returned an error for the caller's turn.
    AsrFailed,
    /// Whisper had not answered by the hard deadline (or, for a possible interruption, by
    /// the soft one).
    AsrTimedOut,
    /// The dialogue engine ended its answer without a sentence or an action.
    DialogueEmpty,
    /// The dialogue engine had said nothing by the hard deadline.
    DialogueTimedOut,
    /// A voice failed (or timed out) on a sentence nothing had been played of.
    SpeechFailed,
    /// The answer's sentences were not synthesized by the hard deadline.
    SpeechTimedOut,
}

impl FaultKind {
    /// Every kind, in a fixed order (metrics).
    pub const ALL: [FaultKind; 6] = [
        FaultKind::AsrFailed,
        FaultKind::AsrTimedOut,
        FaultKind::DialogueEmpty,
        FaultKind::DialogueTimedOut,
        FaultKind::SpeechFailed,
        FaultKind::SpeechTimedOut,
    ];

    /// The kind's snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::AsrFailed => "asr_failed",
            FaultKind::AsrTimedOut => "asr_timed_out",
            FaultKind::DialogueEmpty => "dialogue_empty",
            FaultKind::DialogueTimedOut => "dialogue_timed_out",
            FaultKind::SpeechFailed => "speech_failed",
            FaultKind::SpeechTimedOut => "speech_timed_out",
        }
    }
}

impl std::fmt::Display for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Session {
    /// A decode failed: a final of a finished turn means the caller hears the apology; one of
    /// a turn still going is asked for again at the end of turn; a possible interruption is
    /// let go (the bot goes on); a partial is forgotten.
    pub(super) fn on_transcript_failed(&mut self, request_id: RequestId, now: Millis) {
        let Some(utterance) = self.utterance.as_mut() else {
            return;
        };
        if utterance.partial == Some(request_id) {
            utterance.partial = None;
            return;
        }
        if utterance
            .final_decode
            .as_ref()
            .is_none_or(|d| d.request_id != request_id || d.result.is_some())
        {
            return; // cancelled or superseded
        }
        if utterance.candidate.is_some() {
            utterance.final_decode = None;
            self.event(CallEvent::Fault {
                at: now,
                kind: FaultKind::AsrFailed,
            });
            self.drop_candidate(FalseBargeInReason::NothingRecognised, now);
            return;
        }
        if utterance.end_of_turn.is_none() {
            // The speculative decode failed: the end of turn asks again.
            utterance.final_decode = None;
            return;
        }
        if let Some(utterance) = self.utterance.take() {
            self.release_utterance(utterance);
        }
        self.fault(FaultKind::AsrFailed, now);
    }

    /// A sentence's synthesis failed: it is skipped; a reply nothing has been played of yet is
    /// given up for the apology (or, for what must be said as it is, goes on without it).
    pub(super) fn on_speech_failed(&mut self, sentence_id: SentenceId, now: Millis) {
        let Some(reply) = self.reply.as_mut() else {
            return;
        };
        if !reply.drop_sentence(sentence_id) {
            return; // a cancelled reply's sentence
        }
        let purpose = reply.purpose;
        let give_up = reply.started_at.is_none()
            && matches!(
                purpose,
                ReplyPurpose::Answer
                    | ReplyPurpose::Greeting
                    | ReplyPurpose::RePrompt
                    | ReplyPurpose::TransferFailed
            );
        if give_up {
            self.give_up_reply(FaultKind::SpeechFailed, now);
            return;
        }
        // The goodbye still hangs up, the transfer notice still transfers, a failed apology
        // is not said again; an answer already playing goes on with its next sentence.
        self.event(CallEvent::Fault {
            at: now,
            kind: FaultKind::SpeechFailed,
        });
        if purpose == ReplyPurpose::Apology {
            // Not even the apology can be said: one more fault towards the human.
            self.faults_in_row += 1;
            if self.transfer_due() {
                self.transfer_for_fault(FaultKind::SpeechFailed, true, now);
            }
        }
    }

    /// The answer stream ended: one with nothing to say and nothing to do is a fault.
    pub(super) fn answer_was_empty(&self) -> bool {
        self.reply.as_ref().is_some_and(|reply| {
            reply.purpose == ReplyPurpose::Answer
                && !reply.has_sentences()
                && reply.action_after.is_none()
        })
    }

    /// Every tick: a caller turn whose answer has not started playing is waited for. Each
    /// `hold_after_ms` of quiet the caller hears the holding phrase (`holding.rs`); at
    /// `give_up_after_ms` after the end of turn the turn is given up (the decode, the dialogue
    /// engine or the voice is hanging) and the caller hears the apology.
    pub(super) fn check_turn_deadline(&mut self, now: Millis) {
        if self.phase != Phase::Active {
            return;
        }
        let hold_after = self.config.faults.hold_after_ms;
        let give_up_after = self.config.faults.give_up_after_ms;
        if let Some(utterance) = self.utterance.as_ref()
            && utterance.candidate.is_some()
        {
            let waiting = utterance
                .final_decode
                .as_ref()
                .is_some_and(|d| d.result.is_none());
            // A possible interruption Whisper does not decide on in time: the bot goes on
            // (its playback is paused meanwhile, so this cannot wait long).
            if waiting && !utterance.in_speech && now.since(utterance.speech_end) >= hold_after {
                self.event(CallEvent::Fault {
                    at: now,
                    kind: FaultKind::AsrTimedOut,
                });
                self.drop_candidate(FalseBargeInReason::NothingRecognised, now);
            }
            return;
        }
        let Some((end_of_turn, waiting_for)) = self.waiting_turn() else {
            return;
        };
        if now.since(end_of_turn) >= give_up_after {
            // A holding phrase in progress ends first; the apology follows it.
            match waiting_for {
                WaitingFor::Recogniser => {
                    if let Some(utterance) = self.utterance.take() {
                        self.release_utterance(utterance);
                    }
                    self.fault(FaultKind::AsrTimedOut, now);
                }
                WaitingFor::Dialogue => self.give_up_reply(FaultKind::DialogueTimedOut, now),
                WaitingFor::Voice => self.give_up_reply(FaultKind::SpeechTimedOut, now),
            }
            return;
        }
        let quiet_since = end_of_turn.max(self.held_until);
        if self.holding.is_none() && now.since(quiet_since) >= hold_after {
            self.start_holding(waiting_for, now);
        }
    }

    /// The caller turn being waited for: when it ended, and on which part.
    fn waiting_turn(&self) -> Option<(Millis, WaitingFor)> {
        if let Some(utterance) = self.utterance.as_ref() {
            let decoding = utterance
                .final_decode
                .as_ref()
                .is_some_and(|d| d.result.is_none());
            return match utterance.end_of_turn {
                Some((at, _)) if decoding && !utterance.in_speech => {
                    Some((at, WaitingFor::Recogniser))
                }
                _ => None,
            };
        }
        let reply = self.reply.as_ref()?;
        if reply.purpose != ReplyPurpose::Answer || reply.started_at.is_some() {
            return None;
        }
        let end_of_turn = reply.record.as_ref()?.end_of_turn;
        let waiting_for = if reply.has_sentences() {
            WaitingFor::Voice
        } else {
            WaitingFor::Dialogue
        };
        Some((end_of_turn, waiting_for))
    }

    /// Cut the current reply (its record says the turn failed) and handle the fault.
    pub(super) fn give_up_reply(&mut self, kind: FaultKind, now: Millis) {
        if let Some(reply) = self.reply.take()
            && let Some(record) = self.cut_reply(reply, now)
        {
            self.event(CallEvent::TurnCompleted(Box::new(TurnRecord {
                outcome: TurnOutcome::Failed,
                ..record
            })));
        }
        self.fault(kind, now);
    }

    /// A caller turn failed: apologise, or hand over after too many in a row.
    pub(super) fn fault(&mut self, kind: FaultKind, now: Millis) {
        self.event(CallEvent::Fault { at: now, kind });
        tracing::warn!(%kind, "a part of the call failed; apologising");
        self.faults_in_row += 1;
        self.last_activity = now;
        if self.transfer_due() {
            self.transfer_for_fault(kind, false, now);
            return;
        }
        let apology = self.config.faults.apology.get(self.lang).clone();
        if apology.trim().is_empty() {
            return;
        }
        let interruptible = self.config.barge_in.enabled;
        self.start_system_reply(ReplyPurpose::Apology, apology, interruptible);
    }

    fn transfer_due(&self) -> bool {
        let after = self.config.faults.transfer_after;
        after > 0 && self.faults_in_row >= after && self.phase == Phase::Active
    }

    /// Hand the caller to a human because parts keep failing (`skip_notice`: the voice is
    /// what fails, so the leg's hold audio is all the caller can hear).
    fn transfer_for_fault(&mut self, kind: FaultKind, skip_notice: bool, now: Millis) {
        self.faults_in_row = 0;
        let summary = self.conversation_summary();
        self.start_transfer(
            TransferReason::EngineDecided(format!("the bot kept failing ({kind})")),
            summary,
            skip_notice,
            now,
        );
    }
}
