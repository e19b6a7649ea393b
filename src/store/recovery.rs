//! Start-up recovery: calls an engine left `in_progress` when it stopped (killed, crashed,
//! power cut) are closed as `recovered`, their recordings repaired from the files' length
//! (`repair_wav`), so what was recorded up to the last flush stays playable.

use super::call_record::{CallOutcome, RecordingStatus};
use super::call_store::{CallEnding, CallStore, StoreError};
use super::recording::live_wav::repair_wav;
use super::store_metrics::StoreMetrics;

/// Closes every unfinished call as `recovered`; the ids closed.
pub fn recover_unfinished_calls(
    store: &dyn CallStore,
    metrics: &StoreMetrics,
) -> Result<Vec<i64>, StoreError> {
    let mut recovered = Vec::new();
    for call in store.unfinished_calls()? {
        let mut length_ms = None;
        if let Some(path) = &call.recording_path {
            match repair_wav(path) {
                Ok(ms) => {
                    store.set_recording(
                        call.id,
                        RecordingStatus::Recovered,
                        None,
                        Some(ms as i64),
                    )?;
                    length_ms = Some(ms);
                }
                Err(error) => {
                    tracing::error!(call = call.id, %error, "the recording of an interrupted call cannot be repaired; marked failed");
                    StoreMetrics::add(&metrics.recordings_failed, 1);
                    store.set_recording(call.id, RecordingStatus::Failed, None, None)?;
                }
            }
        }
        let duration = length_ms
            .unwrap_or(0)
            .max(call.last_turn_end_ms.unwrap_or(0));
        store.close_call(
            call.id,
            &CallEnding {
                ended_at: call.started_at + duration as i64,
                outcome: CallOutcome::Recovered,
                ended_by: Some("engine_stopped".to_string()),
                transfer_reason: None,
                languages: call.languages.clone(),
                barge_ins: 0,
                csat: None,
                sentiment: None,
            },
        )?;
        tracing::warn!(call = call.id, recording_ms = ?length_ms, "call left unfinished by a stopped engine: marked recovered");
        StoreMetrics::add(&metrics.calls_recovered, 1);
        recovered.push(call.id);
    }
    Ok(recovered)
}
