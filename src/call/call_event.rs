//! `CallEvent`: what happened in a call, for logs, metrics, the store and the review UI.

use serde::{Deserialize, Serialize};

use super::clock::Millis;
use super::fault::FaultKind;
use super::holding::WaitingFor;
use super::ids::{SentenceId, TurnId};
use super::turn::end_of_turn::EndOfTurnCue;
use super::turn_record::TurnRecord;
use crate::dialogue::TransferReason;
use crate::lang::Lang;

/// Who said a [`CallEvent::BridgedLine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BridgedSpeaker {
    Caller,
    Agent,
}

impl BridgedSpeaker {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Caller => "caller",
            Self::Agent => "agent",
        }
    }
}

/// One thing that happened in a call, stamped with call time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum CallEvent {
    /// The greeting was sent to TTS.
    GreetingStarted { at: Millis, lang: Lang },
    /// The caller started speaking (first speech frame that is not our echo).
    CallerSpeechStarted { at: Millis },
    /// The caller stopped speaking; `at` is the last speech frame.
    CallerSpeechEnded { at: Millis },
    /// The session decided the caller finished their turn.
    EndOfTurn {
        at: Millis,
        speech_end: Millis,
        cue: EndOfTurnCue,
    },
    /// An end of turn decided on the silence alone was taken back when the words came in:
    /// they ask for a longer wait (`cue`: digits being dictated, a trailing filler).
    EndOfTurnWithdrawn { at: Millis, cue: EndOfTurnCue },
    /// The transcript that goes to the dialogue engine. `speculative`: decoded at the first
    /// silence frame, before the end of turn was decided.
    TranscriptFinal {
        at: Millis,
        text: String,
        lang: Lang,
        speculative: bool,
    },
    /// A partial transcript of the utterance the caller is still speaking (live captions; it
    /// may change until the final).
    TranscriptPartial {
        at: Millis,
        text: String,
        lang: Lang,
    },
    /// A typed message from the caller (the browser widget's text box), answered like speech.
    CallerTyped { at: Millis, text: String },
    /// A caller utterance was dropped: too short, or nothing recognised in it.
    UtteranceDropped { at: Millis, reason: DropReason },
    /// The first frame of a bot sentence was played.
    BotSentenceStarted {
        at: Millis,
        turn_id: TurnId,
        sentence_id: SentenceId,
        /// The sentence as the caller hears it (live captions).
        text: String,
    },
    /// The last frame of a bot sentence finished playing.
    BotSentenceFinished {
        at: Millis,
        turn_id: TurnId,
        sentence_id: SentenceId,
    },
    /// Playback paused while a possible interruption is checked (first silent frame at `at`).
    PlaybackPaused { at: Millis, onset: Millis },
    /// Playback continued after a false interruption.
    PlaybackResumed { at: Millis },
    /// The caller really interrupted the bot: playback stopped at `playback_stopped` (the first
    /// frame no longer played), `onset` is the caller's first counted speech frame.
    BargeIn {
        turn_id: TurnId,
        onset: Millis,
        decided_at: Millis,
        playback_stopped: Millis,
    },
    /// Caller sound while the bot spoke or thought that did not interrupt it.
    FalseBargeIn {
        at: Millis,
        onset: Millis,
        reason: FalseBargeInReason,
    },
    /// The bot asked again after the caller stayed silent.
    RePrompt { at: Millis, count: u32 },
    /// A DTMF digit arrived.
    Dtmf { at: Millis, digit: char },
    /// A transfer to a human began (the notice, if any, is being spoken).
    TransferStarted {
        at: Millis,
        reason: TransferReason,
        /// The handover summary given to the human (briefed to the agent's phone, kept with
        /// the call for the agent's view).
        #[serde(default)]
        summary: String,
    },
    /// The transfer went through; the bot has left the call.
    TransferCompleted { at: Millis },
    /// The transfer failed; the bot keeps the call.
    TransferFailed { at: Millis },
    /// After a bridged transfer: one utterance of the caller or the agent, transcribed, and
    /// where it lies in the call (and its recording).
    BridgedLine {
        speaker: BridgedSpeaker,
        start: Millis,
        end: Millis,
        text: String,
    },
    /// The bot is ending the call (after a goodbye, if any).
    HangingUp { at: Millis, reason: HangUpReason },
    /// The satisfaction survey was asked (after a call the bot resolved).
    SurveyAsked { at: Millis },
    /// The survey's answer: a rating 1-5 by key or spoken number, or `None` when none came
    /// in time or the reply held no rating.
    SurveyAnswered { at: Millis, rating: Option<u8> },
    /// The caller hung up.
    CallerHungUp { at: Millis },
    /// A part is slow: the holding phrase was asked for and the call goes on waiting for it
    /// (its audio plays as a bot sentence of `turn_id`, a turn of its own).
    Holding {
        at: Millis,
        waiting_for: WaitingFor,
        turn_id: TurnId,
    },
    /// A part failed (Whisper, the dialogue engine, a voice): the caller hears the apology,
    /// or is handed to a human after several in a row.
    Fault { at: Millis, kind: FaultKind },
    /// A caller turn and the bot's answer to it are over: one record per caller turn.
    TurnCompleted(Box<TurnRecord>),
}

/// Why caller sound did not interrupt the bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "text", rename_all = "snake_case")]
pub enum FalseBargeInReason {
    /// The bot's own voice coming back on the line.
    Echo,
    /// Shorter than the minimum speech (a cough, a click).
    TooShort,
    /// Inside the protection window after the bot started speaking.
    ProtectionWindow,
    /// Only backchannels ("嗯", "係", "mm-hmm"), or too few syllables with no known short
    /// interruption word ("M", "Emama", "冰 冰"): the caller is listening, or humming.
    Backchannel(String),
    /// The transcriber heard no words in it.
    NothingRecognised,
    /// Short, and the words the transcriber forced out of it are too unsure to act on.
    LowConfidence(String),
    /// Short, and its transcript has more syllables than the caller had time to say (the
    /// bot's echo under a hum, or words Whisper invented).
    Implausible(String),
    /// The bot was saying something that cannot be interrupted (the AI disclosure, a transfer
    /// notice).
    NotInterruptible,
}

/// Why an utterance was dropped without reaching the dialogue engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    TooShort,
    NothingRecognised,
}

/// Why the bot hangs up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HangUpReason {
    /// The caller stayed silent through every re-prompt.
    NoResponse,
    /// The dialogue engine ended the call.
    Dialogue,
    /// The caller pressed the hang-up key.
    Dtmf,
}
