# The two commands a new machine needs: `make run` and `make test` (see README.md).
CARGO ?= cargo
HOTLINE := target/release/hotline

.PHONY: run test setup browser-test-deps build models models-test-data bench lint

run: setup build models
	$(HOTLINE) serve

test: setup browser-test-deps build models models-test-data
	$(CARGO) test --release --workspace

setup:
	@scripts/install-system-packages.sh --test
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust with https://rustup.rs" >&2; exit 1; }

# npm playwright-core for the real-browser tests (skipped when tests/browser is up to date).
browser-test-deps: setup
	@scripts/install-browser-test-deps.sh

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
