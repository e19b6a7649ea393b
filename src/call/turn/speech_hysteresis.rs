//! Speech or silence per frame from the VAD's probability, with two thresholds so a probability
//! hovering around one value does not flip the decision every frame.

use crate::call::config::VadConfig;

/// The VAD state of the caller's line.
#[derive(Debug, Clone)]
pub(crate) struct SpeechHysteresis {
    start_threshold: f32,
    stop_threshold: f32,
    in_speech: bool,
}

impl SpeechHysteresis {
    pub(crate) fn new(config: &VadConfig) -> Self {
        Self {
            start_threshold: config.start_threshold,
            stop_threshold: config.stop_threshold.min(config.start_threshold),
            in_speech: false,
        }
    }

    /// Feed one frame's speech probability; true when the frame is speech.
    pub(crate) fn update(&mut self, speech_prob: f32) -> bool {
        self.in_speech = if self.in_speech {
            speech_prob >= self.stop_threshold
        } else {
            speech_prob >= self.start_threshold
        };
        self.in_speech
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speech_starts_high_and_ends_low() {
        let mut vad = SpeechHysteresis::new(&VadConfig::default());
        let decisions: Vec<bool> = [0.2, 0.45, 0.6, 0.4, 0.36, 0.3, 0.45, 0.5]
            .into_iter()
            .map(|p| vad.update(p))
            .collect();
        assert_eq!(
            decisions,
            [false, false, true, true, true, false, false, true]
        );
    }
}
