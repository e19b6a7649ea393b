//! The caller's last few hundred ms of audio before speech starts, so an utterance's audio
//! begins before the VAD fired and its first syllable is not clipped.

use std::collections::VecDeque;

use hotline_audio::{FRAME_MS, Frame};

/// A fixed-capacity ring of the most recent caller frames.
#[derive(Debug)]
pub(crate) struct PreRoll {
    frames: VecDeque<Frame>,
    capacity: usize,
}

impl PreRoll {
    pub(crate) fn new(pre_roll_ms: u64) -> Self {
        let capacity = pre_roll_ms.div_ceil(u64::from(FRAME_MS)) as usize;
        Self {
            frames: VecDeque::with_capacity(capacity.max(1)),
            capacity,
        }
    }

    /// Remember a frame, forgetting the oldest one when full.
    pub(crate) fn push(&mut self, frame: &Frame) {
        if self.capacity == 0 {
            return;
        }
        if self.frames.len() == self.capacity {
            self.frames.pop_front();
        }
        self.frames.push_back(frame.clone());
    }

    /// Move the remembered frames, oldest first, onto the end of `samples`.
    pub(crate) fn drain_into(&mut self, samples: &mut Vec<i16>) {
        for frame in self.frames.drain(..) {
            samples.extend_from_slice(frame.as_slice());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_latest_frames_in_order() {
        let mut pre_roll = PreRoll::new(60);
        for value in 1..=5 {
            pre_roll.push(&Frame::from_array([value; 320]));
        }
        let mut samples = Vec::new();
        pre_roll.drain_into(&mut samples);
        assert_eq!(samples.len(), 3 * 320);
        assert_eq!((samples[0], samples[320], samples[640]), (3, 4, 5));
        let mut again = Vec::new();
        pre_roll.drain_into(&mut again);
        assert!(again.is_empty());
    }
}
