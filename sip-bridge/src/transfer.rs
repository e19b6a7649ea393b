//! Runs a transfer in the requested mode: REFER, bridge, or REFER falling back to bridge.

use std::sync::Arc;

use tracing::warn;

use crate::blind_transfer::refer_caller;
use crate::bridged_transfer::bridge_to_agent;
use crate::call::CallLink;
use crate::transfer_request::{
    TransferCompleted, TransferError, TransferMode, TransferRequest, TransferResult,
};

pub(crate) async fn run(
    link: &Arc<CallLink>,
    target: &str,
    request: &TransferRequest,
) -> TransferResult {
    match request.mode {
        TransferMode::Blind => refer_caller(link, target, request.ring_timeout)
            .await
            .map(|()| TransferCompleted::Referred),
        TransferMode::Bridged => bridge_to_agent(link, target, request)
            .await
            .map(|()| TransferCompleted::Bridged),
        TransferMode::BlindThenBridged => {
            match refer_caller(link, target, request.ring_timeout).await {
                Ok(()) => Ok(TransferCompleted::Referred),
                Err(TransferError::CallEnded) => Err(TransferError::CallEnded),
                Err(refer) => {
                    warn!(call_id = %link.info.call_id, %refer, "blind transfer failed; bridging instead");
                    match bridge_to_agent(link, target, request).await {
                        Ok(()) => Ok(TransferCompleted::Bridged),
                        Err(TransferError::CallEnded) => Err(TransferError::CallEnded),
                        Err(bridged) => Err(TransferError::BothFailed {
                            refer: Box::new(refer),
                            bridged: Box::new(bridged),
                        }),
                    }
                }
            }
        }
    }
}
