//! What the agent of a bridged transfer hears before the caller is connected (a spoken summary
//! of the conversation): frames ready at once, or frames still being synthesised. A pending
//! briefing lets the transfer start right away, so the caller hears hold audio at once instead
//! of silence while text-to-speech runs; the bridge waits for it only once the agent answers.

use std::sync::Arc;
use std::time::Duration;

use hotline_audio::Frame;
use tokio::sync::watch;

/// The agent's briefing (16 kHz frames).
#[derive(Debug, Clone)]
pub enum AgentBriefing {
    Ready(Arc<[Frame]>),
    /// Delivered later through the [`BriefingSender`] from [`AgentBriefing::pending`].
    Pending(watch::Receiver<Option<Arc<[Frame]>>>),
}

/// Hands a pending briefing its frames; dropping it unsent means "no briefing".
#[derive(Debug)]
pub struct BriefingSender(watch::Sender<Option<Arc<[Frame]>>>);

impl BriefingSender {
    pub fn send(self, frames: Arc<[Frame]>) {
        self.0.send(Some(frames)).ok();
    }
}

impl From<Arc<[Frame]>> for AgentBriefing {
    fn from(frames: Arc<[Frame]>) -> Self {
        AgentBriefing::Ready(frames)
    }
}

impl AgentBriefing {
    /// A briefing whose frames come later, and the handle that delivers them.
    pub fn pending() -> (BriefingSender, AgentBriefing) {
        let (sender, receiver) = watch::channel(None);
        (BriefingSender(sender), AgentBriefing::Pending(receiver))
    }

    /// The frames, waiting up to `wait` for a pending briefing; `None` when it was dropped
    /// unsent or is not ready in time (the agent is then connected without it).
    pub async fn frames(&self, wait: Duration) -> Option<Arc<[Frame]>> {
        match self {
            AgentBriefing::Ready(frames) => Some(frames.clone()),
            AgentBriefing::Pending(receiver) => {
                let mut receiver = receiver.clone();
                let ready = tokio::time::timeout(wait, receiver.wait_for(Option::is_some)).await;
                match ready {
                    Ok(Ok(frames)) => frames.clone(),
                    _ => None,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pending_frames_arrive_dropped_or_late_mean_none() {
        let frames: Arc<[Frame]> = Arc::from(vec![Frame::silence(); 2]);
        let ready = AgentBriefing::from(frames.clone());
        assert_eq!(ready.frames(Duration::ZERO).await, Some(frames.clone()));

        let (sender, pending) = AgentBriefing::pending();
        let later = frames.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            sender.send(later);
        });
        assert_eq!(pending.frames(Duration::from_secs(5)).await, Some(frames));

        let (sender, dropped) = AgentBriefing::pending();
        drop(sender);
        assert_eq!(dropped.frames(Duration::from_secs(5)).await, None);

        let (_sender, slow) = AgentBriefing::pending();
        assert_eq!(slow.frames(Duration::from_millis(10)).await, None);
    }
}
