//! Frames the engine wants played to the caller, waiting for their 20 ms slot.
//!
//! The engine pushes whole sentences at once; the media task takes one frame per tick. Barge-in
//! must stop playback at once, so `flush` empties the queue and marks the stream so the encoder
//! state is reset before the next audio.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use hotline_audio::Frame;

/// Shared between the engine's [`crate::CallControl`] and the call's media task.
#[derive(Debug, Default)]
pub struct OutboundQueue {
    frames: Mutex<VecDeque<Frame>>,
    flushed: AtomicBool,
}

impl OutboundQueue {
    pub fn new() -> OutboundQueue {
        OutboundQueue::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Frame>> {
        // A panic while holding this lock cannot leave the deque inconsistent: recover.
        self.frames.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn push(&self, frame: Frame) {
        self.lock().push_back(frame);
    }

    /// Queues a frame, dropping the oldest ones beyond `max` (live relayed audio).
    pub fn push_capped(&self, frame: Frame, max: usize) {
        let mut frames = self.lock();
        frames.push_back(frame);
        while frames.len() > max.max(1) {
            frames.pop_front();
        }
    }

    pub fn extend(&self, frames: impl IntoIterator<Item = Frame>) {
        self.lock().extend(frames);
    }

    /// Drops everything queued; returns how many frames were dropped.
    pub fn flush(&self) -> usize {
        let dropped = {
            let mut frames = self.lock();
            let n = frames.len();
            frames.clear();
            n
        };
        self.flushed.store(true, Ordering::Release);
        dropped
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// The next frame to send, and whether a flush happened since the last call.
    pub fn pop(&self) -> (Option<Frame>, bool) {
        let frame = self.lock().pop_front();
        (frame, self.flushed.swap(false, Ordering::AcqRel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_then_flush_drops_everything_and_is_reported_once() {
        let q = OutboundQueue::new();
        let mut loud = Frame::silence();
        loud.samples_mut()[0] = 1000;
        q.push(loud.clone());
        q.extend([Frame::silence(), Frame::silence()]);
        assert_eq!(q.len(), 3);
        assert_eq!(q.pop(), (Some(loud), false));
        assert_eq!(q.flush(), 2);
        assert_eq!(q.len(), 0);
        assert_eq!(q.pop(), (None, true));
        assert_eq!(q.pop(), (None, false));
    }
}
