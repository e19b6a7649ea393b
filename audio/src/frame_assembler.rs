//! `FrameAssembler`: turns a stream of 16 kHz chunks of any length (WebSocket media messages,
//! resampler output, file reads) into whole [`Frame`]s, keeping the remainder for the next push.

use crate::frame::{FRAME_SAMPLES, Frame};

/// Collects 16 kHz mono samples and hands out complete 20 ms frames. No heap use.
#[derive(Clone)]
pub struct FrameAssembler {
    pending: [i16; FRAME_SAMPLES],
    filled: usize,
}

impl FrameAssembler {
    /// An empty assembler.
    pub const fn new() -> Self {
        Self {
            pending: [0; FRAME_SAMPLES],
            filled: 0,
        }
    }

    /// Add samples; `on_frame` is called once for every frame they complete, in order.
    pub fn push(&mut self, mut samples: &[i16], mut on_frame: impl FnMut(Frame)) {
        while !samples.is_empty() {
            let take = (FRAME_SAMPLES - self.filled).min(samples.len());
            self.pending[self.filled..self.filled + take].copy_from_slice(&samples[..take]);
            self.filled += take;
            samples = &samples[take..];
            if self.filled == FRAME_SAMPLES {
                on_frame(Frame::from_array(self.pending));
                self.filled = 0;
            }
        }
    }

    /// Samples waiting for the next frame (0 ..= 319).
    pub fn pending_samples(&self) -> usize {
        self.filled
    }

    /// The waiting samples as a zero-padded frame (end of stream), or `None` if nothing waits.
    pub fn flush_padded(&mut self) -> Option<Frame> {
        if self.filled == 0 {
            return None;
        }
        let mut frame = Frame::silence();
        frame.samples_mut()[..self.filled].copy_from_slice(&self.pending[..self.filled]);
        self.filled = 0;
        Some(frame)
    }

    /// Drop the waiting samples.
    pub fn clear(&mut self) {
        self.filled = 0;
    }
}

impl Default for FrameAssembler {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::join_frames;

    #[test]
    fn odd_chunk_sizes_make_the_same_frames_as_one_buffer() {
        let samples: Vec<i16> = (0..2000).map(|n| (n * 13 % 4000) as i16 - 2000).collect();
        let mut assembler = FrameAssembler::new();
        let mut frames = Vec::new();
        for chunk in samples.chunks(77) {
            assembler.push(chunk, |frame| frames.push(frame));
        }
        assert_eq!(frames.len(), 6);
        assert_eq!(assembler.pending_samples(), 2000 - 6 * 320);
        frames.extend(assembler.flush_padded());
        assert_eq!(assembler.pending_samples(), 0);
        let joined = join_frames(&frames);
        assert_eq!(&joined[..2000], &samples[..]);
        assert!(joined[2000..].iter().all(|&s| s == 0));
        assert!(assembler.flush_padded().is_none());
    }

    #[test]
    fn one_big_push_emits_every_frame() {
        let mut assembler = FrameAssembler::new();
        let mut count = 0;
        assembler.push(&[1; 320 * 5], |frame| {
            assert!(frame.samples().iter().all(|&s| s == 1));
            count += 1;
        });
        assert_eq!(count, 5);
        assert_eq!(assembler.pending_samples(), 0);
    }

    #[test]
    fn clear_drops_pending_samples() {
        let mut assembler = FrameAssembler::new();
        assembler.push(&[9; 100], |_| panic!("no frame yet"));
        assembler.clear();
        assert!(assembler.flush_padded().is_none());
    }
}
