//! `Frame`: 20 ms of 16 kHz mono 16-bit audio, the one unit of audio the engine passes around.
//!
//! Every channel converts to and from frames at its edge (G.711 at 8 kHz, Opus at 48 kHz), so
//! the inside of the engine never deals with other rates, sizes or sample formats. A frame is a
//! fixed array: making, copying and dropping one never touches the heap.

use crate::level;

/// Sample rate of every [`Frame`], in Hz.
pub const SAMPLE_RATE: u32 = 16_000;
/// Duration of one [`Frame`], in milliseconds.
pub const FRAME_MS: u32 = 20;
/// Samples in one [`Frame`] (20 ms at 16 kHz).
pub const FRAME_SAMPLES: usize = (SAMPLE_RATE * FRAME_MS / 1000) as usize;

/// A slice that cannot become a [`Frame`] because it has the wrong number of samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "a frame is exactly {FRAME_SAMPLES} samples (20 ms at 16 kHz mono) but {actual} samples were given: \
     cut the audio with `split_into_frames` (pads the last frame) or a `FrameAssembler`"
)]
pub struct FrameLengthError {
    /// How many samples the slice had.
    pub actual: usize,
}

/// 20 ms of 16 kHz mono signed 16-bit audio (320 samples).
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    samples: [i16; FRAME_SAMPLES],
}

impl Frame {
    /// A frame of digital silence.
    pub const fn silence() -> Self {
        Self {
            samples: [0; FRAME_SAMPLES],
        }
    }

    /// Wrap an array that already has the right length.
    pub const fn from_array(samples: [i16; FRAME_SAMPLES]) -> Self {
        Self { samples }
    }

    /// Copy exactly [`FRAME_SAMPLES`] samples into a frame.
    pub fn from_slice(samples: &[i16]) -> Result<Self, FrameLengthError> {
        let samples: [i16; FRAME_SAMPLES] = samples.try_into().map_err(|_| FrameLengthError {
            actual: samples.len(),
        })?;
        Ok(Self { samples })
    }

    /// The samples, oldest first.
    pub fn samples(&self) -> &[i16; FRAME_SAMPLES] {
        &self.samples
    }

    /// The samples, for in-place processing (gain, mixing).
    pub fn samples_mut(&mut self) -> &mut [i16; FRAME_SAMPLES] {
        &mut self.samples
    }

    /// The samples as a slice.
    pub fn as_slice(&self) -> &[i16] {
        &self.samples
    }

    /// Unwrap into the sample array.
    pub fn into_array(self) -> [i16; FRAME_SAMPLES] {
        self.samples
    }

    /// Root mean square level on the i16 scale (see [`level::rms`]).
    pub fn rms(&self) -> f32 {
        level::rms(&self.samples)
    }

    /// Level in dBFS, floored at [`level::SILENCE_FLOOR_DBFS`] (see [`level::dbfs`]).
    pub fn dbfs(&self) -> f32 {
        level::dbfs(&self.samples)
    }

    /// Largest absolute sample value.
    pub fn peak(&self) -> u16 {
        level::peak(&self.samples)
    }

    /// True when the frame's level is at or above `threshold_dbfs` (e.g. -50.0): a cheap
    /// "is anything there" test, not a speech detector.
    pub fn is_louder_than(&self, threshold_dbfs: f32) -> bool {
        self.dbfs() >= threshold_dbfs
    }
}

impl Default for Frame {
    fn default() -> Self {
        Self::silence()
    }
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("dbfs", &self.dbfs())
            .field("peak", &self.peak())
            .finish()
    }
}

impl AsRef<[i16]> for Frame {
    fn as_ref(&self) -> &[i16] {
        &self.samples
    }
}

impl TryFrom<&[i16]> for Frame {
    type Error = FrameLengthError;

    fn try_from(samples: &[i16]) -> Result<Self, Self::Error> {
        Self::from_slice(samples)
    }
}

/// Cut 16 kHz mono samples into frames; the last frame is zero-padded. Empty input gives no frames.
pub fn split_into_frames(samples: &[i16]) -> Vec<Frame> {
    samples
        .chunks(FRAME_SAMPLES)
        .map(|chunk| {
            let mut frame = Frame::silence();
            frame.samples[..chunk.len()].copy_from_slice(chunk);
            frame
        })
        .collect()
}

/// Concatenate frames back into one sample buffer.
pub fn join_frames<'a>(frames: impl IntoIterator<Item = &'a Frame>) -> Vec<i16> {
    let frames = frames.into_iter();
    let mut samples = Vec::with_capacity(frames.size_hint().0 * FRAME_SAMPLES);
    for frame in frames {
        samples.extend_from_slice(&frame.samples);
    }
    samples
}

/// How many frames `sample_count` samples fill (the last one possibly partly).
pub fn frames_needed(sample_count: usize) -> usize {
    sample_count.div_ceil(FRAME_SAMPLES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_agree() {
        assert_eq!(FRAME_SAMPLES, 320);
        assert_eq!(FRAME_SAMPLES as u32 * 1000 / SAMPLE_RATE, FRAME_MS);
        assert_eq!(std::mem::size_of::<Frame>(), 640);
    }

    #[test]
    fn from_slice_takes_exactly_one_frame() {
        let samples: Vec<i16> = (0..320).map(|n| n as i16).collect();
        let frame = Frame::from_slice(&samples).unwrap();
        assert_eq!(frame.as_slice(), &samples[..]);
        assert_eq!(frame.clone().into_array()[319], 319);
    }

    #[test]
    fn from_slice_rejects_wrong_lengths_with_the_length() {
        for len in [0, 1, 160, 319, 321, 640] {
            let err = Frame::from_slice(&vec![0; len]).unwrap_err();
            assert_eq!(err.actual, len);
            let message = err.to_string();
            assert!(
                message.contains("320") && message.contains(&len.to_string()),
                "{message}"
            );
        }
    }

    #[test]
    fn split_pads_the_last_frame_and_join_restores_the_samples() {
        let samples: Vec<i16> = (0..1000).map(|n| (n as i16).wrapping_mul(7)).collect();
        let frames = split_into_frames(&samples);
        assert_eq!(frames.len(), 4);
        assert_eq!(frames.len(), frames_needed(samples.len()));
        let joined = join_frames(&frames);
        assert_eq!(joined.len(), 1280);
        assert_eq!(&joined[..1000], &samples[..]);
        assert!(joined[1000..].iter().all(|&s| s == 0));
    }

    #[test]
    fn split_of_exact_multiple_adds_no_padding_frame() {
        assert_eq!(split_into_frames(&[5; 640]).len(), 2);
        assert!(split_into_frames(&[]).is_empty());
    }

    #[test]
    fn loudness_check_separates_silence_from_sound() {
        let quiet = Frame::silence();
        let mut loud = Frame::silence();
        for (n, s) in loud.samples_mut().iter_mut().enumerate() {
            *s = if n % 16 < 8 { 3000 } else { -3000 };
        }
        assert!(!quiet.is_louder_than(-60.0));
        assert!(loud.is_louder_than(-60.0));
        assert!((loud.dbfs() - 20.0 * (3000.0f32 / 32768.0).log10()).abs() < 0.01);
    }
}
