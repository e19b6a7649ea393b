//! `Millis`: time inside a call, counted from the call's start.
//!
//! The session never reads a clock: every input comes with the time it happened, so tests drive a
//! whole conversation on a simulated clock at full speed and every timestamp in a turn record is
//! an offset into the call (and into its recording).

use std::fmt;

use hotline_audio::FRAME_MS;
use serde::{Deserialize, Serialize};

/// Milliseconds since the call started.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Millis(pub u64);

impl Millis {
    /// The start of the call.
    pub const ZERO: Millis = Millis(0);

    /// This time plus `ms` milliseconds.
    pub const fn plus(self, ms: u64) -> Millis {
        Millis(self.0 + ms)
    }

    /// Milliseconds from `earlier` to this time; 0 when `earlier` is later.
    pub const fn since(self, earlier: Millis) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    /// The number of the 20 ms frame slot this time falls in (0 for 0..20 ms).
    pub const fn frame_index(self) -> u64 {
        self.0 / FRAME_MS as u64
    }
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ms", self.0)
    }
}
