//! `CallMetrics`: per-turn latency histograms and call counters, fed from the call drivers'
//! notices (every [`TurnRecord`](crate::call::TurnRecord), barge-in and false barge-in) and
//! served at `/metrics` in the Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use tokio::sync::broadcast;

use super::histogram::{Histogram, LATENCY_BUCKETS};
use crate::call::{
    CallEvent, CallNotice, CallNoticeKind, FalseBargeInReason, FaultKind, TurnOutcome, WaitingFor,
};

/// Labels of the false barge-in counter, in the order of [`false_barge_in_index`].
const FALSE_BARGE_IN_REASONS: [&str; 8] = [
    "echo",
    "too_short",
    "protection_window",
    "backchannel",
    "nothing_recognised",
    "not_interruptible",
    "low_confidence",
    "implausible",
];
/// Labels of the turn counter, in the order of [`outcome_index`].
const TURN_OUTCOMES: [&str; 6] = [
    "answered",
    "interrupted",
    "superseded",
    "preempted",
    "call_ended",
    "failed",
];

/// Everything `/metrics` reports about calls.
#[derive(Debug)]
pub struct CallMetrics {
    voice_to_voice: Histogram,
    end_of_turn_delay: Histogram,
    asr_wait: Histogram,
    dialogue_first_sentence: Histogram,
    tts_first_audio: Histogram,
    barge_in_reaction: Histogram,
    turns: [AtomicU64; TURN_OUTCOMES.len()],
    barge_ins: AtomicU64,
    false_barge_ins: [AtomicU64; FALSE_BARGE_IN_REASONS.len()],
    /// Parts that failed in a call, by [`FaultKind::ALL`] order.
    faults: [AtomicU64; FaultKind::ALL.len()],
    /// Holding phrases said while a slow part was waited for, by [`WaitingFor::ALL`] order.
    holdings: [AtomicU64; WaitingFor::ALL.len()],
    calls_active: AtomicI64,
    calls_total: AtomicU64,
    missed_notices: AtomicU64,
}

impl Default for CallMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl CallMetrics {
    pub fn new() -> Self {
        let h = |name, help| Histogram::new(name, help, LATENCY_BUCKETS);
        Self {
            voice_to_voice: h(
                "hotline_voice_to_voice_seconds",
                "Caller's last speech frame to the first audible frame of the answer.",
            ),
            end_of_turn_delay: h(
                "hotline_end_of_turn_delay_seconds",
                "Caller's last speech frame to the end of turn decided.",
            ),
            asr_wait: h(
                "hotline_asr_wait_seconds",
                "End of turn to the transcript available (0 when the speculative decode was ready).",
            ),
            dialogue_first_sentence: h(
                "hotline_dialogue_first_sentence_seconds",
                "Dialogue engine asked to its first sentence.",
            ),
            tts_first_audio: h(
                "hotline_tts_first_audio_seconds",
                "First sentence to its first audible frame played (synthesis and queueing).",
            ),
            barge_in_reaction: h(
                "hotline_barge_in_reaction_seconds",
                "Caller's interruption onset to the bot's playback stopped.",
            ),
            turns: Default::default(),
            barge_ins: AtomicU64::new(0),
            false_barge_ins: Default::default(),
            faults: Default::default(),
            holdings: Default::default(),
            calls_active: AtomicI64::new(0),
            calls_total: AtomicU64::new(0),
            missed_notices: AtomicU64::new(0),
        }
    }

    /// Counts one notice.
    pub fn observe(&self, notice: &CallNotice) {
        match &notice.kind {
            CallNoticeKind::Started { .. } => {
                self.calls_total.fetch_add(1, Ordering::Relaxed);
                self.calls_active.fetch_add(1, Ordering::Relaxed);
            }
            CallNoticeKind::Ended { .. } => {
                self.calls_active.fetch_sub(1, Ordering::Relaxed);
            }
            CallNoticeKind::Event(event) => self.observe_event(event),
        }
    }

