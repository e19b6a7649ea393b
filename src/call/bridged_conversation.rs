//! After a bridged transfer the caller talks with the agent through this node: the driver
//! keeps the call's recording going (caller left, agent right, on the call's 20 ms clock)
//! until either side hangs up, so the review UI has the whole call, not only the bot's part.

use std::collections::VecDeque;

use hotline_audio::Frame;
use tokio::sync::mpsc;
use tokio::time::Interval;

use super::clock::Millis;
use super::recording_tap::RecordingTap;
use crate::channel::LegEvent;

/// Agent frames waiting for their tick; more than this (network bursts beyond 200 ms) are
/// dropped oldest first, so the agent's side never drifts behind the caller's.
const AGENT_BACKLOG_FRAMES: usize = 10;

/// Follows the bridged conversation on `events` until the leg hangs up or closes: each
/// caller frame goes to the recording as it comes, one agent frame (or silence) per tick of
/// `clock` at call time `now()`.
pub(super) async fn follow_bridged_conversation(
    events: &mut mpsc::Receiver<LegEvent>,
    clock: &mut Interval,
    mut recording: Option<&mut Box<dyn RecordingTap>>,
    now: impl Fn() -> Millis,
) {
    let mut agent: VecDeque<Frame> = VecDeque::new();
    loop {
        tokio::select! {
            biased;
            _ = clock.tick() => {
                let frame = agent.pop_front().unwrap_or_else(Frame::silence);
                if let Some(recording) = recording.as_deref_mut() {
                    recording.bot_frame(now(), &frame);
                }
            }
            event = events.recv() => match event {
                Some(LegEvent::BridgedCaller(frame)) => {
                    if let Some(recording) = recording.as_deref_mut() {
                        recording.caller_frame(&frame);
                    }
                }
                Some(LegEvent::BridgedAgent(frame)) => {
                    if agent.len() == AGENT_BACKLOG_FRAMES {
                        agent.pop_front();
                    }
                    agent.push_back(frame);
                }
                Some(LegEvent::HangUp) | None => return,
                Some(_) => {}
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use hotline_audio::FRAME_SAMPLES;

    use super::*;

    /// What the recording was given: caller frames, and (call time, frame) on the right.
    #[derive(Default)]
    struct Taken {
        caller: Vec<i16>,
        right: Vec<(Millis, i16)>,
    }

    struct CollectingTap(Arc<Mutex<Taken>>);

    impl RecordingTap for CollectingTap {
        fn caller_frame(&mut self, frame: &Frame) {
            self.0.lock().unwrap().caller.push(frame.as_slice()[0]);
        }
        fn bot_frame(&mut self, at: Millis, frame: &Frame) {
            self.0.lock().unwrap().right.push((at, frame.as_slice()[0]));
        }
        fn finish(self: Box<Self>) {}
    }

    fn frame(value: i16) -> Frame {
        Frame::from_array([value; FRAME_SAMPLES])
    }

    #[tokio::test]
    async fn both_sides_are_recorded_on_the_call_clock_until_the_hang_up() {
        let taken = Arc::new(Mutex::new(Taken::default()));
        let mut tap: Box<dyn RecordingTap> = Box::new(CollectingTap(Arc::clone(&taken)));
        let (leg, mut events) = mpsc::channel(64);
        let start = tokio::time::Instant::now();
        let mut clock = tokio::time::interval(Duration::from_millis(20));
        let now = move || Millis(start.elapsed().as_millis() as u64);
        let follow = follow_bridged_conversation(&mut events, &mut clock, Some(&mut tap), now);
        let feed = async {
            // A burst of three agent frames, caller frames in between, then 100 ms of nothing.
            for value in 1..=3 {
                leg.send(LegEvent::BridgedAgent(frame(value)))
                    .await
                    .unwrap();
                leg.send(LegEvent::BridgedCaller(frame(-value)))
                    .await
                    .unwrap();
            }
            // Caller audio meant for the bot no longer counts once bridged.
            leg.send(LegEvent::Audio(frame(99))).await.unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
            leg.send(LegEvent::HangUp).await.unwrap();
        };
        tokio::join!(follow, feed);
        let taken = taken.lock().unwrap();
        assert_eq!(taken.caller, vec![-1, -2, -3]);
        let values: Vec<i16> = taken.right.iter().map(|(_, v)| *v).collect();
        assert!(values.len() >= 5, "{values:?}");
        let agent: Vec<i16> = values.iter().copied().filter(|v| *v != 0).collect();
        assert_eq!(
            agent,
            vec![1, 2, 3],
            "one agent frame per tick, in order: {values:?}"
        );
        let times: Vec<u64> = taken.right.iter().map(|(at, _)| at.0).collect();
        assert!(times.windows(2).all(|w| w[1] >= w[0]), "{times:?}");
    }
}
