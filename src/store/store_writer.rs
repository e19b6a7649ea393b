//! `StoreWriter`: the task that keeps the store up to date from the calls' notices and the
//! recorder's reports, on a thread of its own behind a bounded queue, so a slow disk never
//! reaches a call: what does not fit the queue is dropped and counted
//! (`hotline_store_updates_dropped_total`), never waited for.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use tokio::sync::broadcast;

use crate::call::{CallNotice, CallNoticeKind};

use super::call_draft::CallDraft;
use super::call_record::RecordingStatus;
use super::call_store::{CallStore, NewCall, StoreError};
use super::clock::Clock;
use super::personal_data::PersonalData;
use super::search_text::SearchText;
use super::store_metrics::StoreMetrics;

/// One thing for the writer to store.
#[derive(Debug)]
pub enum StoreUpdate {
    /// A call's notice (start, event, end).
    Notice(CallNotice),
    /// Call `call_id`'s recording started at `path`.
    RecordingStarted { call_id: Arc<str>, path: PathBuf },
    /// Call `call_id`'s recording is over.
    RecordingEnded {
        call_id: Arc<str>,
        status: RecordingStatus,
        length_ms: i64,
    },
}

/// The sending side of the writer's queue; cheap to clone.
#[derive(Clone)]
pub struct StoreWriter {
    intake: SyncSender<StoreUpdate>,
    metrics: Arc<StoreMetrics>,
}

impl std::fmt::Debug for StoreWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreWriter").finish_non_exhaustive()
    }
}

/// What the writer thread needs.
pub struct StoreWriterParts {
    pub store: Arc<dyn CallStore>,
    pub rules: PersonalData,
    pub search: SearchText,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<StoreMetrics>,
    /// Updates queued before new ones are dropped.
    pub queue: usize,
}

impl StoreWriter {
    /// Starts the writer thread; it ends when every `StoreWriter` is dropped.
    pub fn spawn(parts: StoreWriterParts) -> std::io::Result<(Self, std::thread::JoinHandle<()>)> {
        let (intake, updates) = sync_channel(parts.queue);
        let metrics = Arc::clone(&parts.metrics);
        let thread = std::thread::Builder::new()
            .name("call-store-writer".into())
            .spawn(move || write_updates(parts, updates))?;
        Ok((Self { intake, metrics }, thread))
    }

    /// Queues `update`; false (and counted) when the queue is full or the writer is gone.
    pub fn send(&self, update: StoreUpdate) -> bool {
        match self.intake.try_send(update) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                StoreMetrics::add(&self.metrics.updates_dropped, 1);
                false
            }
        }
    }

    /// Forwards every call notice to the writer until the notices end.
    pub async fn follow(self, mut notices: broadcast::Receiver<CallNotice>) {
        loop {
            match notices.recv().await {
                Ok(notice) => {
                    self.send(StoreUpdate::Notice(notice));
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "the call store fell behind the calls' notices");
                    StoreMetrics::add(&self.metrics.updates_dropped, missed);
                }
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    }
}

/// A recording report that came before its call was stored.
struct PendingRecording {
    path: Option<PathBuf>,
    status: RecordingStatus,
    length_ms: Option<i64>,
}

/// The writer's state: one draft per running call (kept after the end until its recording is
/// finished too).
struct Writer {
    parts: StoreWriterParts,
    drafts: HashMap<Arc<str>, Draft>,
}

struct Draft {
    call: CallDraft,
    ended: bool,
    /// A recording report waiting for the call to be stored.
    pending: Option<PendingRecording>,
    /// A recording started and has not ended yet.
    recording_running: bool,
}

fn write_updates(parts: StoreWriterParts, updates: Receiver<StoreUpdate>) {
    let mut writer = Writer {
        parts,
        drafts: HashMap::new(),
    };
    while let Ok(update) = updates.recv() {
        if let Err(error) = writer.apply(update) {
            tracing::error!(%error, "call store update failed; the call goes on");
            StoreMetrics::add(&writer.parts.metrics.store_errors, 1);
        }
    }
}

