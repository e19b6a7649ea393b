//! `CallNotices`: where call drivers publish what happens in their calls (start, every
//! [`CallEvent`], end) for whoever listens: metrics, widget captions, the call store. A broadcast
//! channel, so listeners come and go without the calls knowing; a listener that falls behind
//! is told how many notices it missed.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::call::call_channel::CallChannel;
use crate::call::call_event::CallEvent;
use crate::call::clock::Millis;

/// Notices kept for a slow listener before it starts missing some.
const NOTICE_BUFFER: usize = 4096;

/// One thing that happened in one call.
#[derive(Debug, Clone)]
pub struct CallNotice {
    /// The leg's id (stream sid, SIP Call-ID ...).
    pub call_id: Arc<str>,
    /// Where the call came from (as the publisher was told: [`CallNotices::for_channel`]).
    pub channel: CallChannel,
    pub kind: CallNoticeKind,
}

/// What a [`CallNotice`] says.
#[derive(Debug, Clone)]
pub enum CallNoticeKind {
    /// A driver started on the call.
    Started { caller: Option<String> },
    /// The session reported an event.
    Event(CallEvent),
    /// The driver finished: the call is over for the bot.
    Ended { duration: Millis, end: CallEnd },
}

/// Why a driver stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallEnd {
    /// The caller hung up (or the channel closed).
    CallerHungUp,
    /// The bot hung up.
    BotHungUp,
    /// The caller was handed to a human.
    Transferred,
    /// The call could not run (the per-call VAD did not load).
    Failed,
}

/// The publishing side; clone it into every driver.
#[derive(Debug, Clone)]
pub struct CallNotices {
    sender: broadcast::Sender<CallNotice>,
    /// Stamped on every notice this handle publishes.
    channel: CallChannel,
}

impl Default for CallNotices {
    fn default() -> Self {
        Self::new()
    }
}

impl CallNotices {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(NOTICE_BUFFER);
        Self {
            sender,
            channel: CallChannel::Unknown,
        }
    }

    /// A handle on the same notices that stamps `channel` on what it publishes (one per call
    /// driver).
    pub fn for_channel(&self, channel: CallChannel) -> Self {
        Self {
            sender: self.sender.clone(),
            channel,
        }
    }

    /// A new listener; it sees notices published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<CallNotice> {
        self.sender.subscribe()
    }

    /// Publishes one notice (dropped when nobody listens).
    pub fn publish(&self, call_id: &Arc<str>, kind: CallNoticeKind) {
        let _ = self.sender.send(CallNotice {
            call_id: Arc::clone(call_id),
            channel: self.channel,
            kind,
        });
    }
}
