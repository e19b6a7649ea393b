//! `VadSegmenter`: per-frame speech probabilities in, speech start/end events out.
//!
//! Pure logic (no model, no clock: time is the frame count), so it is tested with synthetic
//! probability sequences. The rules follow Silero's own segmentation:
//! - Speech *starts* when the probability reaches `start_threshold` and stays at or above
//!   `end_threshold` for `min_speech_ms`; the event is reported then, dated back to the first
//!   frame (minus an optional pre-roll).
//! - Once in speech, a frame below `end_threshold` starts a trailing-silence run; a frame at or
//!   above `start_threshold` cancels it (frames between the two thresholds neither start nor
//!   cancel it). Speech *ends* when the run reaches `hangover_ms`; the end is dated to the
//!   run's first frame.
//!
//! The hangover can be changed at any time ([`VadSegmenter::set_hangover_ms`]), and the caller
//! can read the current trailing silence to make its own end-of-turn decisions.

use crate::frame::FRAME_MS;

/// Thresholds and durations for [`VadSegmenter`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadConfig {
    /// Probability at which speech may start (and which cancels trailing silence). Silero: 0.5.
    pub start_threshold: f32,
    /// Probability below which speech counts as pausing (hysteresis). Silero: start - 0.15.
    pub end_threshold: f32,
    /// Speech must last this long before `SpeechStart` is reported (filters clicks and coughs).
    pub min_speech_ms: u32,
    /// Trailing silence that ends speech.
    pub hangover_ms: u32,
    /// How far before the detected onset `SpeechStart::start_frame` is placed, so that audio
    /// taken from there includes the soft beginning of the first word.
    pub pre_roll_ms: u32,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self {
            start_threshold: 0.5,
            end_threshold: 0.35,
            min_speech_ms: 200,
            hangover_ms: 600,
            pre_roll_ms: 200,
        }
    }
}

/// A change of speech state, in frames counted from the segmenter's creation (or last reset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VadEvent {
    /// Speech began at `start_frame` (onset minus pre-roll, never before the previous end).
    SpeechStart {
        /// First frame of the utterance, pre-roll included.
        start_frame: u64,
        /// `start_frame` in milliseconds.
        start_ms: u64,
        /// Frame at which the start was detected (onset + minimum speech).
        detected_frame: u64,
    },
    /// Speech ended: `end_frame` is the first frame of the trailing silence.
    SpeechEnd {
        /// First silent frame after the utterance.
        end_frame: u64,
        /// `end_frame` in milliseconds.
        end_ms: u64,
        /// Frame at which the end was detected (end + hangover).
        detected_frame: u64,
        /// Frames from `SpeechStart::start_frame` to `end_frame`.
        speech_frames: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Silence,
    /// Probability crossed the start threshold at `onset`; waiting for the minimum duration.
    Onset {
        onset: u64,
    },
    /// In speech since `start_frame`; `silence_since` is the start of a trailing-silence run.
    Speech {
        start_frame: u64,
        silence_since: Option<u64>,
    },
}

/// Turns per-frame speech probabilities into [`VadEvent`]s.
#[derive(Debug, Clone)]
pub struct VadSegmenter {
    config: VadConfig,
    state: State,
    /// Index of the next frame to be pushed.
    next_frame: u64,
    /// End of the last utterance (pre-roll never reaches back into it).
    last_end: u64,
}

fn ms_to_frames(ms: u32) -> u64 {
    u64::from(ms.div_ceil(FRAME_MS))
}

