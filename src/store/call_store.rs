//! `CallStore`: the narrow interface the engine, the API and the retention job use to keep and
//! find calls, so the SQLite implementation can be joined by Postgres when hotline scales out.
//! Also [`StoreError`], what any store operation can fail with.

use std::path::PathBuf;

use super::call_filter::CallFilter;
use super::call_record::{
    BridgedLineEntry, CallDetail, CallOutcome, CallRecord, RecordingStatus, TurnEntry,
    UnredactedTurn,
};

/// What a store operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("call store database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("cannot create the call store folder {path}: {source} (check [store] database)")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the call store has schema version {found}, this build knows up to {known}: run a newer hotline or point [store] database elsewhere"
    )]
    NewerSchema { found: i64, known: i64 },
    #[error("the call store holds a value this build cannot read: {0}")]
    Corrupt(String),
    #[error("no call {0}")]
    NoSuchCall(i64),
}

/// A call as it starts.
#[derive(Debug, Clone)]
pub struct NewCall {
    pub leg_id: String,
    pub channel: String,
    /// Already hashed or redacted per `[store] caller_id`.
    pub caller: Option<String>,
    /// Only with `[store] keep_unredacted`.
    pub caller_unredacted: Option<String>,
    pub started_at: i64,
}

/// What is known of a call when it ends.
#[derive(Debug, Clone)]
pub struct CallEnding {
    pub ended_at: i64,
    pub outcome: CallOutcome,
    pub ended_by: Option<String>,
    pub transfer_reason: Option<String>,
    pub languages: Vec<String>,
    pub barge_ins: u32,
    /// The caller's satisfaction rating (1-5) from the post-call survey, if given.
    pub csat: Option<u8>,
    /// `angry`, `negative`, `positive` or `neutral` (see `call_sentiment`), when the caller
    /// said anything.
    pub sentiment: Option<String>,
}

/// A turn to add, with its unredacted text when that is kept and the folded text to index.
#[derive(Debug, Clone)]
pub struct NewTurn {
    pub entry: TurnEntry,
    pub unredacted: Option<UnredactedTurn>,
    /// What the turn adds to the call's search text (folded, see `search_text`).
    pub search_text: String,
}

/// A line of the bridged conversation to add, and the folded text to index.
#[derive(Debug, Clone)]
pub struct NewBridgedLine {
    pub entry: BridgedLineEntry,
    pub search_text: String,
}

/// Which calls to list.
#[derive(Debug, Clone, Default)]
pub struct CallQuery {
    /// Words said in the call (caller or bot), any script; empty: every call.
    pub text: Option<String>,
    /// Only calls started before this id's call (paging: the last id of the previous page).
    pub before_id: Option<i64>,
    pub limit: usize,
    /// Date, channel, language, outcome... (the review UI's filters).
    pub filter: CallFilter,
}

/// A call the retention job may delete.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpiredCall {
    pub id: i64,
    pub leg_id: String,
    pub started_at: i64,
    pub recording_path: Option<PathBuf>,
}

/// A finished call whose recording is still a local file (the WAV written during the call, or
/// its Ogg Opus transcode).
#[derive(Debug, Clone, PartialEq)]
pub struct LocalRecording {
    pub id: i64,
    pub path: PathBuf,
    pub status: RecordingStatus,
}

/// A call left `in_progress` by an engine that stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct UnfinishedCall {
    pub id: i64,
    pub started_at: i64,
    pub recording_path: Option<PathBuf>,
    /// End of the last stored turn's audio, ms into the call.
    pub last_turn_end_ms: Option<u64>,
    /// Languages of its stored turns.
    pub languages: Vec<String>,
}

/// Keeps and finds calls.
pub trait CallStore: Send + Sync {
    /// Stores a starting call; its id.
    fn open_call(&self, call: &NewCall) -> Result<i64, StoreError>;
    /// Adds a completed turn to call `id` (and to its search text).
    fn add_turn(&self, id: i64, turn: &NewTurn) -> Result<(), StoreError>;
    /// Adds a line of the conversation after a bridged transfer to call `id` (and to its
    /// search text).
    fn add_bridged_line(&self, id: i64, line: &NewBridgedLine) -> Result<(), StoreError>;
    /// Keeps the handover summary given to the human when call `id` was transferred.
    fn set_handover_summary(&self, id: i64, summary: &str) -> Result<(), StoreError>;
    /// Records how call `id` ended.
    fn close_call(&self, id: i64, ending: &CallEnding) -> Result<(), StoreError>;
    /// Where call `id`'s recording is and how it stands.
    fn set_recording(
        &self,
        id: i64,
        status: RecordingStatus,
        path: Option<&std::path::Path>,
        length_ms: Option<i64>,
    ) -> Result<(), StoreError>;
    /// Calls matching `query`, newest first.
    fn list_calls(&self, query: &CallQuery) -> Result<Vec<CallRecord>, StoreError>;
    /// Call `id` with its turns (redacted text).
    fn call_detail(&self, id: i64) -> Result<Option<CallDetail>, StoreError>;
    /// Call `id`'s unredacted caller number and turn texts (empty when none were kept).
    fn unredacted(&self, id: i64) -> Result<(Option<String>, Vec<UnredactedTurn>), StoreError>;
    /// Call `id`'s recording file, when it has one.
    fn recording_path(&self, id: i64) -> Result<Option<PathBuf>, StoreError>;
    /// Calls ended before `cutoff` (unix ms) whose whole recording is a local file (only WAVs
    /// when `wav_only`), oldest first.
    fn local_recordings_ended_before(
        &self,
        cutoff: i64,
        wav_only: bool,
    ) -> Result<Vec<LocalRecording>, StoreError>;
    /// Calls started before `cutoff` (unix ms) and not on legal hold.
    fn expired_calls(&self, cutoff: i64) -> Result<Vec<ExpiredCall>, StoreError>;
    /// Deletes call `id`, its turns and its search text (not its audit entries).
    fn delete_call(&self, id: i64) -> Result<(), StoreError>;
    /// Puts call `id` on legal hold (`true`) or releases it.
    fn set_legal_hold(&self, id: i64, hold: bool) -> Result<(), StoreError>;
    /// Calls still `in_progress`: at start, the ones a stopped engine left.
    fn unfinished_calls(&self) -> Result<Vec<UnfinishedCall>, StoreError>;
    /// Caller turns without a confident FAQ answer (or followed by a transfer) in calls started
    /// at or after `since` (unix ms), newest first, at most `limit`.
    fn unanswered_turns(
        &self,
        since: i64,
        limit: usize,
    ) -> Result<Vec<super::unanswered::UnansweredTurn>, StoreError>;
}
