#!/usr/bin/env bash
# Installs what the real-browser tests (tests/browser_widget.rs) need besides Debian's chromium
# and nodejs (scripts/test-packages.txt): npm, and npm playwright-core pinned by
# tests/browser/package-lock.json. Does nothing when that lock is already installed.
set -euo pipefail
cd "$(dirname "$0")/../tests/browser"

installed=node_modules/.package-lock.json
if [ -f "$installed" ] && [ "$installed" -nt package-lock.json ] && [ -f node_modules/playwright-core/package.json ]; then
  exit 0
fi
if ! command -v node >/dev/null; then
  echo "node is missing: install the Debian package nodejs (make test does, from scripts/test-packages.txt)" >&2
  exit 1
fi
if ! command -v npm >/dev/null; then
  # Debian ships npm apart from nodejs (NodeSource's nodejs includes it).
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "installing system package: npm"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends npm
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "warning: node $(node --version) is older than playwright-core wants (20 or newer); the browser tests may fail" >&2
fi
echo "installing the browser tests' npm packages (tests/browser/package-lock.json)"
npm ci --no-audit --no-fund
