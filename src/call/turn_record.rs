//! `TurnRecord`: the timeline of one caller turn and the bot's answer to it: the single source
//! for latency metrics, the call store and the review UI.

use serde::{Deserialize, Serialize};

use super::clock::Millis;
use super::ids::TurnId;
use super::turn::end_of_turn::EndOfTurnCue;
use crate::lang::Lang;

/// One caller turn, stamped at every stage (all times in ms since the call started).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnRecord {
    pub turn_id: TurnId,
    /// What the caller said (as sent to the dialogue engine).
    pub caller_text: String,
    pub lang: Lang,
    /// First speech frame of the utterance.
    pub speech_start: Millis,
    /// Last speech frame the VAD saw before the end of turn.
    pub speech_end: Millis,
    /// When the session decided the caller had finished.
    pub end_of_turn: Millis,
    pub end_of_turn_cue: EndOfTurnCue,
    /// When the transcript that was used became available (before `end_of_turn` when the
    /// speculative decode finished first).
    pub asr_final: Millis,
    /// The transcript came from the decode started at the first silence frame.
    pub used_speculative: bool,
    /// When the dialogue engine was asked.
    pub dialogue_asked: Millis,
    /// When the dialogue engine's first sentence arrived.
    pub first_sentence: Option<Millis>,
    /// When the first audible frame of the answer was played.
    pub first_audio_out: Option<Millis>,
    /// Where the answer's audio starts and ends in the call (for the recording).
    pub bot_audio_start: Option<Millis>,
    pub bot_audio_end: Option<Millis>,
    /// Everything the dialogue engine said for this turn.
    pub bot_text: String,
    /// What the caller actually heard of it (cut at a barge-in).
    pub bot_text_heard: String,
    /// The FAQ entry that answered, and its score.
    pub matched_faq: Option<String>,
    pub match_score: Option<f32>,
    /// The caller's first counted speech frame when they interrupted the answer.
    pub barge_in_onset: Option<Millis>,
    /// The first frame no longer played after that interruption.
    pub playback_stopped: Option<Millis>,
    pub outcome: TurnOutcome,
}

/// How a turn's answer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnOutcome {
    /// The answer was played to the end.
    Answered,
    /// The caller interrupted the answer.
    Interrupted,
    /// The caller went on speaking before the answer started; the turn was merged into the next.
    Superseded,
    /// A transfer or a DTMF key ended the answer.
    Preempted,
    /// The call ended first.
    CallEnded,
    /// A part failed (the answer did not come in time, or could not be spoken): the caller
    /// heard the apology instead.
    Failed,
}

impl TurnRecord {
    /// Caller's last speech frame → first audible frame of the answer: what the caller waits.
    pub fn voice_to_voice_ms(&self) -> Option<u64> {
        self.first_audio_out.map(|t| t.since(self.speech_end))
    }

    /// Caller's last speech frame → end of turn decided (the hangover actually waited).
    pub fn end_of_turn_delay_ms(&self) -> u64 {
        self.end_of_turn.since(self.speech_end)
    }

    /// End of turn → transcript available (0 when the speculative decode was ready first).
    pub fn asr_wait_ms(&self) -> u64 {
        self.asr_final.since(self.end_of_turn)
    }

    /// Dialogue asked → first sentence.
    pub fn dialogue_first_sentence_ms(&self) -> Option<u64> {
        self.first_sentence.map(|t| t.since(self.dialogue_asked))
    }

    /// First sentence → its first audible frame played (TTS plus queueing).
    pub fn tts_first_audio_ms(&self) -> Option<u64> {
        Some(self.first_audio_out?.since(self.first_sentence?))
    }

    /// Caller's interruption onset → bot playback stopped.
    pub fn barge_in_reaction_ms(&self) -> Option<u64> {
        Some(self.playback_stopped?.since(self.barge_in_onset?))
    }
}
