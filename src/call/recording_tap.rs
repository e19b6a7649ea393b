//! `CallRecorder` and `RecordingTap`: where a call driver copies the call's audio, both ways,
//! for its recording. Defined here so the driver knows only these two traits (the store
//! implements them); a tap must never block or fail the 20 ms path: it hands frames to a
//! writer elsewhere and drops (and counts) what that writer cannot take.

use std::sync::Arc;

use hotline_audio::Frame;

use super::clock::Millis;

/// Starts the recording of each call (the store's recorder, when recording is on).
pub trait CallRecorder: Send + Sync {
    /// A tap for call `call_id`; `None` when this call is not recorded (recording off, or
    /// the recording could not start: the recorder logs and counts why, the call goes on).
    fn start(&self, call_id: &Arc<str>) -> Option<Box<dyn RecordingTap>>;
}

/// One call's recording, fed by its driver. Every method returns at once.
pub trait RecordingTap: Send {
    /// A 20 ms frame the caller sent.
    fn caller_frame(&mut self, frame: &Frame);
    /// The 20 ms frame played to the caller at call time `at` (one per driver tick).
    fn bot_frame(&mut self, at: Millis, frame: &Frame);
    /// The call is over for the driver: the recording is finished off the driver's path.
    fn finish(self: Box<Self>);
}