    fn observe_event(&self, event: &CallEvent) {
        match event {
            CallEvent::TurnCompleted(record) => {
                self.turns[outcome_index(record.outcome)].fetch_add(1, Ordering::Relaxed);
                if let Some(ms) = record.voice_to_voice_ms() {
                    self.voice_to_voice.observe_ms(ms);
                }
                self.end_of_turn_delay
                    .observe_ms(record.end_of_turn_delay_ms());
                self.asr_wait.observe_ms(record.asr_wait_ms());
                if let Some(ms) = record.dialogue_first_sentence_ms() {
                    self.dialogue_first_sentence.observe_ms(ms);
                }
                if let Some(ms) = record.tts_first_audio_ms() {
                    self.tts_first_audio.observe_ms(ms);
                }
            }
            CallEvent::BargeIn {
                onset,
                playback_stopped,
                ..
            } => {
                self.barge_ins.fetch_add(1, Ordering::Relaxed);
                self.barge_in_reaction
                    .observe_ms(playback_stopped.since(*onset));
            }
            CallEvent::FalseBargeIn { reason, .. } => {
                self.false_barge_ins[false_barge_in_index(reason)].fetch_add(1, Ordering::Relaxed);
            }
            CallEvent::Fault { kind, .. } => {
                if let Some(n) = FaultKind::ALL.iter().position(|k| k == kind) {
                    self.faults[n].fetch_add(1, Ordering::Relaxed);
                }
            }
            CallEvent::Holding { waiting_for, .. } => {
                if let Some(n) = WaitingFor::ALL.iter().position(|w| w == waiting_for) {
                    self.holdings[n].fetch_add(1, Ordering::Relaxed);
                }
            }
            _ => {}
        }
    }

