//! Relays one leg's decoded audio into another leg's outbound queue (the media bridge of a
//! bridged transfer). Set while bridged, empty otherwise.
//!
//! The two legs run on their own 20 ms clocks, which drift a little; the target queue is kept
//! short (oldest frames dropped) so the delay through the bridge stays under 100 ms.

use std::sync::{Arc, Mutex};

use hotline_audio::Frame;

use crate::outbound_queue::OutboundQueue;

/// Frames queued towards the other leg before the oldest are dropped (5 × 20 ms).
pub(crate) const BRIDGE_QUEUE_FRAMES: usize = 5;

#[derive(Debug, Default)]
pub(crate) struct FrameForward {
    target: Mutex<Option<Arc<OutboundQueue>>>,
}

impl FrameForward {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Arc<OutboundQueue>>> {
        self.target.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set(&self, target: Option<Arc<OutboundQueue>>) {
        *self.lock() = target;
    }

    pub fn forward(&self, frame: &Frame) {
        if let Some(queue) = self.lock().as_ref() {
            queue.push_capped(frame.clone(), BRIDGE_QUEUE_FRAMES);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwards_only_while_set_and_keeps_the_queue_short() {
        let forward = FrameForward::default();
        let queue = Arc::new(OutboundQueue::new());
        forward.forward(&Frame::silence());
        assert_eq!(queue.len(), 0);
        forward.set(Some(queue.clone()));
        for _ in 0..12 {
            forward.forward(&Frame::silence());
        }
        assert_eq!(queue.len(), BRIDGE_QUEUE_FRAMES);
        forward.set(None);
        forward.forward(&Frame::silence());
        assert_eq!(queue.len(), BRIDGE_QUEUE_FRAMES);
    }
}
