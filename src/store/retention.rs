//! The retention job: calls older than `[store] retention_days` are deleted with their
//! recordings, unless on legal hold; every deletion is written to the audit log (what was
//! deleted: call id, channel leg, start, recording) before the call goes. Time comes from a
//! [`Clock`], so tests move it instead of waiting.

use std::sync::Arc;

use super::audit_log::AuditAction;
use super::call_store::{CallStore, ExpiredCall, StoreError};
use super::clock::Clock;
use super::recording::archiver::peaks_file;
use super::recording::objects::{RecordingObjects, block_on, is_object};
use super::sqlite_store::SqliteCallStore;

/// The actor the deletion job writes in the audit log.
pub const RETENTION_ACTOR: &str = "retention";

/// Deletes what has passed its retention period.
pub struct RetentionJob {
    pub store: Arc<SqliteCallStore>,
    pub clock: Arc<dyn Clock>,
    pub retention_days: u32,
    /// Where recordings archived to an object store are deleted.
    pub objects: Arc<RecordingObjects>,
}

/// What one run deleted.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RetentionReport {
    pub deleted: Vec<ExpiredCall>,
    /// Recording files that could not be removed (the call record is deleted anyway).
    pub files_left: Vec<String>,
}

impl RetentionJob {
    /// Deletes a recording's file or object; one already gone is no error.
    fn delete_recording_file(&self, file: &std::path::Path) -> Result<(), String> {
        if is_object(file) {
            return block_on(self.objects.delete(file)).map_err(|e| e.to_string());
        }
        match std::fs::remove_file(file) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(error.to_string()),
        }
    }

    /// Deletes every call started before now minus the retention period, not on hold.
    pub fn run_once(&self) -> Result<RetentionReport, StoreError> {
        let now = self.clock.now_ms();
        let cutoff = now - i64::from(self.retention_days) * 86_400_000;
        let mut report = RetentionReport::default();
        for call in self.store.expired_calls(cutoff)? {
            let detail = serde_json::json!({
                "leg_id": call.leg_id,
                "started_at": call.started_at,
                "recording": call.recording_path.as_ref().map(|p| p.display().to_string()),
                "reason": format!("older than {} days", self.retention_days),
            })
            .to_string();
            self.store.audit(
                now,
                RETENTION_ACTOR,
                AuditAction::Delete,
                Some(call.id),
                &detail,
            )?;
            if let Some(path) = &call.recording_path {
                // An archived recording's waveform peaks go with it.
                for file in [peaks_file(path), path.clone()] {
                    if let Err(error) = self.delete_recording_file(&file) {
                        tracing::error!(call = call.id, path = %file.display(), %error, "cannot delete an expired recording; delete it by hand");
                        report.files_left.push(file.display().to_string());
                    }
                }
            }
            self.store.delete_call(call.id)?;
            report.deleted.push(call);
        }
        if !report.deleted.is_empty() {
            tracing::info!(
                deleted = report.deleted.len(),
                "retention: expired calls deleted"
            );
        }
        Ok(report)
    }
}
