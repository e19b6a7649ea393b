//! The holding phrase: a part that is slow but has not failed (a Whisper decode on a loaded
//! machine, an LLM taking its time, a long synthesis) must not leave the caller in silence,
//! nor be given up for the apology. At `[call.faults] hold_after_ms` of quiet after the
//! caller's end of turn the session says the short `holding` phrase ("请稍等。" / "請等等。" /
//! "One moment, please.", pinned in the speech cache at warm-up) and goes on waiting; again
//! after each holding phrase while the wait lasts. An answer that lands meanwhile is played as
//! soon as the phrase in progress ends; the hard deadline and the part's own errors are
//! `fault.rs`'s.
//!
//! The phrase is played outside the turn's [`BotReply`](super::bot_reply::BotReply), so the
//! turn's record (first audio out, what the caller heard) stays the answer's.

use std::sync::Arc;

use hotline_audio::{FRAME_MS, FRAME_SAMPLES, Frame};
use serde::{Deserialize, Serialize};

use super::call_event::CallEvent;
use super::clock::Millis;
use super::ids::{SentenceId, TurnId};
use super::output::SessionOutput;
use super::session::Session;

/// The part a caller's turn is waiting on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitingFor {
    /// The final transcript of the caller's turn.
    Recogniser,
    /// The dialogue engine's first sentence (or action).
    Dialogue,
    /// The synthesis of the answer's first sentence.
    Voice,
}

impl WaitingFor {
    /// Every part, in a fixed order (metrics).
    pub const ALL: [WaitingFor; 3] = [
        WaitingFor::Recogniser,
        WaitingFor::Dialogue,
        WaitingFor::Voice,
    ];

    /// The part's snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitingFor::Recogniser => "recogniser",
            WaitingFor::Dialogue => "dialogue",
            WaitingFor::Voice => "voice",
        }
    }
}

impl std::fmt::Display for WaitingFor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A holding phrase asked of the voice, then played.
#[derive(Debug)]
pub(crate) struct HoldingPhrase {
    /// A turn of its own, so cancelling the answer's speech leaves it alone.
    turn_id: TurnId,
    sentence_id: SentenceId,
    text: String,
    audio: Option<Arc<[i16]>>,
    played: usize,
}

impl HoldingPhrase {
    fn started(&self) -> bool {
        self.played > 0
    }
}

impl Session {
    /// Ask for the holding phrase in `lang`'s words (said once its audio is back).
    pub(super) fn start_holding(&mut self, waiting_for: WaitingFor, now: Millis) {
        let lang = self.reply.as_ref().map_or(self.lang, |reply| reply.lang);
        let text = self.config.faults.holding.get(lang).clone();
        if text.trim().is_empty() || self.holding.is_some() {
            return;
        }
        let turn_id = self.ids.turn();
        let sentence_id = self.ids.sentence();
        self.event(CallEvent::Holding {
            at: now,
            waiting_for,
            turn_id,
        });
        tracing::info!(%waiting_for, "a part is slow; saying the holding phrase");
        self.emit(SessionOutput::Speak {
            sentence_id,
            turn_id,
            text: text.clone(),
            lang,
        });
        self.holding = Some(HoldingPhrase {
            turn_id,
            sentence_id,
            text,
            audio: None,
            played: 0,
        });
    }

    /// The holding phrase's audio came back; false when `sentence_id` is not the phrase's.
    pub(super) fn on_holding_audio(
        &mut self,
        sentence_id: SentenceId,
        samples: Arc<[i16]>,
    ) -> bool {
        match self.holding.as_mut() {
            Some(holding) if holding.sentence_id == sentence_id => {
                holding.audio = Some(samples);
                true
            }
            _ => false,
        }
    }

    /// The holding phrase could not be synthesized: the wait goes on in silence until the
    /// next one is due. False when `sentence_id` is not the phrase's.
    pub(super) fn on_holding_failed(&mut self, sentence_id: SentenceId, now: Millis) -> bool {
        if self
            .holding
            .as_ref()
            .is_none_or(|holding| holding.sentence_id != sentence_id)
        {
            return false;
        }
        self.holding = None;
        self.held_until = now;
        true
    }

    /// The caller speaks (or the wait is over before the phrase began): stop the holding
    /// phrase where it is.
    pub(super) fn stop_holding(&mut self, now: Millis) {
        let Some(holding) = self.holding.take() else {
            return;
        };
        if holding.started() {
            self.emit(SessionOutput::FlushPlayback);
            self.held_until = now;
        } else if holding.audio.is_none() {
            self.emit(SessionOutput::CancelSpeech {
                turn_id: holding.turn_id,
            });
        }
    }

    /// The next frame of the holding phrase, when it is what plays now: a phrase in progress
    /// plays to its end (an answer that is ready waits for it); one not begun yet is dropped
    /// when the answer is ready first.
    pub(super) fn next_holding_frame(&mut self, now: Millis) -> Option<Frame> {
        let answer_ready = self
            .reply
            .as_ref()
            .is_some_and(|reply| reply.paused.is_none() && reply.has_frame_ready());
        let holding = self.holding.as_mut()?;
        if !holding.started() && answer_ready {
            self.stop_holding(now);
            return None;
        }
        let audio = holding.audio.as_ref()?;
        if holding.played >= audio.len() {
            // Empty audio: nothing to say.
            self.holding = None;
            self.held_until = now;
            return None;
        }
        let started = !holding.started();
        let end = (holding.played + FRAME_SAMPLES).min(audio.len());
        let mut frame = Frame::silence();
        frame.samples_mut()[..end - holding.played].copy_from_slice(&audio[holding.played..end]);
        holding.played = end;
        let finished = end == audio.len();
        let (turn_id, sentence_id) = (holding.turn_id, holding.sentence_id);
        if started {
            let text = holding.text.clone();
            self.event(CallEvent::BotSentenceStarted {
                at: now,
                turn_id,
                sentence_id,
                text,
            });
        }
        if finished {
            let end = now.plus(u64::from(FRAME_MS));
            self.event(CallEvent::BotSentenceFinished {
                at: end,
                turn_id,
                sentence_id,
            });
            self.holding = None;
            self.held_until = end;
        }
        Some(frame)
    }
}
