//! `DecodeCancel`: stops a Whisper decode that is already running. Aborting the tokio task
//! only drops the wait; the decode itself runs on a blocking thread and, unstopped, holds its
//! core for hundreds of ms after nobody wants the result (a partial overtaken by the final,
//! a speculative decode the caller talked over). whisper.cpp (1.8) asks an abort callback
//! after the encoder pass and after every decoded token; this flag is what it reads. The
//! encoder pass itself is not interruptible, so a cancelled decode still finishes that.

use std::ffi::c_void;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use whisper_rs::FullParams;

/// A shared flag: set it and the decode watching it stops at its next check.
#[derive(Debug, Clone, Default)]
pub struct DecodeCancel(Arc<AtomicBool>);

impl DecodeCancel {
    pub fn new() -> Self {
        Self::default()
    }

    /// Ask the decode to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Whether `other` is a clone of this flag.
    pub fn same_as(&self, other: &DecodeCancel) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Make the decode run with `params` stop once this flag is set. `params` must not outlive
    /// `self` (the callback reads the flag through a raw pointer).
    pub(super) fn watch(&self, params: &mut FullParams<'_, '_>) {
        let flag = Arc::as_ptr(&self.0) as *mut c_void;
        // SAFETY: the callback only reads the AtomicBool behind `flag`; the caller keeps `self`
        // (and so the Arc's allocation) alive for as long as the decode using `params` runs.
        unsafe {
            params.set_abort_callback(Some(abort_when_cancelled));
            params.set_abort_callback_user_data(flag);
        }
    }
}

unsafe extern "C" fn abort_when_cancelled(flag: *mut c_void) -> bool {
    // SAFETY: `flag` is the pointer set in `DecodeCancel::watch`, alive for the whole decode.
    let flag = unsafe { &*(flag as *const AtomicBool) };
    flag.load(Ordering::Relaxed)
}
