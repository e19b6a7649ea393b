//! A call's export archive (`GET /api/calls/{id}/export`): one tar holding `call.json` (the
//! call and its turns), `recording.wav` (or `.opus`) when there is one, and `audit.json`
//! (every audit entry about the call, the export's own included).

use std::io::Write;
use std::path::PathBuf;

use super::audit_log::AuditEntry;
use super::call_record::CallDetail;

/// A call's recording as the export reads it.
pub enum ExportedRecording {
    /// A local file (read as it is written into the archive).
    File(PathBuf),
    /// An object already fetched from the object store, and its extension.
    Fetched { extension: String, bytes: Vec<u8> },
}

/// Writes the archive of `call` to `out`.
pub fn write_call_archive<W: Write>(
    out: W,
    call: &CallDetail,
    recording: Option<ExportedRecording>,
    audit: &[AuditEntry],
) -> std::io::Result<W> {
    let mut archive = tar::Builder::new(out);
    let mut add = |name: &str, bytes: &[u8]| -> std::io::Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime((call.call.started_at / 1000).max(0) as u64);
        header.set_cksum();
        archive.append_data(&mut header, name, bytes)
    };
    add("call.json", &serde_json::to_vec_pretty(call)?)?;
    add("audit.json", &serde_json::to_vec_pretty(audit)?)?;
    match recording {
        Some(ExportedRecording::File(path)) => {
            let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("wav");
            archive.append_path_with_name(&path, format!("recording.{extension}"))?;
        }
        Some(ExportedRecording::Fetched { extension, bytes }) => {
            add(&format!("recording.{extension}"), &bytes)?;
        }
        None => {}
    }
    archive.into_inner()
}
