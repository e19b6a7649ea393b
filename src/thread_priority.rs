//! CPU priority of the engine's threads. A call's 20 ms RTP packet is due at a fixed instant;
//! model inference (the VAD on every caller chunk, Whisper, Piper) is not. On a busy box both
//! want the same cores, and at equal priority Linux lets a woken pacing thread wait a slice
//! behind an inference run: with 200 calls of noisy lines this was 6 ms of jitter (issue #4).
//! So the engine runtime's threads run at a lower priority (a positive nice, allowed to every
//! user) and the SIP bridge's pacing thread at a higher one where the process may
//! (`CAP_SYS_NICE`, or root), falling back to the normal priority with one log line.

use std::io;

/// Sets the calling thread's nice value (-20 highest … 19 lowest). Linux keeps nice per
/// thread, and threads this one starts later inherit it.
pub fn set_this_thread_nice(nice: i32) -> io::Result<()> {
    let nice = nice.clamp(-20, 19);
    // SAFETY: gettid has no preconditions; setpriority with PRIO_PROCESS and a thread id of the
    // calling process changes only that thread's nice value and reports failure via errno.
    let outcome = unsafe {
        let thread_id = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, thread_id as libc::id_t, nice)
    };
    if outcome == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The calling thread's nice value.
pub fn this_thread_nice() -> io::Result<i32> {
    // SAFETY: as above; getpriority may return -1 as a valid value, so errno is cleared first
    // and read after.
    unsafe {
        *libc::__errno_location() = 0;
        let thread_id = libc::gettid();
        let nice = libc::getpriority(libc::PRIO_PROCESS, thread_id as libc::id_t);
        if nice == -1 && *libc::__errno_location() != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(nice)
    }
}

/// Gives the calling thread the pacing priority `nice` (negative: above normal). Without the
/// privilege to raise priority it stays where it is; the engine's threads still run below it
/// when `[server] compute_nice` is positive. Returns whether the priority was applied.
pub fn raise_this_thread(nice: i32, what: &str) -> bool {
    match set_this_thread_nice(nice) {
        Ok(()) => {
            tracing::debug!(nice, "{what} runs at raised CPU priority");
            true
        }
        Err(error) => {
            tracing::info!(
                nice,
                %error,
                "{what} runs at normal CPU priority: raising it needs CAP_SYS_NICE (or root); \
                 grant it, or set the priority to 0 in the config to silence this"
            );
            false
        }
    }
}

/// Lowers the calling thread to `nice` (0 leaves it alone). Used as the engine runtime's
/// `on_thread_start`, so every worker and blocking thread (and the ONNX / Whisper threads they
/// start) runs below the pacing thread.
pub fn lower_this_thread(nice: i32) {
    if nice <= 0 {
        return;
    }
    if let Err(error) = set_this_thread_nice(nice) {
        tracing::warn!(nice, %error, "cannot lower a compute thread's CPU priority");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_can_lower_its_own_priority_and_keeps_it_to_itself() {
        let before = this_thread_nice().expect("read the test thread's nice");
        let lowered = std::thread::spawn(move || {
            lower_this_thread(before + 3);
            let own = this_thread_nice().expect("read own nice");
            let child = std::thread::spawn(|| this_thread_nice().expect("read child's nice"))
                .join()
                .expect("child thread");
            (own, child)
        })
        .join()
        .expect("lowered thread");
        assert_eq!(lowered, ((before + 3).min(19), (before + 3).min(19)));
        assert_eq!(this_thread_nice().expect("read again"), before);
    }

    #[test]
    fn out_of_range_values_are_clamped_not_refused() {
        let nice = std::thread::spawn(|| {
            set_this_thread_nice(40).expect("lowering is always allowed");
            this_thread_nice().expect("read own nice")
        })
        .join()
        .expect("thread");
        assert_eq!(nice, 19);
    }
}
