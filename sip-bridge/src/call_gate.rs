//! Whether the engine above takes new calls now. The bridge does not know the engine's
//! capacity or whether it is stopping, so the engine hands it a [`CallGate`] to ask: OPTIONS
//! (a load balancer's or SBC's health probe) and new INVITEs are answered 503 with
//! `Retry-After` while the gate is not open, before any dialog is made; or, with
//! [`BusyAnswer::Announce`], a new INVITE to a full node goes on to the engine, which answers
//! it with a short spoken "all lines are busy" and hangs up.

use std::sync::Arc;

/// What a new call would meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    Open,
    /// Every line is busy.
    Full,
    /// The engine is stopping: calls running finish, no new ones.
    Draining,
}

/// What a new INVITE gets while every line is busy ([`Availability::Full`]; a draining node
/// always answers 503).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BusyAnswer {
    /// 503 with `Retry-After`: the trunk or caller's carrier decides (tries another node,
    /// plays its own busy tone).
    #[default]
    Reject,
    /// Passed on to the engine like any INVITE: the engine answers it, says that the lines
    /// are busy and hangs up (OPTIONS still get 503, so a load balancer stops sending calls).
    Announce,
}

/// The question the bridge asks on each OPTIONS and INVITE (cheap: an atomic read or two).
#[derive(Clone)]
pub struct CallGate(Arc<dyn Fn() -> Availability + Send + Sync>);

impl CallGate {
    pub fn new(availability: impl Fn() -> Availability + Send + Sync + 'static) -> Self {
        Self(Arc::new(availability))
    }

    /// A gate that is always open (the bridge alone, with no engine limit).
    pub fn always_open() -> Self {
        Self::new(|| Availability::Open)
    }

    pub fn availability(&self) -> Availability {
        (self.0)()
    }
}

impl Default for CallGate {
    fn default() -> Self {
        Self::always_open()
    }
}

impl std::fmt::Debug for CallGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CallGate({:?})", self.availability())
    }
}
