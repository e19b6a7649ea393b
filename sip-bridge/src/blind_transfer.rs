//! Blind transfer (RFC 3515): REFER the caller's trunk to the target, follow the NOTIFY
//! `message/sipfrag` progress, and leave the call (BYE) once the target answered.
//!
//! The Refer-To URI is sent exactly as configured: `tel:` numbers are not rewritten into
//! `sip:` URIs (several trunks reject rewritten targets).

use std::time::Duration;

use rsipstack::sip::{Header, Method};
use tokio::sync::mpsc;
use tracing::info;

use crate::bridge_shared::wait_ended;
use crate::call::{CallLink, HangUpReason};
use crate::sipfrag::ReferProgress;
use crate::transfer_request::TransferError;

pub(crate) async fn refer_caller(
    link: &CallLink,
    target: &str,
    wait: Duration,
) -> Result<(), TransferError> {
    if link.caller_gone() {
        return Err(TransferError::CallEnded);
    }
    let shared = &link.bridge;
    let id = link.dialog.id();
    let (progress_tx, progress) = mpsc::unbounded_channel();
    shared.listen_for_refer(&id, Some(progress_tx));
    let result = refer_and_follow(link, target, wait, progress).await;
    shared.listen_for_refer(&id, None);
    if result.is_ok() {
        link.mark_end_reason(HangUpReason::Transferred);
        link.end().await;
    }
    result
}

async fn refer_and_follow(
    link: &CallLink,
    target: &str,
    wait: Duration,
    mut progress: mpsc::UnboundedReceiver<ReferProgress>,
) -> Result<(), TransferError> {
    let mut headers = vec![Header::ReferTo(format!("<{target}>").into())];
    if let Some(contact) = &link.bridge.udp_contact {
        headers.push(Header::Other("Referred-By".into(), format!("<{contact}>")));
    }
    let response = link
        .dialog
        .request(Method::Refer, Some(headers), None)
        .await
        .map_err(|e| TransferError::Sip(e.to_string()))?;
    let Some(response) = response else {
        return Err(TransferError::CallEnded);
    };
    let code = u16::from(response.status_code.clone());
    if !(200..300).contains(&code) {
        info!(call_id = %link.info.call_id, code, "REFER refused");
        return Err(TransferError::ReferRefused(code));
    }
    info!(call_id = %link.info.call_id, code, %target, "REFER accepted; waiting for NOTIFY");
    let mut ended = link.ended.clone();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        tokio::select! {
            next = progress.recv() => match next {
                Some(ReferProgress::Trying(code)) => {
                    info!(call_id = %link.info.call_id, code, "REFER progress");
                }
                Some(ReferProgress::Succeeded(_)) => return Ok(()),
                Some(ReferProgress::Failed(code)) => return Err(TransferError::ReferTargetFailed(code)),
                None => return Err(TransferError::ReferNoOutcome),
            },
            // The trunk ended our leg after accepting the REFER: it has the caller now.
            _ = wait_ended(&mut ended) => return Ok(()),
            () = tokio::time::sleep_until(deadline) => return Err(TransferError::ReferNoOutcome),
        }
    }
}
