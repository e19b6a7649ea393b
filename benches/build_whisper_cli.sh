#!/usr/bin/env bash
# Builds whisper.cpp's own CLI (whisper-cli) from the whisper.cpp that whisper-rs-sys vendors, so
# benches/compare_whisper_cli.sh compares hotline with the same library version. The vendored
# copy has no examples/ folder: the CLI's source comes from the whisper.cpp inside PyPI's
# pywhispercpp sdist (registry-only; whisper.cpp 1.8.5 there), whose quantize helper names two
# ggml types 1.8.3 lacks (those two lines are dropped; the CLI does not use them).
#   usage: benches/build_whisper_cli.sh [OUTDIR]   (default /tmp/whisper-cli-build)
#   prints the path of the built whisper-cli on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/tmp/whisper-cli-build}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
vendored=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/whisper-rs-sys-*/whisper.cpp 2>/dev/null | sort -V | tail -n 1)
[ -d "$vendored" ] || { echo "whisper-rs-sys sources not found: run cargo build --release first" >&2; exit 1; }
if [ ! -d "$out/examples-src" ]; then
  url=$(curl -fsS https://pypi.org/pypi/pywhispercpp/json | python3 -c '
import json, sys
files = json.load(sys.stdin)["releases"]["1.5.1"]
print([f["url"] for f in files if f["packagetype"] == "sdist"][0])')
  curl -fsSL "$url" -o "$out/pywhispercpp.tar.gz"
  mkdir -p "$out/examples-src"
  tar -xzf "$out/pywhispercpp.tar.gz" -C "$out/examples-src" --strip-components=3 \
    pywhispercpp-1.5.1/whisper.cpp/examples
fi
rm -rf "$out/whisper.cpp"
cp -r "$vendored" "$out/whisper.cpp"
cp -r "$out/examples-src" "$out/whisper.cpp/examples"
sed -i '/NVFP4\|Q1_0/d' "$out/whisper.cpp/examples/common-ggml.cpp"
cmake -S "$out/whisper.cpp" -B "$out/build" -DCMAKE_BUILD_TYPE=Release -DWHISPER_BUILD_TESTS=OFF \
  -DWHISPER_BUILD_EXAMPLES=ON -DWHISPER_SDL2=OFF -DGGML_NATIVE=ON >"$out/cmake.log"
cmake --build "$out/build" --target whisper-cli -j"$(nproc)" >"$out/build.log"
echo "$out/build/bin/whisper-cli"
