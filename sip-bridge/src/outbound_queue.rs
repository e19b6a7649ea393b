//! What the engine wants sent to the caller, waiting for its 20 ms slot: audio frames, and
//! DTMF key presses (which go before the audio still queued).
//!
//! The engine pushes whole sentences at once; the media task takes one frame per tick. Barge-in
//! must stop playback at once, so `flush` empties the audio queue and marks the stream so the
//! encoder state is reset before the next audio. Keys are not flushed: they were asked for.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use hotline_audio::Frame;

use crate::dtmf_sender::DtmfTone;

/// Keys that may wait at once (a long IVR path is 20-30 keys).
pub(crate) const MAX_QUEUED_KEYS: usize = 64;

/// Shared between the engine's [`crate::CallControl`] and the call's media task.
#[derive(Debug, Default)]
pub struct OutboundQueue {
    frames: Mutex<VecDeque<Frame>>,
    flushed: AtomicBool,
    keys: Mutex<VecDeque<DtmfTone>>,
    /// Keys waiting, readable without the lock (the media task looks every 20 ms).
    keys_waiting: AtomicUsize,
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

    /// Queues key presses, all or none; returns how many keys were waiting before, or
    /// `Err(waiting)` when they would not fit under [`MAX_QUEUED_KEYS`].
    pub(crate) fn push_keys(&self, tones: &[DtmfTone]) -> Result<usize, usize> {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let waiting = keys.len();
        if waiting + tones.len() > MAX_QUEUED_KEYS {
            return Err(waiting);
        }
        keys.extend(tones.iter().copied());
        self.keys_waiting.store(keys.len(), Ordering::Release);
        Ok(waiting)
    }

    /// The next key press to send, if any (no lock taken when none waits).
    pub(crate) fn pop_key(&self) -> Option<DtmfTone> {
        if self.keys_waiting.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let tone = keys.pop_front();
        self.keys_waiting.store(keys.len(), Ordering::Release);
        tone
    }

    /// Drops waiting keys (the peer stopped accepting telephone-events); returns how many.
    pub(crate) fn drop_keys(&self) -> usize {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let dropped = keys.len();
        keys.clear();
        self.keys_waiting.store(0, Ordering::Release);
        dropped
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

    #[test]
    fn keys_queue_in_order_all_or_none_and_survive_a_flush() {
        let q = OutboundQueue::new();
        let key = |d| DtmfTone::new(d, std::time::Duration::from_millis(100)).unwrap();
        assert_eq!(q.pop_key(), None);
        assert_eq!(q.push_keys(&[key('1'), key('2')]), Ok(0));
        q.flush();
        assert_eq!(q.pop_key(), Some(key('1')));
        let too_many = vec![key('3'); MAX_QUEUED_KEYS];
        assert_eq!(q.push_keys(&too_many), Err(1));
        assert_eq!(q.pop_key(), Some(key('2')));
        assert_eq!(q.pop_key(), None);
        q.push_keys(&[key('4')]).unwrap();
        assert_eq!(q.drop_keys(), 1);
        assert_eq!(q.pop_key(), None);
    }
}
