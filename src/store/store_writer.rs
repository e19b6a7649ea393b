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
                if let Some(line) = CallDraft::bridged_line(event, &rules, &search)
                    && let Some(id) = draft.call.id
                {
                    store.add_bridged_line(id, &line)?;
                }
                if let Some(summary) = CallDraft::handover_summary(event, &rules)
                    && let Some(id) = draft.call.id
                {
                    store.set_handover_summary(id, &summary)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::{
        CallChannel, CallEnd, CallEvent, CallNotices, EndOfTurnCue, Millis, TurnId, TurnOutcome,
        TurnRecord,
    };
    use crate::dialogue::TransferReason;
    use crate::lang::Lang;
    use crate::store::call_record::CallOutcome;
    use crate::store::clock::SetClock;
    use crate::store::config::StoreConfig;
    use crate::store::sqlite_store::SqliteCallStore;

    fn turn(caller_text: &str) -> TurnRecord {
        TurnRecord {
            turn_id: TurnId(2),
            caller_text: caller_text.to_string(),
            lang: Lang::Yue,
            speech_start: Millis(1000),
            speech_end: Millis(2000),
            end_of_turn: Millis(2300),
            end_of_turn_cue: EndOfTurnCue::Question,
            asr_final: Millis(2350),
            used_speculative: true,
            dialogue_asked: Millis(2350),
            first_sentence: Some(Millis(2400)),
            first_audio_out: Some(Millis(2600)),
            bot_audio_start: Some(Millis(2600)),
            bot_audio_end: Some(Millis(3000)),
            bot_text: "我哋間舖喺旺角。營業時間係十點到九點。".to_string(),
            bot_text_heard: "我哋間舖喺旺角。".to_string(),
            matched_faq: Some("shop_address".to_string()),
            match_score: Some(0.9),
            barge_in_onset: Some(Millis(2900)),
            playback_stopped: Some(Millis(3000)),
            outcome: TurnOutcome::Interrupted,
        }
    }

    /// Waits (at most 5 s) until the writer has stored what `done` looks for.
    fn eventually<T>(mut done: impl FnMut() -> Option<T>) -> T {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            if let Some(value) = done() {
                return value;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the writer never stored it"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    #[test]
    fn notices_become_a_redacted_call_whatever_order_the_recording_reports_come_in() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteCallStore::open(&dir.path().join("calls.sqlite")).unwrap());
        let clock = Arc::new(SetClock::at(1_800_000_000_000));
        let (writer, _thread) = StoreWriter::spawn(StoreWriterParts {
            store: Arc::clone(&store) as Arc<dyn CallStore>,
            rules: PersonalData::new(&StoreConfig::default(), b"key".to_vec()),
            search: store.search_text().clone(),
            clock,
            metrics: Arc::new(StoreMetrics::default()),
            queue: 64,
        })
        .unwrap();
        let notices = CallNotices::new().for_channel(CallChannel::Sip);
        let mut follow = notices.subscribe();
        let call: Arc<str> = Arc::from("call-1");
        // The recording reports its start before the call's first notice is stored.
        writer.send(StoreUpdate::RecordingStarted {
            call_id: Arc::clone(&call),
            path: dir.path().join("call-1.wav"),
        });
        notices.publish(
            &call,
            CallNoticeKind::Started {
                caller: Some("+85291234567".into()),
            },
        );
        notices.publish(
            &call,
            CallNoticeKind::Event(CallEvent::TransferStarted {
                at: Millis(3100),
                reason: TransferReason::CallerAsked,
                summary: "客户问门店地址，留了电话 91234567".into(),
            }),
        );
        notices.publish(
            &call,
            CallNoticeKind::Event(CallEvent::TurnCompleted(Box::new(turn(
                "我嘅電話係 91234567，間舖喺邊？",
            )))),
        );
        notices.publish(
            &call,
            CallNoticeKind::Ended {
                duration: Millis(4000),
                end: CallEnd::Transferred,
            },
        );
        while let Ok(notice) = follow.try_recv() {
            assert!(writer.send(StoreUpdate::Notice(notice)));
        }
        // ... and its end after the call's.
        writer.send(StoreUpdate::RecordingEnded {
            call_id: Arc::clone(&call),
            status: RecordingStatus::Complete,
            length_ms: 4000,
        });
        let detail = eventually(|| {
            store
                .call_detail(1)
                .unwrap()
                .filter(|d| d.call.recording_status == RecordingStatus::Complete)
        });
        let call = &detail.call;
        assert_eq!(call.channel, "sip");
        assert_eq!(call.outcome, CallOutcome::Transferred);
        assert_eq!(call.transfer_reason.as_deref(), Some("caller_asked"));
        assert_eq!(call.ended_at, Some(call.started_at + 4000));
        assert_eq!(call.languages, ["yue"]);
        assert_eq!((call.turn_count, call.barge_ins), (1, 1));
        assert_eq!(call.recording_ms, Some(4000));
        let caller = call.caller.as_deref().unwrap();
        assert!(caller.starts_with("hash:"), "{caller}");
        let turn = &detail.turns[0];
        assert!(
            !turn.caller_text.contains("91234567"),
            "{}",
            turn.caller_text
        );
        assert_eq!(turn.bot_text_heard, "我哋間舖喺旺角。");
        let summary = detail.handover_summary.as_deref().unwrap_or_default();
        assert!(
            summary.contains("门店地址") && !summary.contains("91234567"),
            "the handover summary is kept, redacted: {summary:?}"
        );
        assert_eq!(turn.timings.voice_to_voice_ms, Some(600));
        assert_eq!(turn.timings.barge_in_onset_ms, Some(2900));
        assert_eq!(turn.outcome, "interrupted");
        // Found by what the caller heard, in Simplified.
        let found = store
            .list_calls(&crate::store::CallQuery {
                text: Some("旺角".into()),
                before_id: None,
                limit: 10,
                filter: Default::default(),
            })
            .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(store.unredacted(1).unwrap(), (None, vec![]));
    }
}
