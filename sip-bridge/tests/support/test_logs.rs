//! The bridge's own log lines in a test's captured output, so a failure that only happens on
//! a loaded CI machine shows what the bridge did (printed only when the test fails).

/// Installs a subscriber writing `sip_bridge` info lines (and others' warnings) to the test
/// output; `RUST_LOG` overrides. Later calls in the same binary do nothing.
pub fn capture_bridge_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sip_bridge=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}
