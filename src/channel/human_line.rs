//! The human line as channels other than SIP reach it: the running SIP user agent's agent
//! dialer, which the SIP channel puts here while its bridge runs (`[sip] enabled`), so a
//! browser call can be handed to an agent's phone even where no call comes in over SIP.

use std::sync::{Arc, Mutex};

use sip_bridge::AgentDialer;

/// Shared by the SIP channel (which connects it) and the browser channel (which dials through
/// it); clone freely. Empty while `[sip]` is off or its bridge is not running.
#[derive(Clone, Default)]
pub struct HumanLine {
    dialer: Arc<Mutex<Option<AgentDialer>>>,
}

impl HumanLine {
    /// The line is up: agents are called through `dialer` (or no longer, with `None`).
    pub fn connect(&self, dialer: Option<AgentDialer>) {
        *self.lock() = dialer;
    }

    /// How to call an agent now; `None` while the SIP user agent is not running.
    pub fn dialer(&self) -> Option<AgentDialer> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<AgentDialer>> {
        self.dialer.lock().unwrap_or_else(|p| p.into_inner())
    }
}