    /// Follows the drivers' notices until the channel closes.
    pub async fn follow(&self, mut notices: broadcast::Receiver<crate::call::CallNotice>) {
        loop {
            match notices.recv().await {
                Ok(notice) => self.observe(&notice),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    self.missed_notices.fetch_add(missed, Ordering::Relaxed);
                    tracing::warn!(missed, "metrics fell behind the calls; notices missed");
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        for histogram in [
            &self.voice_to_voice,
            &self.end_of_turn_delay,
            &self.asr_wait,
            &self.dialogue_first_sentence,
            &self.tts_first_audio,
            &self.barge_in_reaction,
        ] {
            histogram.write(&mut out);
        }
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP hotline_turns_total Caller turns completed, by how the answer ended.\n# TYPE hotline_turns_total counter"
        );
        for (label, counter) in TURN_OUTCOMES.iter().zip(&self.turns) {
            let _ = writeln!(
                out,
                "hotline_turns_total{{outcome=\"{label}\"}} {}",
                get(counter)
            );
        }
        let _ = writeln!(
            out,
            "# HELP hotline_barge_ins_total Real interruptions of the bot.\n# TYPE hotline_barge_ins_total counter\nhotline_barge_ins_total {}",
            get(&self.barge_ins)
        );
        let _ = writeln!(
            out,
            "# HELP hotline_false_barge_ins_total Caller sound over the bot that did not interrupt it, by reason.\n# TYPE hotline_false_barge_ins_total counter"
        );
        for (label, counter) in FALSE_BARGE_IN_REASONS.iter().zip(&self.false_barge_ins) {
            let _ = writeln!(
                out,
                "hotline_false_barge_ins_total{{reason=\"{label}\"}} {}",
                get(counter)
            );
        }
        let _ = writeln!(
            out,
            "# HELP hotline_call_faults_total Parts that failed in a call (the caller heard the apology), by kind.\n# TYPE hotline_call_faults_total counter"
        );
        for (kind, counter) in FaultKind::ALL.iter().zip(&self.faults) {
            let _ = writeln!(
                out,
                "hotline_call_faults_total{{kind=\"{kind}\"}} {}",
                get(counter)
            );
        }
        let _ = writeln!(
            out,
            "# HELP hotline_call_holding_phrases_total Holding phrases said while a slow part was waited for, by part.\n# TYPE hotline_call_holding_phrases_total counter"
        );
        for (part, counter) in WaitingFor::ALL.iter().zip(&self.holdings) {
            let _ = writeln!(
                out,
                "hotline_call_holding_phrases_total{{waiting_for=\"{part}\"}} {}",
                get(counter)
            );
        }
        let _ = writeln!(
            out,
            "# HELP hotline_calls_active Calls being driven now.\n# TYPE hotline_calls_active gauge\nhotline_calls_active {}",
            self.calls_active.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP hotline_calls_total Calls started since the engine started.\n# TYPE hotline_calls_total counter\nhotline_calls_total {}",
            get(&self.calls_total)
        );
        let _ = writeln!(
            out,
            "# HELP hotline_metrics_missed_notices_total Call notices the metrics missed by falling behind.\n# TYPE hotline_metrics_missed_notices_total counter\nhotline_metrics_missed_notices_total {}",
            get(&self.missed_notices)
        );
        out
    }
}

fn outcome_index(outcome: TurnOutcome) -> usize {
    match outcome {
        TurnOutcome::Answered => 0,
        TurnOutcome::Interrupted => 1,
        TurnOutcome::Superseded => 2,
        TurnOutcome::Preempted => 3,
        TurnOutcome::CallEnded => 4,
        TurnOutcome::Failed => 5,
    }
}

fn false_barge_in_index(reason: &FalseBargeInReason) -> usize {
    match reason {
        FalseBargeInReason::Echo => 0,
        FalseBargeInReason::TooShort => 1,
        FalseBargeInReason::ProtectionWindow => 2,
        FalseBargeInReason::Backchannel(_) => 3,
        FalseBargeInReason::NothingRecognised => 4,
        FalseBargeInReason::NotInterruptible => 5,
        FalseBargeInReason::LowConfidence(_) => 6,
        FalseBargeInReason::Implausible(_) => 7,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::call::{CallEnd, CallNotices, EndOfTurnCue, Millis, TurnId, TurnRecord};
    use crate::lang::Lang;

    fn record() -> TurnRecord {
        TurnRecord {
            turn_id: TurnId(1),
            caller_text: "几点开门？".to_string(),
            lang: Lang::Zh,
            speech_start: Millis(1000),
            speech_end: Millis(3000),
            end_of_turn: Millis(3300),
            end_of_turn_cue: EndOfTurnCue::Question,
            asr_final: Millis(3400),
            used_speculative: true,
            dialogue_asked: Millis(3400),
            first_sentence: Some(Millis(3410)),
            first_audio_out: Some(Millis(3800)),
            bot_audio_start: Some(Millis(3780)),
            bot_audio_end: Some(Millis(6000)),
            bot_text: "早上九点。".to_string(),
            bot_text_heard: "早上九点。".to_string(),
            matched_faq: None,
            match_score: None,
            barge_in_onset: None,
            playback_stopped: None,
            outcome: TurnOutcome::Answered,
        }
    }

    #[tokio::test]
    async fn notices_become_metrics() {
        let notices = CallNotices::new();
        let metrics = Arc::new(CallMetrics::new());
        let follower = {
            let metrics = Arc::clone(&metrics);
            let rx = notices.subscribe();
            tokio::spawn(async move { metrics.follow(rx).await })
        };
        let call: Arc<str> = "MZ1".into();
        notices.publish(&call, CallNoticeKind::Started { caller: None });
        notices.publish(
            &call,
            CallNoticeKind::Event(CallEvent::TurnCompleted(Box::new(record()))),
        );
        notices.publish(
            &call,
            CallNoticeKind::Event(CallEvent::BargeIn {
                turn_id: TurnId(1),
                onset: Millis(5000),
                decided_at: Millis(5200),
                playback_stopped: Millis(5220),
            }),
        );
        notices.publish(
            &call,
            CallNoticeKind::Event(CallEvent::FalseBargeIn {
                at: Millis(5000),
                onset: Millis(4900),
                reason: FalseBargeInReason::Backchannel("嗯".to_string()),
            }),
        );
        let other: Arc<str> = "MZ2".into();
        notices.publish(&other, CallNoticeKind::Started { caller: None });
        notices.publish(
            &other,
            CallNoticeKind::Ended {
                duration: Millis(9000),
                end: CallEnd::CallerHungUp,
            },
        );
        drop(notices);
        follower.await.unwrap();
        let text = metrics.render();
        assert!(
            text.contains("hotline_voice_to_voice_seconds_bucket{le=\"1\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("hotline_voice_to_voice_seconds_bucket{le=\"0.75\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("hotline_voice_to_voice_seconds_sum 0.8\n"),
            "{text}"
        );
        assert!(
            text.contains("hotline_barge_in_reaction_seconds_sum 0.22\n"),
            "{text}"
        );
        assert!(
            text.contains("hotline_turns_total{outcome=\"answered\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("hotline_barge_ins_total 1\n"), "{text}");
        assert!(
            text.contains("hotline_false_barge_ins_total{reason=\"backchannel\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("hotline_calls_active 1\n"), "{text}");
        assert!(text.contains("hotline_calls_total 2\n"), "{text}");
    }
}
