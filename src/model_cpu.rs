//! What the engine's other models cost a call: runs and CPU time of speech synthesis (a
//! sentence not in the speech cache) and of the acoustic end-of-turn model, shared by every
//! call and reported on `/metrics` beside Whisper's own counts (`asr::DecodeStats`), so the CPU
//! of an answered turn can be read off a running node part by part.
//!
//! CPU is the thread time of the thread that ran the model: all of the end-of-turn model's
//! (one thread), but not the work of a Piper voice's other `[tts] piper_threads`, nor of an
//! espeak-ng voice (its own process). So the time each run took is counted too (busy
//! seconds): a Piper sentence on N threads costs up to N times that in CPU, an espeak-ng one
//! about that.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::asr::thread_cpu_time;

/// A model other than Whisper whose runs are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// Speech synthesis of one sentence.
    Tts,
    /// The acoustic end-of-turn model at one pause.
    EndOfTurn,
}

impl ModelKind {
    const ALL: [ModelKind; 2] = [ModelKind::Tts, ModelKind::EndOfTurn];

    fn as_str(self) -> &'static str {
        match self {
            ModelKind::Tts => "tts",
            ModelKind::EndOfTurn => "end_of_turn",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Runs and CPU time per model, since the engine started.
#[derive(Debug, Default)]
pub struct ModelCpu {
    runs: [AtomicU64; 2],
    cpu_ns: [AtomicU64; 2],
    busy_ns: [AtomicU64; 2],
}

impl ModelCpu {
    /// Runs `work` on this thread and counts it as one run of `kind`.
    pub fn measure<T>(&self, kind: ModelKind, work: impl FnOnce() -> T) -> T {
        let (before, started) = (thread_cpu_time(), Instant::now());
        let result = work();
        let cpu = thread_cpu_time().saturating_sub(before);
        self.record(kind, cpu, started.elapsed());
        result
    }

    /// Counts one run of `kind` that used `cpu` on its thread and took `busy`.
    pub fn record(&self, kind: ModelKind, cpu: Duration, busy: Duration) {
        let i = kind.index();
        let ns = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.runs[i].fetch_add(1, Ordering::Relaxed);
        self.cpu_ns[i].fetch_add(ns(cpu), Ordering::Relaxed);
        self.busy_ns[i].fetch_add(ns(busy), Ordering::Relaxed);
    }

    /// Runs of `kind` so far.
    pub fn runs(&self, kind: ModelKind) -> u64 {
        self.runs[kind.index()].load(Ordering::Relaxed)
    }

    /// CPU time of those runs (the running thread's).
    pub fn cpu(&self, kind: ModelKind) -> Duration {
        Duration::from_nanos(self.cpu_ns[kind.index()].load(Ordering::Relaxed))
    }

    /// Time those runs took from start to end.
    pub fn busy(&self, kind: ModelKind) -> Duration {
        Duration::from_nanos(self.busy_ns[kind.index()].load(Ordering::Relaxed))
    }

    /// The counters in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        type Value<'a> = &'a dyn Fn(ModelKind) -> String;
        let families: [(&str, &str, Value<'_>); 3] = [
            (
                "hotline_model_runs_total",
                "Runs of models other than Whisper during calls: sentences synthesized (not found in the speech cache), end-of-turn judgements.",
                &|kind| self.runs(kind).to_string(),
            ),
            (
                "hotline_model_cpu_seconds_total",
                "CPU time of those runs on the thread that ran them (a Piper voice's other threads and espeak-ng's process not included).",
                &|kind| format!("{:.6}", self.cpu(kind).as_secs_f64()),
            ),
            (
                "hotline_model_busy_seconds_total",
                "Time those runs took, start to end.",
                &|kind| format!("{:.6}", self.busy(kind).as_secs_f64()),
            ),
        ];
        for (name, help, value) in families {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} counter\n"));
            for kind in ModelKind::ALL {
                out.push_str(&format!(
                    "{name}{{model=\"{}\"}} {}\n",
                    kind.as_str(),
                    value(kind)
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_and_cpu_are_counted_per_model() {
        let meter = ModelCpu::default();
        let sum = meter.measure(ModelKind::EndOfTurn, || {
            (0..2_000_000u64).fold(0u64, |a, b| a.wrapping_add(b * b))
        });
        assert!(sum > 0);
        meter.record(
            ModelKind::Tts,
            Duration::from_millis(250),
            Duration::from_millis(400),
        );
        meter.record(
            ModelKind::Tts,
            Duration::from_millis(250),
            Duration::from_millis(400),
        );
        assert_eq!(meter.runs(ModelKind::Tts), 2);
        assert_eq!(meter.cpu(ModelKind::Tts), Duration::from_millis(500));
        assert_eq!(meter.runs(ModelKind::EndOfTurn), 1);
        assert!(meter.cpu(ModelKind::EndOfTurn) > Duration::ZERO);
        let mut text = String::new();
        meter.render(&mut text);
        for line in [
            "hotline_model_runs_total{model=\"tts\"} 2\n",
            "hotline_model_runs_total{model=\"end_of_turn\"} 1\n",
            "hotline_model_cpu_seconds_total{model=\"tts\"} 0.500000\n",
            "hotline_model_busy_seconds_total{model=\"tts\"} 0.800000\n",
        ] {
            assert!(text.contains(line), "{line:?} in {text}");
        }
    }
}
