//! The node's life as a load balancer sees it: how many calls it takes at once
//! ([`Admission`], shared by every channel) and how it stops without cutting calls off
//! ([`drain_on_signal`]). `/readyz`, SIP OPTIONS and `/metrics` report both.

mod admission;
mod drain;

pub use admission::{Admission, Availability, CallPermit, RETRY_AFTER_SECS, Refusal};
pub use drain::drain_on_signal;
