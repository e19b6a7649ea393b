//! The media ports of browser calls: one per call from `[webrtc] ports`, handed back when the
//! call's connection is dropped. webrtc-rs 0.21 binds a socket per connection (its UDP mux is
//! not implemented), so a small configured range is what a firewall opens.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// Free ports of the range.
#[derive(Debug)]
pub struct PortPool {
    free: Mutex<BTreeSet<u16>>,
    size: usize,
}

/// One port, in use until dropped.
#[derive(Debug)]
pub struct PortLease {
    pool: Arc<PortPool>,
    port: u16,
}

impl PortPool {
    /// Every port from `first` to `last`, included.
    pub fn new(first: u16, last: u16) -> Arc<Self> {
        let free: BTreeSet<u16> = (first..=last).collect();
        Arc::new(Self {
            size: free.len(),
            free: Mutex::new(free),
        })
    }

    /// Ports in the range.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Ports not leased.
    pub fn available(&self) -> usize {
        self.lock().len()
    }

    /// The lowest free port, or None when every port is in use.
    pub fn lease(self: &Arc<Self>) -> Option<PortLease> {
        let port = self.lock().pop_first()?;
        Some(PortLease {
            pool: Arc::clone(self),
            port,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<u16>> {
        self.free
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl PortLease {
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for PortLease {
    fn drop(&mut self) {
        self.pool.lock().insert(self.port);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_leased_once_and_come_back() {
        let pool = PortPool::new(5000, 5001);
        let a = pool.lease().unwrap();
        let b = pool.lease().unwrap();
        assert_ne!(a.port(), b.port());
        assert!(pool.lease().is_none());
        drop(a);
        assert_eq!(pool.available(), 1);
        assert_eq!(pool.lease().unwrap().port(), 5000);
        assert_eq!(pool.size(), 2);
    }
}
