//! `/metrics`: call latencies and counters in the Prometheus text format.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::WebState;

pub async fn metrics(State(state): State<WebState>) -> impl IntoResponse {
    let mut text = state.metrics.render();
    state.calls.engine.transcriber.stats().render(&mut text);
    state.calls.engine.model_cpu.render(&mut text);
    let (hits, misses) = state.calls.engine.speech_cache.counts();
    text.push_str(&format!(
        "# HELP hotline_tts_cache_total Sentences to speak, by whether their audio was already synthesized.\n# TYPE hotline_tts_cache_total counter\nhotline_tts_cache_total{{result=\"hit\"}} {hits}\nhotline_tts_cache_total{{result=\"miss\"}} {misses}\n"
    ));
    let browser = &state.browser;
    text.push_str(&format!(
        "# HELP hotline_browser_calls_active Browser (WebRTC) calls holding a line now.\n# TYPE hotline_browser_calls_active gauge\nhotline_browser_calls_active {}\n# HELP hotline_browser_calls_limit Browser calls accepted at once ([webrtc] max_calls, at most the port range).\n# TYPE hotline_browser_calls_limit gauge\nhotline_browser_calls_limit {}\n",
        browser.endpoint.active_calls(),
        browser.endpoint.limit()
    ));
    write_admission(&mut text, &state.admission);
    write_send_lateness(&mut text, &sip_bridge::send_lateness());
    write_sip_door(&mut text, &sip_bridge::door_counts());
    if let Some(archive) = &state.archive {
        archive.metrics.render(&mut text);
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}

/// The node's lines (every channel together) and the calls turned away.
fn write_admission(text: &mut String, admission: &crate::lifecycle::Admission) {
    let (full, draining) = admission.refused();
    text.push_str(&format!(
        "# HELP hotline_calls_active Calls holding a line now (SIP, /media and browser together).\n# TYPE hotline_calls_active gauge\nhotline_calls_active {}\n\
         # HELP hotline_calls_limit Calls taken at once ([server] max_calls).\n# TYPE hotline_calls_limit gauge\nhotline_calls_limit {}\n\
         # HELP hotline_draining 1 while the node is stopping and takes no new calls.\n# TYPE hotline_draining gauge\nhotline_draining {}\n\
         # HELP hotline_calls_refused_total New calls turned away, by why.\n# TYPE hotline_calls_refused_total counter\nhotline_calls_refused_total{{reason=\"full\"}} {full}\nhotline_calls_refused_total{{reason=\"draining\"}} {draining}\n",
        admission.active_calls(),
        admission.limit(),
        u8::from(admission.is_draining()),
    ));
}

/// SIP requests stopped at the door before the transaction layer (scanners, rate limit).
fn write_sip_door(text: &mut String, counts: &sip_bridge::DoorCounts) {
    text.push_str(&format!(
        "# HELP hotline_sip_requests_stopped_total SIP requests stopped before the transaction layer, by why.\n# TYPE hotline_sip_requests_stopped_total counter\nhotline_sip_requests_stopped_total{{reason=\"scanner\"}} {}\nhotline_sip_requests_stopped_total{{reason=\"rate_limit\"}} {}\n",
        counts.scanners(),
        counts.rate_limited(),
    ));
}

/// Upper bounds (seconds) of the SIP send-lateness buckets: the pacing target is 2 ms.
const SEND_LATENESS_BOUNDS: [f64; 6] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02];

/// How late each paced RTP packet left against its 20 ms slot (all SIP calls of this process).
fn write_send_lateness(text: &mut String, lateness: &sip_bridge::SendLateness) {
    let name = "hotline_rtp_send_lateness_seconds";
    text.push_str(&format!(
        "# HELP {name} How late each paced RTP packet left against its 20 ms slot.\n# TYPE {name} histogram\n"
    ));
    for bound in SEND_LATENESS_BOUNDS {
        let count = lateness.earlier_than(std::time::Duration::from_secs_f64(bound));
        text.push_str(&format!("{name}_bucket{{le=\"{bound}\"}} {count}\n"));
    }
    let packets = lateness.packets();
    text.push_str(&format!(
        "{name}_bucket{{le=\"+Inf\"}} {packets}\n{name}_sum {}\n{name}_count {packets}\n",
        lateness.total().as_secs_f64()
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_lateness_is_a_cumulative_prometheus_histogram() {
        let mut text = String::new();
        write_send_lateness(&mut text, &sip_bridge::send_lateness());
        let buckets: Vec<u64> = text
            .lines()
            .filter(|l| l.starts_with("hotline_rtp_send_lateness_seconds_bucket"))
            .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
            .collect();
        assert_eq!(buckets.len(), SEND_LATENESS_BOUNDS.len() + 1, "{text}");
        assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{text}");
        assert!(text.contains("# TYPE hotline_rtp_send_lateness_seconds histogram"));
        assert!(text.contains("hotline_rtp_send_lateness_seconds_count "));
    }

    #[test]
    fn lines_and_refusals_are_reported() {
        let admission = crate::lifecycle::Admission::new(1);
        let _line = admission.try_admit().unwrap();
        let _ = admission.try_admit();
        let mut text = String::new();
        write_admission(&mut text, &admission);
        for line in [
            "hotline_calls_active 1\n",
            "hotline_calls_limit 1\n",
            "hotline_draining 0\n",
            "hotline_calls_refused_total{reason=\"full\"} 1\n",
        ] {
            assert!(text.contains(line), "{line:?} in {text}");
        }
    }
}
