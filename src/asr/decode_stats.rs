//! What Whisper costs, by why each decode ran: counts and CPU time per [`DecodeKind`], kept
//! by the shared [`Transcriber`](super::Transcriber) and reported on `/metrics`, so the CPU a
//! call spends on partials, pause-time (speculative) decodes, finals and barge-in checks is
//! visible rather than guessed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Why a decode runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecodeKind {
    /// A look at a caller still speaking (live captions): greedy, skipped when slots are busy.
    Partial,
    /// The final transcript asked for at the first pause, before the end of turn is decided.
    Speculative,
    /// The final transcript asked for at the end of turn (no speculative one was usable), or
    /// outside calls (CLI, warm-up).
    Final,
    /// The transcript that decides whether sound over the bot's voice is an interruption.
    BargeIn,
}

impl DecodeKind {
    /// Every kind, in the order `/metrics` lists them.
    pub const ALL: [DecodeKind; 4] = [
        DecodeKind::Partial,
        DecodeKind::Speculative,
        DecodeKind::Final,
        DecodeKind::BargeIn,
    ];

    /// The label on `/metrics`.
    pub fn as_str(self) -> &'static str {
        match self {
            DecodeKind::Partial => "partial",
            DecodeKind::Speculative => "speculative",
            DecodeKind::Final => "final",
            DecodeKind::BargeIn => "barge_in",
        }
    }

    /// A partial: decoded only when a slot is free, greedy, and given up for any final.
    pub fn is_partial(self) -> bool {
        self == DecodeKind::Partial
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Decodes run and their CPU time, per kind, since the model was loaded.
#[derive(Debug, Default)]
pub struct DecodeStats {
    decodes: [AtomicU64; 4],
    cancelled: [AtomicU64; 4],
    cpu_ns: [AtomicU64; 4],
}

impl DecodeStats {
    /// Count one decode of `kind` that used `cpu` (cancelled: stopped before it finished).
    pub fn record(&self, kind: DecodeKind, cpu: Duration, cancelled: bool) {
        let i = kind.index();
        self.decodes[i].fetch_add(1, Ordering::Relaxed);
        if cancelled {
            self.cancelled[i].fetch_add(1, Ordering::Relaxed);
        }
        let ns = u64::try_from(cpu.as_nanos()).unwrap_or(u64::MAX);
        self.cpu_ns[i].fetch_add(ns, Ordering::Relaxed);
    }

    /// Decodes of `kind` so far (cancelled ones included).
    pub fn decodes(&self, kind: DecodeKind) -> u64 {
        self.decodes[kind.index()].load(Ordering::Relaxed)
    }

    /// Decodes of `kind` stopped before they finished.
    pub fn cancelled(&self, kind: DecodeKind) -> u64 {
        self.cancelled[kind.index()].load(Ordering::Relaxed)
    }

    /// CPU time spent in decodes of `kind`.
    pub fn cpu(&self, kind: DecodeKind) -> Duration {
        Duration::from_nanos(self.cpu_ns[kind.index()].load(Ordering::Relaxed))
    }

    /// The counters in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = writeln!(
            out,
            "# HELP hotline_asr_decodes_total Whisper decodes, by why they ran.\n# TYPE hotline_asr_decodes_total counter"
        );
        for kind in DecodeKind::ALL {
            let _ = writeln!(
                out,
                "hotline_asr_decodes_total{{kind=\"{}\"}} {}",
                kind.as_str(),
                self.decodes(kind)
            );
        }
        let _ = writeln!(
            out,
            "# HELP hotline_asr_decodes_cancelled_total Whisper decodes stopped before they finished (the caller went on, or a final needed the slot).\n# TYPE hotline_asr_decodes_cancelled_total counter"
        );
        for kind in DecodeKind::ALL {
            let _ = writeln!(
                out,
                "hotline_asr_decodes_cancelled_total{{kind=\"{}\"}} {}",
                kind.as_str(),
                self.cancelled(kind)
            );
        }
        let _ = writeln!(
            out,
            "# HELP hotline_asr_decode_cpu_seconds_total CPU time of Whisper decodes (encoder and decoder), by why they ran.\n# TYPE hotline_asr_decode_cpu_seconds_total counter"
        );
        for kind in DecodeKind::ALL {
            let _ = writeln!(
                out,
                "hotline_asr_decode_cpu_seconds_total{{kind=\"{}\"}} {:.6}",
                kind.as_str(),
                self.cpu(kind).as_secs_f64()
            );
        }
    }
}

/// CPU time the calling thread has used so far (Linux `CLOCK_THREAD_CPUTIME_ID`); zero where
/// it cannot be read.
pub fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec it is given.
    let read = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    if read != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_cpu_are_kept_per_kind_and_rendered() {
        let stats = DecodeStats::default();
        stats.record(DecodeKind::Partial, Duration::from_millis(120), true);
        stats.record(DecodeKind::Speculative, Duration::from_millis(300), false);
        stats.record(DecodeKind::Speculative, Duration::from_millis(200), false);
        assert_eq!(stats.decodes(DecodeKind::Speculative), 2);
        assert_eq!(
            stats.cpu(DecodeKind::Speculative),
            Duration::from_millis(500)
        );
        assert_eq!(stats.cancelled(DecodeKind::Partial), 1);
        assert_eq!(stats.decodes(DecodeKind::BargeIn), 0);
        let mut text = String::new();
        stats.render(&mut text);
        for line in [
            "hotline_asr_decodes_total{kind=\"speculative\"} 2\n",
            "hotline_asr_decodes_cancelled_total{kind=\"partial\"} 1\n",
            "hotline_asr_decode_cpu_seconds_total{kind=\"speculative\"} 0.500000\n",
            "hotline_asr_decodes_total{kind=\"barge_in\"} 0\n",
        ] {
            assert!(text.contains(line), "{line:?} in {text}");
        }
    }

    #[test]
    fn thread_cpu_time_grows_with_work() {
        let before = thread_cpu_time();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(thread_cpu_time() > before);
    }
}
