#!/usr/bin/env bash
# Compares hotline's transcription time with whisper.cpp's own CLI on the same clip, model and
# thread count (one thread, greedy, no temperature fallback, the same fitted audio_ctx).
# Runs alternate so machine noise hits both; prints the medians and their ratio.
#
# usage: benches/compare_whisper_cli.sh WHISPER_CLI [CLIP.wav] [RUNS]
#   WHISPER_CLI: a whisper-cli binary built from whisper.cpp (the version whisper-rs-sys vendors)
#   CLIP: default models/asr_example.wav (hotline models fetch --test-data)
set -euo pipefail
cd "$(dirname "$0")/.."
cli="${1:?usage: $0 WHISPER_CLI [CLIP.wav] [RUNS]}"
clip="${2:-models/asr_example.wav}"
runs="${3:-7}"
model="models/ggml-base-q8_0.bin"
hotline="target/release/hotline"
[ -x "$hotline" ] || { echo "build first: cargo build --release" >&2; exit 1; }
samples=$(( $(stat -c %s "$clip") / 2 ))            # 16 kHz mono s16 WAV (header ignored)
margin=96                                         # [asr] audio_ctx_margin default
ctx=$(( samples * 50 / 16000 + margin ))
cli_ms=(); ours_ms=()
for _ in $(seq "$runs"); do
  t=$("$cli" -m "$model" -f "$clip" -t 1 -l zh -bs 1 -bo 1 -nf -ac "$ctx" 2>&1 |
      awk '/load time/ {l=$(NF-1)} /total time/ {t=$(NF-1)} END {printf "%.0f", t-l}')
  cli_ms+=("$t")
  # The second decode of the process: the state is allocated, as in a running engine.
  o=$("$hotline" transcribe --json --lang zh "$clip" "$clip" | tail -n1 |
      sed -E 's/.*"decode":([0-9]+).*/\1/')
  ours_ms+=("$o")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mc=$(median "${cli_ms[@]}"); mo=$(median "${ours_ms[@]}")
echo "clip $clip, model $model, 1 thread, audio_ctx $ctx, $runs alternating runs"
echo "whisper-cli (total - load) ms: ${cli_ms[*]}  median $mc"
echo "hotline transcribe decode ms:  ${ours_ms[*]}  median $mo"
awk -v o="$mo" -v c="$mc" 'BEGIN {printf "ratio hotline / whisper-cli = %.3f (target <= 1.10)\n", o/c}'
