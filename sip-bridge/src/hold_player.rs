//! Plays hold audio to the caller while a bridged transfer rings the agent: keeps the
//! caller's outbound queue topped up from the looped hold frames until stopped, then drops
//! whatever hold audio is still queued.

use std::sync::Arc;
use std::time::Duration;

use hotline_audio::Frame;
use tokio_util::sync::CancellationToken;

use crate::outbound_queue::OutboundQueue;

/// Frames kept queued ahead of the pacer (60 ms): enough to never starve, little to flush.
const AHEAD: usize = 3;

pub(crate) struct HoldPlayer {
    stop: CancellationToken,
    queue: Arc<OutboundQueue>,
}

impl HoldPlayer {
    /// Starts looping `frames` into `queue` (after whatever is already queued plays out).
    pub fn start(queue: Arc<OutboundQueue>, frames: Arc<[Frame]>) -> HoldPlayer {
        let stop = CancellationToken::new();
        let token = stop.clone();
        let target = queue.clone();
        tokio::spawn(async move {
            let mut next = 0usize;
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            loop {
                tokio::select! {
                    () = token.cancelled() => break,
                    _ = tick.tick() => {
                        while target.len() < AHEAD && !frames.is_empty() {
                            target.push(frames[next % frames.len()].clone());
                            next += 1;
                        }
                    }
                }
            }
        });
        HoldPlayer { stop, queue }
    }

    /// Stops the hold audio and drops what is still queued of it.
    pub fn stop(self) {
        self.stop.cancel();
        self.queue.flush();
    }
}

impl Drop for HoldPlayer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
