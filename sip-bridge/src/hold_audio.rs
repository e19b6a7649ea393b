//! What the caller hears while a bridged transfer rings the agent: a soft generated chime, or
//! audio the engine passes in (a short "please hold" message), looped.

use std::sync::Arc;

use hotline_audio::{FRAME_SAMPLES, Frame, SAMPLE_RATE};

/// Audio played to the caller while the agent's phone rings.
#[derive(Debug, Clone, Default)]
pub enum HoldAudio {
    /// A quiet two-note chime every 3 s (about -26 dBFS), generated here.
    #[default]
    SoftChime,
    /// The engine's own frames (a hold message or music), looped until the agent answers.
    Frames(Arc<[Frame]>),
    /// Nothing: the caller hears silence.
    Silence,
}

impl HoldAudio {
    /// One loop of the hold audio as frames (never empty).
    pub fn frames(&self) -> Arc<[Frame]> {
        match self {
            HoldAudio::SoftChime => soft_chime(),
            HoldAudio::Frames(frames) if !frames.is_empty() => frames.clone(),
            HoldAudio::Frames(_) | HoldAudio::Silence => Arc::from(vec![Frame::silence()]),
        }
    }
}

/// 0.4 s at 523 Hz (C5), 0.4 s at 659 Hz (E5), 2.2 s of silence; 10 ms fades, peak 1600.
fn soft_chime() -> Arc<[Frame]> {
    const LOOP_FRAMES: usize = 150; // 3 s
    let rate = SAMPLE_RATE as f64;
    let note = (0.4 * rate) as usize;
    let fade = (0.01 * rate) as usize;
    let total = LOOP_FRAMES * FRAME_SAMPLES;
    let mut samples = vec![0i16; total];
    for (index, hz) in [(0usize, 523.25f64), (1, 659.25)] {
        let start = index * note;
        for n in 0..note {
            let edge = n.min(note - 1 - n);
            let envelope = (edge as f64 / fade as f64).min(1.0);
            let t = n as f64 / rate;
            samples[start + n] =
                (1600.0 * envelope * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16;
        }
    }
    samples
        .chunks_exact(FRAME_SAMPLES)
        .filter_map(|chunk| Frame::from_slice(chunk).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chime_is_soft_three_seconds_and_mostly_quiet() {
        let frames = HoldAudio::SoftChime.frames();
        assert_eq!(frames.len(), 150);
        let loud: Vec<f32> = frames.iter().map(|f| f.rms()).collect();
        let peak = loud.iter().cloned().fold(0.0, f32::max);
        assert!(peak > 500.0 && peak < 1300.0, "chime rms {peak}");
        let silent = loud.iter().filter(|&&r| r == 0.0).count();
        assert!(silent >= 105, "{silent} silent frames of 150");
    }

    #[test]
    fn engine_frames_loop_and_empty_means_silence() {
        let mut tone = Frame::silence();
        tone.samples_mut()[0] = 100;
        let given: Arc<[Frame]> = Arc::from(vec![tone.clone(), Frame::silence()]);
        assert_eq!(HoldAudio::Frames(given.clone()).frames(), given);
        let empty: Arc<[Frame]> = Arc::from(Vec::new());
        assert_eq!(
            HoldAudio::Frames(empty).frames().as_ref(),
            &[Frame::silence()]
        );
        assert_eq!(HoldAudio::Silence.frames().as_ref(), &[Frame::silence()]);
    }
}
