#!/usr/bin/env bash
# spoken_faq.sh - "spoken question -> right FAQ answer" on the held-out telecom FAQ.
#
# usage: benches/spoken_faq.sh [HOTLINE_BIN]      (default HOTLINE_BIN: target/release/hotline)
#   Run it from the repository root: the hotline binary finds models/ relative to the
#   current directory, and the fixture paths below are relative to it too.
#   SPOKEN_KB / SPOKEN_DIR: another FAQ and clip folder, e.g. the DEV set that settings may be
#   tuned on: SPOKEN_KB=tests/fixtures/kb/courier_faq.csv SPOKEN_DIR=tests/fixtures/spoken_faq_dev
#
# For every clip in tests/fixtures/spoken_faq/expected.tsv it runs
#   HOTLINE_BIN call --json --kb tests/fixtures/kb/telecom_faq.csv --lang LANG --in CLIP --out TMP.wav
# and prints one line per clip (file, expected, got, confirm, transcript), then a summary
# per language and band (clean / tel):
#   direct   answered directly with the expected topic
#   confirm  asked a confirm question whose FIRST offered topic is the expected one
#   wrong    answered directly with another topic
#   conf-oth asked a confirm question whose first offered topic is another one
#   none     no answer (no match, transfer, or the call failed: no speech / nothing recognised)
# and the total "right answer or right confirm" (direct + confirm) out of N.
# The default clips are a held-out TEST set (see tests/fixtures/spoken_faq/README.md): never tune on them.
set -euo pipefail

usage() {
  sed -n '4,6p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
[ $# -le 1 ] || usage
case "${1:-}" in -h | --help) usage ;; esac
BIN="${1:-target/release/hotline}"
KB="${SPOKEN_KB:-tests/fixtures/kb/telecom_faq.csv}"
DIR="${SPOKEN_DIR:-tests/fixtures/spoken_faq}"
EXPECTED="$DIR/expected.tsv"

[ -f "$EXPECTED" ] && [ -f "$KB" ] && [ -d models ] || {
  echo "error: run from the repository root (needs $EXPECTED, $KB and models/)" >&2
  usage
}
[ -x "$BIN" ] || { echo "error: hotline binary not found or not executable: $BIN" >&2; exit 2; }
command -v jq >/dev/null || { echo "error: jq is required" >&2; exit 2; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
RESULTS="$TMP/results.tsv"
: >"$RESULTS"

printf '%s\t%s\t%s\t%s\t%s\t%s\n' file expected got outcome confirm transcript
tail -n +2 "$EXPECTED" | while IFS=$'\t' read -r file lang expect; do
  [ -n "$file" ] || continue
  case "$file" in *_tel.wav) band=tel ;; *) band=clean ;; esac
  if "$BIN" call --json --kb "$KB" --lang "$lang" --in "$DIR/$file" --out "$TMP/answer.wav" </dev/null \
    >"$TMP/report.json" 2>"$TMP/stderr.txt"; then
    got=$(jq -r '.faq_id // (if .transfer then "(transfer)" else "(none)" end)' "$TMP/report.json")
    confirm=$(jq -r '.confirm | join(",")' "$TMP/report.json")
    transcript=$(jq -r '.transcript | gsub("[\t\n]"; " ")' "$TMP/report.json")
    first=${confirm%%,*}
    if jq -e '.faq_id != null' "$TMP/report.json" >/dev/null; then
      if [ "$got" = "$expect" ]; then outcome=direct; else outcome=wrong; fi
    elif [ -n "$confirm" ]; then
      got="(confirm)"
      if [ "$first" = "$expect" ]; then outcome=confirm; else outcome=conf-oth; fi
    else
      outcome=none
    fi
  else
    got="(error)"
    confirm=""
    transcript="ERROR: $(grep -v '^\s*$' "$TMP/stderr.txt" | tail -n 1 | tr '\t' ' ' | sed 's/\x1b\[[0-9;]*m//g')"
    outcome=none
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$file" "$expect" "$got" "$outcome" "${confirm:--}" "$transcript"
  printf '%s\t%s\t%s\n' "$lang" "$band" "$outcome" >>"$RESULTS"
done

echo
printf '%-5s %-5s %6s %8s %6s %9s %5s %4s  %s\n' lang band direct confirm wrong conf-oth none N "right(direct+confirm)"
summary() { # $1 lang filter, $2 band filter ("" = any)
  awk -F'\t' -v L="$1" -v B="$2" '
    (L == "" || $1 == L) && (B == "" || $2 == B) { c[$3]++; n++ }
    END {
      r = c["direct"] + c["confirm"]
      printf "%-5s %-5s %6d %8d %6d %9d %5d %4d  %d/%d (%.1f%%)\n",
        (L == "" ? "all" : L), (B == "" ? "all" : B),
        c["direct"], c["confirm"], c["wrong"], c["conf-oth"], c["none"], n, r, n, (n ? 100 * r / n : 0)
    }' "$RESULTS"
}
for lang in $(cut -f1 "$RESULTS" | awk '!seen[$0]++'); do
  for band in clean tel; do summary "$lang" "$band"; done
  summary "$lang" ""
done
summary "" clean
summary "" tel
summary "" ""