impl Writer {
    fn apply(&mut self, update: StoreUpdate) -> Result<(), StoreError> {
        match update {
            StoreUpdate::Notice(notice) => self.on_notice(notice),
            StoreUpdate::RecordingStarted { call_id, path } => self.on_recording(
                call_id,
                PendingRecording {
                    path: Some(path),
                    status: RecordingStatus::Recording,
                    length_ms: None,
                },
            ),
            StoreUpdate::RecordingEnded {
                call_id,
                status,
                length_ms,
            } => self.on_recording(
                call_id,
                PendingRecording {
                    path: None,
                    status,
                    length_ms: Some(length_ms),
                },
            ),
        }
    }

    fn draft(&mut self, call_id: &Arc<str>) -> &mut Draft {
        let now = self.parts.clock.now_ms();
        self.drafts
            .entry(Arc::clone(call_id))
            .or_insert_with(|| Draft {
                call: CallDraft::new(now),
                ended: false,
                pending: None,
                recording_running: false,
            })
    }

    fn on_notice(&mut self, notice: CallNotice) -> Result<(), StoreError> {
        let store = Arc::clone(&self.parts.store);
        match &notice.kind {
            CallNoticeKind::Started { caller } => {
                // A leg id seen again after its call ended is a new call.
                if self.drafts.get(&notice.call_id).is_some_and(|d| d.ended) {
                    self.drafts.remove(&notice.call_id);
                }
                let (caller, caller_unredacted) = self.parts.rules.caller(caller.as_deref());
                let metrics = Arc::clone(&self.parts.metrics);
                let draft = self.draft(&notice.call_id);
                let id = store.open_call(&NewCall {
                    leg_id: notice.call_id.to_string(),
                    channel: notice.channel.as_str().to_string(),
                    caller,
                    caller_unredacted,
                    started_at: draft.call.started_at,
                })?;
                draft.call.id = Some(id);
                StoreMetrics::add(&metrics.calls_stored, 1);
                if let Some(pending) = draft.pending.take() {
                    store.set_recording(
                        id,
                        pending.status,
                        pending.path.as_deref(),
                        pending.length_ms,
                    )?;
                }
            }
            CallNoticeKind::Event(event) => {
                let rules = self.parts.rules.clone();
                let search = self.parts.search.clone();
                let Some(draft) = self.drafts.get_mut(&notice.call_id) else {
                    return Ok(());
                };
                if let Some(turn) = draft.call.on_event(event, &rules, &search)
                    && let Some(id) = draft.call.id
                {
                    store.add_turn(id, &turn)?;
                }
            }
            CallNoticeKind::Ended { duration, end } => {
                let Some(draft) = self.drafts.get_mut(&notice.call_id) else {
                    return Ok(());
                };
                draft.ended = true;
                let ending = draft
                    .call
                    .ending(*end, draft.call.started_at + duration.0 as i64);
                let id = draft.call.id;
                if !draft.recording_running {
                    self.drafts.remove(&notice.call_id);
                }
                if let Some(id) = id {
                    store.close_call(id, &ending)?;
                }
            }
        }
        Ok(())
    }

    fn on_recording(
        &mut self,
        call_id: Arc<str>,
        report: PendingRecording,
    ) -> Result<(), StoreError> {
        let store = Arc::clone(&self.parts.store);
        let draft = self.draft(&call_id);
        draft.recording_running = report.status == RecordingStatus::Recording;
        match draft.call.id {
            Some(id) => {
                store.set_recording(id, report.status, report.path.as_deref(), report.length_ms)?
            }
            None => match &mut draft.pending {
                Some(pending) => {
                    pending.status = report.status;
                    pending.length_ms = report.length_ms.or(pending.length_ms);
                }
                None => draft.pending = Some(report),
            },
        }
        if draft.ended && !draft.recording_running {
            self.drafts.remove(&call_id);
        }
        Ok(())
    }
}
