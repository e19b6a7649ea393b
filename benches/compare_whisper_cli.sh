#!/usr/bin/env bash
# Compares hotline with whisper.cpp's own CLI on the same model file.
#
# Timing mode: transcription time on one clip, same thread count (one thread, greedy, no
# temperature fallback, the same fitted audio_ctx). Runs alternate so machine noise hits both;
# prints the medians and their ratio.
#   usage: benches/compare_whisper_cli.sh WHISPER_CLI [CLIP.wav] [RUNS]
#   CLIP: default models/asr_example.wav (hotline models fetch --test-data)
#
# Accuracy mode (the second argument is a references TSV): every clip of the TSV is transcribed
# by whisper-cli at its DEFAULTS (only -m, -f, -l and -t given: beam search 5, temperature
# fallback, full 30 s window) and by `hotline transcribe --json --lang L` (the configured [asr]
# settings: hotline.toml or HOTLINE_ASR__* variables apply), then benches/asr_score.rs prints
# CER (zh) / WER (en) per clip and per (lang, band, split), with median decode times.
#   usage: benches/compare_whisper_cli.sh WHISPER_CLI REFERENCES.tsv [SPLIT]
#   REFERENCES.tsv: file, lang, split, text (tests/fixtures/asr_heldout/references.tsv); files
#     are relative to the TSV's folder. SPLIT: dev, test or all (default all).
#   THREADS: threads for both (default 1, as hotline decodes). RESULTS: where the raw
#     transcripts go (default a temporary file). CLI_CACHE: a file of whisper-cli's results to
#     reuse when it exists (written when it does not): for trying hotline settings quickly.
#
# WHISPER_CLI: a whisper-cli binary built from whisper.cpp (the version whisper-rs-sys vendors):
#   benches/build_whisper_cli.sh builds one.
# MODEL: the ggml file (default models/ggml-base-q8_0.bin, hotline's default whisper-base-q8_0).
set -euo pipefail
cd "$(dirname "$0")/.."
cli="${1:?usage: $0 WHISPER_CLI [CLIP.wav [RUNS] | REFERENCES.tsv [SPLIT]]}"
model="${MODEL:-models/ggml-base-q8_0.bin}"
hotline="target/release/hotline"
[ -x "$hotline" ] || { echo "build first: cargo build --release --bin hotline" >&2; exit 1; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

if [[ "${2:-}" == *.tsv ]]; then
  refs="$2"
  split="${3:-all}"
  threads="${THREADS:-1}"
  dir="$(dirname "$refs")"
  results="${RESULTS:-$(mktemp)}"
  : > "$results"
  for lang in zh en; do
    files=()
    while IFS=$'\t' read -r file l s _; do
      [ "$l" = "$lang" ] || continue
      [ "$split" = all ] || [ "$s" = "$split" ] || continue
      files+=("$dir/$file")
    done < <(tail -n +2 "$refs")
    [ ${#files[@]} -gt 0 ] || continue
    for f in "${files[@]}"; do
      [ -n "${CLI_CACHE:-}" ] && [ -s "$CLI_CACHE" ] && break
      out=$("$cli" -m "$model" -f "$f" -l "$lang" -t "$threads" 2>"$results.err")
      ms=$(awk '/load time/ {l=$(NF-1)} /total time/ {t=$(NF-1)} END {printf "%.0f", t-l}' "$results.err")
      # "[00:00:00.000 --> 00:00:04.000]   text": drop the timestamps, join the segments.
      text=$(printf '%s\n' "$out" | sed -E 's/^\[[^]]*\][[:space:]]*//' | tr '\n' ' ')
      printf 'cli\t%s\t%s\t%s\n' "$(basename "$f")" "$ms" "$text" >> "$results"
    done
    # The first file twice: its first decode allocates the state; the engine's are warm.
    "$hotline" transcribe --json --lang "$lang" "${files[0]}" "${files[@]}" | tail -n +2 |
      python3 -c '
import json, os, sys
for line in sys.stdin:
    o = json.loads(line)
    text = " ".join(o["text"].split())
    print("ours\t%s\t%d\t%s" % (os.path.basename(o["file"]), o["timings_ms"]["decode"], text))
' >> "$results"
  done
  rm -f "$results.err"
  if [ -n "${CLI_CACHE:-}" ]; then
    if [ -s "$CLI_CACHE" ]; then cat "$CLI_CACHE" >> "$results"; else grep '^cli' "$results" > "$CLI_CACHE"; fi
  fi
  echo "model $model, $threads thread(s), split $split; whisper-cli at its defaults (-m -f -l -t only)"
  cargo bench -q --bench asr_score -- "$refs" "$results"
  [ -n "${RESULTS:-}" ] || rm -f "$results"
  exit 0
fi

clip="${2:-models/asr_example.wav}"
runs="${3:-7}"
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
mc=$(median "${cli_ms[@]}"); mo=$(median "${ours_ms[@]}")
echo "clip $clip, model $model, 1 thread, audio_ctx $ctx, $runs alternating runs"
echo "whisper-cli (total - load) ms: ${cli_ms[*]}  median $mc"
echo "hotline transcribe decode ms:  ${ours_ms[*]}  median $mo"
awk -v o="$mo" -v c="$mc" 'BEGIN {printf "ratio hotline / whisper-cli = %.3f (target <= 1.10)\n", o/c}'
