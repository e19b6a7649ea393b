//! Who a browser call's visitor is talking to: the bot, nobody yet (a transfer is ringing the
//! agent and the visitor hears hold audio), or the agent. Shared by the leg's control (the
//! bot's audio goes out only while the bot has the line), the reader of the visitor's audio
//! (to the conversation, or to the agent once bridged) and the transfer.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};

use sip_bridge::CallerAudio;

const BOT: u8 = 0;
const TRANSFERRING: u8 = 1;
const AGENT: u8 = 2;

/// Where one frame of the visitor's audio goes.
pub enum VisitorAudio {
    /// To the conversation (the bot listens; also while the agent rings).
    ToConversation,
    /// To the agent, once bridged.
    ToAgent(CallerAudio),
    /// Nowhere: the agent's leg has ended and the call is closing.
    Dropped,
}

/// The visitor's line of one browser call.
#[derive(Default)]
pub struct VisitorLine {
    owner: AtomicU8,
    agent: Mutex<Option<CallerAudio>>,
}

impl VisitorLine {
    /// Whether the bot's audio reaches the visitor (no transfer running or done).
    pub fn bot_has_the_line(&self) -> bool {
        self.owner.load(Ordering::Acquire) == BOT
    }

    /// Whether the visitor has been handed to the agent (the bot's part is over).
    pub fn with_agent(&self) -> bool {
        self.owner.load(Ordering::Acquire) == AGENT
    }

    /// Where the visitor's audio goes now.
    pub fn visitor_audio(&self) -> VisitorAudio {
        if !self.with_agent() {
            return VisitorAudio::ToConversation;
        }
        self.lock()
            .clone()
            .map_or(VisitorAudio::Dropped, VisitorAudio::ToAgent)
    }

    /// Takes the line from the bot for a transfer; false when a transfer already has it.
    pub fn begin_transfer(&self) -> bool {
        self.owner
            .compare_exchange(BOT, TRANSFERRING, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// The transfer failed: the bot has the line again.
    pub fn back_to_bot(&self) {
        *self.lock() = None;
        self.owner.store(BOT, Ordering::Release);
    }

    /// The agent answered: the visitor's audio goes to `agent` from now on.
    pub fn bridge(&self, agent: CallerAudio) {
        *self.lock() = Some(agent);
        self.owner.store(AGENT, Ordering::Release);
    }

    /// The agent's leg ended: the visitor's audio goes nowhere (the call is closing).
    pub fn unbridge(&self) {
        *self.lock() = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<CallerAudio>> {
        self.agent.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_transfer_at_a_time_and_a_failed_one_gives_the_line_back() {
        let line = VisitorLine::default();
        assert!(line.bot_has_the_line());
        assert!(line.begin_transfer());
        assert!(!line.bot_has_the_line());
        assert!(!line.begin_transfer(), "a second transfer must not start");
        line.back_to_bot();
        assert!(line.bot_has_the_line());
        assert!(matches!(line.visitor_audio(), VisitorAudio::ToConversation));
    }
}