impl VadSegmenter {
    /// A segmenter in the silence state.
    pub fn new(config: VadConfig) -> Self {
        Self {
            config,
            state: State::Silence,
            next_frame: 0,
            last_end: 0,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &VadConfig {
        &self.config
    }

    /// Change the hangover (e.g. adaptive end-of-turn); applies from the next frame, to the
    /// silence run already under way too.
    pub fn set_hangover_ms(&mut self, hangover_ms: u32) {
        self.config.hangover_ms = hangover_ms;
    }

    /// Replace the whole configuration; applies from the next frame.
    pub fn set_config(&mut self, config: VadConfig) {
        self.config = config;
    }

    /// Feed the speech probability of the next 20 ms frame.
    pub fn push(&mut self, probability: f32) -> Option<VadEvent> {
        let frame = self.next_frame;
        self.next_frame += 1;
        let VadConfig {
            start_threshold,
            end_threshold,
            ..
        } = self.config;
        match self.state {
            State::Silence => {
                if probability >= start_threshold {
                    self.state = State::Onset { onset: frame };
                    return self.maybe_confirm(frame);
                }
                None
            }
            State::Onset { .. } => {
                if probability < end_threshold {
                    self.state = State::Silence;
                    return None;
                }
                self.maybe_confirm(frame)
            }
            State::Speech {
                start_frame,
                silence_since,
            } => {
                let silence_since = if probability >= start_threshold {
                    None
                } else if probability < end_threshold {
                    silence_since.or(Some(frame))
                } else {
                    silence_since
                };
                self.state = State::Speech {
                    start_frame,
                    silence_since,
                };
                match silence_since {
                    Some(since) if frame + 1 - since >= ms_to_frames(self.config.hangover_ms) => {
                        Some(self.end_speech(start_frame, since, frame))
                    }
                    _ => None,
                }
            }
        }
    }

    fn maybe_confirm(&mut self, frame: u64) -> Option<VadEvent> {
        let State::Onset { onset } = self.state else {
            return None;
        };
        if frame + 1 - onset < ms_to_frames(self.config.min_speech_ms).max(1) {
            return None;
        }
        let start_frame = onset
            .saturating_sub(ms_to_frames(self.config.pre_roll_ms))
            .max(self.last_end);
        self.state = State::Speech {
            start_frame,
            silence_since: None,
        };
        Some(VadEvent::SpeechStart {
            start_frame,
            start_ms: start_frame * u64::from(FRAME_MS),
            detected_frame: frame,
        })
    }

    fn end_speech(&mut self, start_frame: u64, end_frame: u64, detected_frame: u64) -> VadEvent {
        self.state = State::Silence;
        self.last_end = end_frame;
        VadEvent::SpeechEnd {
            end_frame,
            end_ms: end_frame * u64::from(FRAME_MS),
            detected_frame,
            speech_frames: end_frame - start_frame,
        }
    }

    /// End of stream (hang-up): closes an utterance in progress at its trailing silence, or
    /// at the current frame if there is none.
    pub fn finish(&mut self) -> Option<VadEvent> {
        match self.state {
            State::Speech {
                start_frame,
                silence_since,
            } => {
                let end = silence_since.unwrap_or(self.next_frame);
                let detected = self.next_frame.saturating_sub(1);
                Some(self.end_speech(start_frame, end, detected))
            }
            State::Onset { .. } => {
                self.state = State::Silence;
                None
            }
            State::Silence => None,
        }
    }

    /// True between `SpeechStart` and `SpeechEnd`.
    pub fn is_speaking(&self) -> bool {
        matches!(self.state, State::Speech { .. })
    }

    /// First frame of the utterance in progress (pre-roll included), if any.
    pub fn speech_start_frame(&self) -> Option<u64> {
        match self.state {
            State::Speech { start_frame, .. } => Some(start_frame),
            _ => None,
        }
    }

    /// Length of the current trailing-silence run inside an utterance, in frames (0 when not
    /// in speech, or when the latest frames are speech).
    pub fn trailing_silence_frames(&self) -> u64 {
        match self.state {
            State::Speech {
                silence_since: Some(since),
                ..
            } => self.next_frame - since,
            _ => 0,
        }
    }

    /// [`Self::trailing_silence_frames`] in milliseconds.
    pub fn trailing_silence_ms(&self) -> u64 {
        self.trailing_silence_frames() * u64::from(FRAME_MS)
    }

    /// Frames pushed so far.
    pub fn frames_seen(&self) -> u64 {
        self.next_frame
    }

    /// Back to silence at frame 0, keeping the configuration.
    pub fn reset(&mut self) {
        *self = Self::new(self.config);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> VadConfig {
        VadConfig {
            start_threshold: 0.5,
            end_threshold: 0.35,
            min_speech_ms: 100, // 5 frames
            hangover_ms: 200,   // 10 frames
            pre_roll_ms: 60,    // 3 frames
        }
    }

    /// Push a run of `count` frames with probability `p`, collecting events with their index.
    fn run(segmenter: &mut VadSegmenter, p: f32, count: usize, events: &mut Vec<VadEvent>) {
        for _ in 0..count {
            events.extend(segmenter.push(p));
        }
    }

    #[test]
    fn one_utterance_gives_start_then_end_with_the_right_frames() {
        let mut segmenter = VadSegmenter::new(config());
        let mut events = Vec::new();
        run(&mut segmenter, 0.05, 20, &mut events); // frames 0..20
        run(&mut segmenter, 0.9, 30, &mut events); // 20..50
        assert!(segmenter.is_speaking());
        run(&mut segmenter, 0.1, 15, &mut events); // 50..65
        assert!(!segmenter.is_speaking());
        assert_eq!(
            events,
            vec![
                VadEvent::SpeechStart {
                    start_frame: 17,
                    start_ms: 340,
                    detected_frame: 24
                },
                VadEvent::SpeechEnd {
                    end_frame: 50,
                    end_ms: 1000,
                    detected_frame: 59,
                    speech_frames: 33
                },
            ]
        );
    }

    #[test]
    fn short_bursts_below_min_speech_are_ignored() {
        let mut segmenter = VadSegmenter::new(config());
        let mut events = Vec::new();
        for _ in 0..10 {
            run(&mut segmenter, 0.95, 4, &mut events); // 80 ms < 100 ms
            run(&mut segmenter, 0.0, 6, &mut events);
        }
        assert!(events.is_empty(), "{events:?}");
        assert!(!segmenter.is_speaking());
    }

    #[test]
    fn hysteresis_keeps_speech_through_middling_probabilities() {
        let mut segmenter = VadSegmenter::new(config());
        let mut events = Vec::new();
        run(&mut segmenter, 0.8, 10, &mut events);
        // Between the thresholds: neither starts nor ends a silence run, for a long time.
        run(&mut segmenter, 0.4, 100, &mut events);
        assert!(segmenter.is_speaking());
        assert_eq!(segmenter.trailing_silence_frames(), 0);
        assert_eq!(events.len(), 1);
        // Onset probabilities between thresholds do not start speech either.
        let mut fresh = VadSegmenter::new(config());
        let mut none = Vec::new();
        run(&mut fresh, 0.45, 50, &mut none);
        assert!(none.is_empty());
    }

    #[test]
    fn a_pause_shorter_than_the_hangover_does_not_split_speech() {
        let mut segmenter = VadSegmenter::new(config());
        let mut events = Vec::new();
        run(&mut segmenter, 0.9, 20, &mut events);
        run(&mut segmenter, 0.1, 9, &mut events); // 180 ms pause < 200 ms hangover
        assert_eq!(segmenter.trailing_silence_frames(), 9);
        assert_eq!(segmenter.trailing_silence_ms(), 180);
        run(&mut segmenter, 0.9, 20, &mut events);
        assert_eq!(segmenter.trailing_silence_frames(), 0);
        run(&mut segmenter, 0.1, 10, &mut events);
        assert_eq!(events.len(), 2, "{events:?}");
        assert!(matches!(
            events[1],
            VadEvent::SpeechEnd { end_frame: 49, .. }
        ));
    }

    #[test]
    fn a_silence_run_continues_through_middling_probabilities() {
        let mut segmenter = VadSegmenter::new(config());
        let mut events = Vec::new();
        run(&mut segmenter, 0.9, 10, &mut events);
        run(&mut segmenter, 0.2, 3, &mut events); // run starts at frame 10
        run(&mut segmenter, 0.45, 5, &mut events); // does not cancel it
        assert_eq!(segmenter.trailing_silence_frames(), 8);
        run(&mut segmenter, 0.2, 2, &mut events); // 10 frames: hangover reached
        assert!(matches!(
            events.last(),
            Some(VadEvent::SpeechEnd {
                end_frame: 10,
                detected_frame: 19,
                ..
            })
        ));
    }

    #[test]
    fn hangover_can_change_during_a_pause() {
        let mut segmenter = VadSegmenter::new(config());
        let mut events = Vec::new();
        run(&mut segmenter, 0.9, 10, &mut events);
        run(&mut segmenter, 0.0, 6, &mut events);
        assert!(segmenter.is_speaking());
        segmenter.set_hangover_ms(100); // 5 frames: the 7th silent frame ends it
        run(&mut segmenter, 0.0, 1, &mut events);
        assert!(!segmenter.is_speaking());
        assert!(matches!(
            events.last(),
            Some(VadEvent::SpeechEnd {
                end_frame: 10,
                detected_frame: 16,
                ..
            })
        ));

        segmenter.set_hangover_ms(2000);
        run(&mut segmenter, 0.9, 10, &mut events);
        run(&mut segmenter, 0.0, 99, &mut events);
        assert!(segmenter.is_speaking());
        assert_eq!(segmenter.trailing_silence_ms(), 1980);
    }

    #[test]
    fn pre_roll_never_reaches_into_the_previous_utterance_or_before_zero() {
        let mut segmenter = VadSegmenter::new(VadConfig {
            pre_roll_ms: 1000,
            ..config()
        });
        let mut events = Vec::new();
        run(&mut segmenter, 0.9, 10, &mut events);
        run(&mut segmenter, 0.0, 12, &mut events); // ends at 10, detected at 19
        run(&mut segmenter, 0.9, 10, &mut events); // onset 22
        assert!(matches!(
            events[0],
            VadEvent::SpeechStart { start_frame: 0, .. }
        ));
        assert!(matches!(
            events[2],
            VadEvent::SpeechStart {
                start_frame: 10,
                ..
            }
        ));
    }

    #[test]
    fn finish_closes_an_open_utterance() {
        let mut segmenter = VadSegmenter::new(config());
        let mut events = Vec::new();
        run(&mut segmenter, 0.9, 30, &mut events);
        assert_eq!(
            segmenter.finish(),
            Some(VadEvent::SpeechEnd {
                end_frame: 30,
                end_ms: 600,
                detected_frame: 29,
                speech_frames: 30
            })
        );
        assert_eq!(segmenter.finish(), None);
        segmenter.reset();
        assert_eq!(segmenter.frames_seen(), 0);
    }

    #[test]
    fn zero_minimum_speech_starts_on_the_first_loud_frame() {
        let mut segmenter = VadSegmenter::new(VadConfig {
            min_speech_ms: 0,
            pre_roll_ms: 0,
            ..config()
        });
        assert_eq!(segmenter.push(0.1), None);
        assert_eq!(
            segmenter.push(0.7),
            Some(VadEvent::SpeechStart {
                start_frame: 1,
                start_ms: 20,
                detected_frame: 1
            })
        );
    }
}
