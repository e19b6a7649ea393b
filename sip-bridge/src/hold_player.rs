//! Plays hold audio to the caller while a bridged transfer rings the agent: keeps the caller's
//! side fed from the looped hold frames every 20 ms until stopped, then drops whatever hold
//! audio is still waiting there.
//!
//! Where the frames go is a [`HoldSink`]: a SIP caller's outbound queue (drained by its own
//! pacer, so kept a few frames ahead), or a sink that sends each frame at once (a browser
//! call's track, fed one frame per 20 ms).

use std::sync::Arc;
use std::time::Duration;

use hotline_audio::Frame;
use tokio_util::sync::CancellationToken;

use crate::outbound_queue::OutboundQueue;

/// Frames kept queued ahead of the pacer (60 ms): enough to never starve, little to flush.
const AHEAD: usize = 3;

/// Where a caller's hold audio goes.
pub trait HoldSink: Send + Sync {
    /// How many frames to hand over now; asked every 20 ms. A sink that sends at once wants 1.
    fn frames_wanted(&self) -> usize;
    /// Takes one frame of hold audio.
    fn push_hold_frame(&self, frame: Frame);
    /// The hold is over: drops hold audio still waiting to be sent.
    fn clear_hold(&self);
}

impl HoldSink for OutboundQueue {
    fn frames_wanted(&self) -> usize {
        AHEAD.saturating_sub(self.len())
    }

    fn push_hold_frame(&self, frame: Frame) {
        self.push(frame);
    }

    fn clear_hold(&self) {
        self.flush();
    }
}

pub(crate) struct HoldPlayer {
    stop: CancellationToken,
    sink: Arc<dyn HoldSink>,
}

impl HoldPlayer {
    /// Starts looping `frames` into `sink` (after whatever is already queued plays out).
    pub fn start(sink: Arc<dyn HoldSink>, frames: Arc<[Frame]>) -> HoldPlayer {
        let stop = CancellationToken::new();
        let token = stop.clone();
        let target = sink.clone();
        tokio::spawn(async move {
            let mut next = 0usize;
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            loop {
                tokio::select! {
                    () = token.cancelled() => break,
                    _ = tick.tick() => {
                        if frames.is_empty() {
                            continue;
                        }
                        for _ in 0..target.frames_wanted() {
                            target.push_hold_frame(frames[next % frames.len()].clone());
                            next += 1;
                        }
                    }
                }
            }
        });
        HoldPlayer { stop, sink }
    }

    /// Stops the hold audio and drops what is still queued of it.
    pub fn stop(self) {
        self.stop.cancel();
        self.sink.clear_hold();
    }
}

impl Drop for HoldPlayer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A sink that sends at once: counts what it was given.
    #[derive(Default)]
    struct Immediate {
        frames: Mutex<usize>,
        cleared: Mutex<bool>,
    }

    impl HoldSink for Immediate {
        fn frames_wanted(&self) -> usize {
            1
        }
        fn push_hold_frame(&self, _frame: Frame) {
            *self.frames.lock().unwrap() += 1;
        }
        fn clear_hold(&self) {
            *self.cleared.lock().unwrap() = true;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_queue_is_kept_ahead_and_an_immediate_sink_gets_one_frame_a_tick() {
        let frames: Arc<[Frame]> = Arc::from(vec![Frame::silence(); 4]);
        let queue = Arc::new(OutboundQueue::new());
        let immediate = Arc::new(Immediate::default());
        let queued = HoldPlayer::start(queue.clone(), frames.clone());
        let sent = HoldPlayer::start(immediate.clone(), frames);
        // Ticks at 0, 20, ..., 200 ms: eleven.
        tokio::time::sleep(Duration::from_millis(210)).await;
        assert_eq!(queue.len(), AHEAD);
        assert_eq!(*immediate.frames.lock().unwrap(), 11);
        queued.stop();
        sent.stop();
        assert_eq!(queue.len(), 0);
        assert!(*immediate.cleared.lock().unwrap());
    }
}
