//! What the store keeps of a call: [`CallRecord`] (who, when, where from, how it ended, its
//! recording) and its [`TurnEntry`]s (what was said both ways, already redacted, with every
//! timing of the turn), plus the fields the review UI will fill (CSAT, sentiment).

use serde::{Deserialize, Serialize};

/// How a call ended, as the review UI filters it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// Still running (no end seen yet).
    InProgress,
    /// The bot answered from the FAQ and nobody needed a human.
    AnsweredByBot,
    /// Handed to a human (`transfer_reason` says why).
    Transferred,
    /// The caller hung up before the bot answered anything.
    CallerHungUp,
    /// The bot hung up without having answered anything (silence, the hang-up key).
    BotHungUp,
    /// The call could not run.
    Failed,
    /// The engine stopped in the middle of the call; recovered at the next start.
    Recovered,
}

impl CallOutcome {
    pub const ALL: [CallOutcome; 7] = [
        CallOutcome::InProgress,
        CallOutcome::AnsweredByBot,
        CallOutcome::Transferred,
        CallOutcome::CallerHungUp,
        CallOutcome::BotHungUp,
        CallOutcome::Failed,
        CallOutcome::Recovered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::InProgress => "in_progress",
            CallOutcome::AnsweredByBot => "answered_by_bot",
            CallOutcome::Transferred => "transferred",
            CallOutcome::CallerHungUp => "caller_hung_up",
            CallOutcome::BotHungUp => "bot_hung_up",
            CallOutcome::Failed => "failed",
            CallOutcome::Recovered => "recovered",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == name)
    }
}

/// Where a call's recording stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordingStatus {
    /// Not recorded (recording off).
    None,
    /// Being written.
    Recording,
    /// Written to the end and synced.
    Complete,
    /// Left partial by a stopped engine and repaired from its length.
    Recovered,
    /// Could not be written (full disk, unwritable folder); the call went on.
    Failed,
    /// Deleted by the retention job.
    Deleted,
}

impl RecordingStatus {
    pub const ALL: [RecordingStatus; 6] = [
        RecordingStatus::None,
        RecordingStatus::Recording,
        RecordingStatus::Complete,
        RecordingStatus::Recovered,
        RecordingStatus::Failed,
        RecordingStatus::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordingStatus::None => "none",
            RecordingStatus::Recording => "recording",
            RecordingStatus::Complete => "complete",
            RecordingStatus::Recovered => "recovered",
            RecordingStatus::Failed => "failed",
            RecordingStatus::Deleted => "deleted",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// One call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// The store's id (what `/api/calls/{id}` takes).
    pub id: i64,
    /// The channel's own id (SIP Call-ID, stream sid, browser call id).
    pub leg_id: String,
    /// `sip`, `media_stream`, `browser`, `unknown`.
    pub channel: String,
    /// The caller's number as `[store] caller_id` keeps it (hashed or redacted by default).
    pub caller: Option<String>,
    /// Unix time in ms.
    pub started_at: i64,
    pub ended_at: Option<i64>,
    /// Languages spoken, in order of first use (`zh`, `yue`, `en`).
    pub languages: Vec<String>,
    pub outcome: CallOutcome,
    /// How the driver stopped (`caller_hung_up`, `bot_hung_up`, `transferred`, `failed`).
    pub ended_by: Option<String>,
    /// Why the caller was handed to a human (`caller_asked`, `unresolved`, `distress`, ...).
    pub transfer_reason: Option<String>,
    /// Post-call survey score 1-5, when the caller gave one.
    pub csat: Option<u8>,
    /// The caller's mood as the dialogue judged it (`calm`, `anxious`, `angry`).
    pub sentiment: Option<String>,
    pub turn_count: u32,
    pub barge_ins: u32,
    pub recording_status: RecordingStatus,
    /// Length of the recording in ms.
    pub recording_ms: Option<i64>,
    /// Kept past the retention period until released.
    pub legal_hold: bool,
}

/// One caller turn and the bot's answer to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnEntry {
    /// 1-based position in the call.
    pub index: u32,
    pub lang: String,
    /// What the caller said, redacted per `[store] redact_pii`.
    pub caller_text: String,
    /// Everything the bot said for this turn (redacted).
    pub bot_text: String,
    /// What the caller actually heard of it: shorter than `bot_text` when they interrupted.
    pub bot_text_heard: String,
    pub faq_id: Option<String>,
    pub faq_confidence: Option<f32>,
    /// `answered`, `interrupted`, `superseded`, `preempted`, `call_ended`, `failed`.
    pub outcome: String,
    pub timings: TurnTimings,
}

/// A turn's timeline, in ms since the call started: also offsets into the recording.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TurnTimings {
    pub speech_start_ms: u64,
    pub speech_end_ms: u64,
    pub end_of_turn_ms: u64,
    pub asr_final_ms: u64,
    pub first_sentence_ms: Option<u64>,
    pub first_audio_ms: Option<u64>,
    pub bot_audio_start_ms: Option<u64>,
    pub bot_audio_end_ms: Option<u64>,
    /// Caller's interruption onset, when they barged in.
    pub barge_in_onset_ms: Option<u64>,
    pub playback_stopped_ms: Option<u64>,
    /// Caller's last speech → first audio of the answer.
    pub voice_to_voice_ms: Option<u64>,
}

/// Unredacted text of a turn, kept only with `[store] keep_unredacted`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnredactedTurn {
    pub caller_text: String,
    pub bot_text_heard: String,
}

/// A call with its turns (what `GET /api/calls/{id}` answers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallDetail {
    #[serde(flatten)]
    pub call: CallRecord,
    pub turns: Vec<TurnEntry>,
    /// What the caller and the agent said after a bridged transfer, in order.
    #[serde(default)]
    pub after_transfer: Vec<BridgedLineEntry>,
    /// The summary handed to the human at a transfer (redacted like the turns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handover_summary: Option<String>,
}

/// One utterance of the caller or the agent after a bridged transfer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BridgedLineEntry {
    /// `caller` or `agent`.
    pub speaker: String,
    /// What was said, redacted per `[store] redact_pii`.
    pub text: String,
    /// Where it lies in the call (and its recording).
    pub start_ms: u64,
    pub end_ms: u64,
}
