//! `[sip] when_full = "announce"`: a caller who finds every line busy is answered, hears in the
//! node's default language that all lines are busy and to call again later, and the call
//! ends, instead of the 503 a trunk turns into its own busy tone. The words are synthesized
//! once, when the SIP channel starts (a full node is exactly when there is no time for it), and
//! no more announcements play at once than the node has lines: beyond that a caller gets the
//! 503 of `when_full = "reject"`. An announcement costs no line, no ASR and no dialogue: the
//! bridge paces the frames, this task waits for them to leave and hangs up.

use std::sync::Arc;
use std::time::Duration;

use hotline_audio::{Frame, split_into_frames};
use sip_bridge::{CallEvent, IncomingCall, RejectReason};
use tokio::sync::Semaphore;
use tracing::{info, warn};

use crate::lang::Lang;
use crate::tts::{TtsError, Voice};

/// How long after the last frame left the queue the call is hung up (the frames still in the
/// bridge's pacing and the network).
const TAIL: Duration = Duration::from_millis(400);

/// What a caller hears when every line is busy.
pub fn busy_words(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "您好，所有线路正忙，请稍后再拨。",
        Lang::Yue => "你好，所有線路都繁忙，請稍後再打嚟。",
        Lang::En => "Hello, all our lines are busy. Please call again later.",
    }
}

/// The announcement, synthesized, and how many may play at once.
pub struct BusyAnnouncement {
    frames: Arc<[Frame]>,
    playing: Arc<Semaphore>,
}

impl BusyAnnouncement {
    /// Synthesizes [`busy_words`] of `lang` with `voice` (blocking: call it off the async
    /// runtime); at most `at_once` announcements play together.
    pub fn synthesize(voice: &dyn Voice, lang: Lang, at_once: usize) -> Result<Self, TtsError> {
        let speech = voice.synthesize(busy_words(lang))?;
        Ok(Self {
            frames: split_into_frames(&speech.samples).into(),
            playing: Arc::new(Semaphore::new(at_once.max(1))),
        })
    }

    /// How long the words last.
    pub fn duration(&self) -> Duration {
        Duration::from_millis(self.frames.len() as u64 * 20)
    }

    /// Answers `incoming`, plays the announcement and hangs up, on a task of the current
    /// runtime; or answers 503 when as many announcements already play as allowed.
    pub fn play(&self, incoming: IncomingCall) {
        let Ok(permit) = Arc::clone(&self.playing).try_acquire_owned() else {
            info!(
                call_id = incoming.call_id(),
                "SIP call refused: every line and every busy announcement is taken"
            );
            incoming.reject(RejectReason::Overloaded);
            return;
        };
        let frames = Arc::clone(&self.frames);
        let longest = self.duration() + Duration::from_secs(3);
        tokio::spawn(async move {
            let _permit = permit;
            let call_id = incoming.call_id().to_string();
            let mut call = match incoming.answer().await {
                Ok(call) => call,
                Err(error) => {
                    return warn!(%call_id, %error, "busy announcement: call not answered");
                }
            };
            info!(%call_id, "every line is busy: answering with the busy announcement");
            let control = call.control();
            control.send_frames(frames.iter().cloned());
            let deadline = tokio::time::Instant::now() + longest;
            loop {
                tokio::select! {
                    event = call.recv() => match event {
                        // The caller hung up first.
                        None | Some(CallEvent::HangUp(_)) => return,
                        Some(_) => {}
                    },
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {
                        if control.queued_frames() == 0 || tokio::time::Instant::now() > deadline {
                            break;
                        }
                    }
                }
            }
            tokio::time::sleep(TAIL).await;
            control.hang_up().await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_are_short_and_in_each_language() {
        for lang in [Lang::Zh, Lang::Yue, Lang::En] {
            let words = busy_words(lang);
            assert!(words.chars().count() < 60, "{words}");
        }
        assert!(busy_words(Lang::Yue).contains('嚟'));
        assert!(busy_words(Lang::En).contains("busy"));
    }
}
