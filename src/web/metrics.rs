//! `/metrics`: call latencies and counters in the Prometheus text format.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::WebState;

pub async fn metrics(State(state): State<WebState>) -> impl IntoResponse {
    let mut text = state.metrics.render();
    let (hits, misses) = state.calls.engine.speech_cache.counts();
    text.push_str(&format!(
        "# HELP hotline_tts_cache_total Sentences to speak, by whether their audio was already synthesized.\n# TYPE hotline_tts_cache_total counter\nhotline_tts_cache_total{{result=\"hit\"}} {hits}\nhotline_tts_cache_total{{result=\"miss\"}} {misses}\n"
    ));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}
