//! The call store: every call kept, findable and reviewable.
//!
//! - [`SqliteCallStore`] behind the narrow [`CallStore`] trait: calls, turns, full-text
//!   search over what was said ([`SearchText`]), schema migrations (`schema`), plus review
//!   users and API tokens (`accounts`; listed, revoked, disabled and removed in
//!   `account_admin`) and the hash-chained audit log (`audit_log`).
//! - [`StoreWriter`]: fed by the calls' notices on a thread of its own ([`CallDraft`] turns
//!   them into records, [`PersonalData`] redacts before anything is stored).
//! - `recording/`: [`Recordings`], the [`crate::call::CallRecorder`] writing each call as a
//!   stereo WAV ([`LiveWav`]) while it runs; [`recording_peaks`] reads a recording's waveform
//!   for the review player ([`PeaksCache`] keeps the finished ones'); [`RecordingArchiver`]
//!   keeps finished recordings as Ogg Opus and/or in an S3-compatible store
//!   ([`RecordingObjects`]). [`recover_unfinished_calls`] repairs what a stopped engine left.
//! - [`RetentionJob`]: deletes what has passed `[store] retention_days`, keeps what is on hold.
//! - [`CallArchive`]: all of it started together by `hotline serve`.

mod account_admin;
mod accounts;
mod audit_log;
mod call_archive;
mod call_draft;
mod call_filter;
mod call_record;
mod call_sentiment;
mod call_store;
mod clock;
mod config;
mod export;
mod kpi_calls;
mod personal_data;
mod recording;
mod recovery;
mod retention;
mod schema;
mod search_text;
mod sqlite_store;
mod store_metrics;
mod store_writer;
mod unanswered;

pub use account_admin::{TokenSummary, TokenTarget, UserSummary};
pub use accounts::{AccountError, Principal, Role};
pub use audit_log::{AuditAction, AuditEntry};
pub use call_archive::{ArchiveError, CallArchive};
pub use call_draft::CallDraft;
pub use call_filter::{CallFilter, SLOW_ANSWER_MS};
pub use call_record::{
    BridgedLineEntry, CallDetail, CallOutcome, CallRecord, RecordingStatus, TurnEntry, TurnTimings,
    UnredactedTurn,
};
pub use call_store::{
    CallEnding, CallQuery, CallStore, ExpiredCall, LocalRecording, NewBridgedLine, NewCall,
    NewTurn, StoreError, UnfinishedCall,
};
pub use clock::{Clock, SetClock, SystemClock};
pub use config::{
    ArchiveFormat, CallerIdPolicy, DEFAULT_RETENTION_DAYS, RecordingConfig, StoreConfig,
};
pub use export::{ExportedRecording, write_call_archive};
pub use kpi_calls::{KpiCall, REPEAT_CONTACT_MS};
pub use personal_data::{PersonalData, mask_caller};
pub use recording::archiver::{ArchiveReport, RecordingArchiver, peaks_file};
pub use recording::live_wav::{
    BYTES_PER_MS, HEADER_BYTES, LiveWav, RecordingFileError, repair_wav,
};
pub use recording::objects::{ObjectError, RecordingObjects, block_on, is_object};
pub use recording::ogg_opus::{OPUS_EXTENSION, TranscodeError, Transcoded, wav_to_ogg_opus};
pub use recording::peaks::{PEAK_POINTS, PeaksError, RecordingPeaks, recording_peaks};
pub use recording::peaks_cache::{FileStamp, PEAKS_CACHED, PeaksCache};
pub use recording::recorder::{Recordings, day_folder};
pub use recovery::recover_unfinished_calls;
pub use retention::{RETENTION_ACTOR, RetentionJob, RetentionReport};
pub use schema::SCHEMA_VERSION;
pub use search_text::{SearchPattern, SearchText};
pub use sqlite_store::SqliteCallStore;
pub use store_metrics::StoreMetrics;
pub use store_writer::{StoreUpdate, StoreWriter, StoreWriterParts};
pub use unanswered::{UnansweredGroup, UnansweredTurn, group_unanswered};
