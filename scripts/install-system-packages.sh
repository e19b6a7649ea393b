#!/usr/bin/env bash
# Installs the Debian packages hotline needs to build, run and test, when missing.
# Build: cmake + clang/libclang (whisper.cpp, bindings), libsonic-dev + pkg-config (espeak-ng
# inside piper-rs). Run: espeak-ng (Cantonese voice, Mandarin fallback). Tests: sox.
# Packages for SIP peer tests are listed in scripts/test-packages.txt when present.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake clang libclang-dev libsonic-dev pkg-config espeak-ng sox)
if [ "${1:-}" = "--test" ] && [ -f scripts/test-packages.txt ]; then
  while read -r p; do [ -n "$p" ] && [ "${p#\#}" = "$p" ] && packages+=("$p"); done < scripts/test-packages.txt
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "hotline needs these packages: ${missing[*]} (Debian/Ubuntu names). Install them with your package manager." >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "installing system packages: ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
