#!/usr/bin/env bash
# Side-by-side: hotline vs Pipecat on the same English telephone clips, measured the same way
# (README.md beside this file). Both servers run as their own processes; the bench
# (benches/conversation_latency.rs) calls each in turn over the Twilio-format /media WebSocket
# and measures voice-to-voice on the caller's side and the server process's CPU per answered
# turn (/proc/PID/stat). Only one server is called at a time; the other sits idle.
#
#   benches/peers/pipecat/side_by_side.sh [ROUNDS]
#
# Environment (defaults in brackets):
#   ROUNDS [3]            rounds; each round benches hotline, then Pipecat
#   TURNS [9]             HOTLINE_BENCH_TURNS per run (one caller, quick mode)
#   ECHO [1]              0: no speakerphone echo of the bot in the caller's audio
#                         (HOTLINE_BENCH_ECHO=0; by default both sides get it, -20 dB / 40 ms)
#   HOTLINE_PORT [8765]   PIPECAT_PORT [8766]
#   HOTLINE_BIN [target/release/hotline]
#   BENCH_BIN             the conversation_latency bench executable (default: asks cargo)
#   OUT [target/side_by_side]   logs and per-run outputs
# Needs: `cargo build --release --bin hotline`, `make models models-test-data`, and
# benches/peers/pipecat/setup.sh (run here if needed).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

rounds="${1:-${ROUNDS:-3}}"
turns="${TURNS:-9}"
echo_on="${ECHO:-1}"
hotline_port="${HOTLINE_PORT:-8765}"
pipecat_port="${PIPECAT_PORT:-8766}"
hotline_bin="${HOTLINE_BIN:-target/release/hotline}"
out="${OUT:-target/side_by_side}"
mkdir -p "$out"

die() {
    echo "side_by_side.sh: $*" >&2
    exit 1
}

[ -x "$hotline_bin" ] || die "$hotline_bin not found; run \`cargo build --release --bin hotline\`"
"$here/setup.sh" >"$out/setup.log" 2>&1 || die "setup.sh failed; see $out/setup.log"

bench="${BENCH_BIN:-}"
if [ -z "$bench" ]; then
    echo "side_by_side.sh: building/locating the bench (cargo bench --bench conversation_latency --no-run)"
    bench="$(cargo bench --bench conversation_latency --no-run --message-format=json 2>"$out/bench-build.log" \
        | grep -o '"executable":"[^"]*conversation_latency[^"]*"' | tail -1 | cut -d'"' -f4 || true)"
    [ -n "$bench" ] && [ -x "$bench" ] || die "cannot build the bench; see $out/bench-build.log"
fi
[ -x "$bench" ] || die "BENCH_BIN=$bench is not executable"

port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
port_free "$hotline_port" || die "port $hotline_port is in use (set HOTLINE_PORT)"
port_free "$pipecat_port" || die "port $pipecat_port is in use (set PIPECAT_PORT)"

hotline_pid=""
pipecat_pid=""
cleanup() {
    for pid in $hotline_pid $pipecat_pid; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in $hotline_pid $pipecat_pid; do
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT INT TERM

# wait_ready NAME PID URL CHECK_SECONDS: until URL answers 200 (and, for Pipecat, "ready":true).
wait_ready() {
    local name="$1" pid="$2" url="$3" limit="$4" body
    for _ in $(seq 1 "$limit"); do
        kill -0 "$pid" 2>/dev/null || die "$name exited while starting; see $out/$name.log"
        if body="$(curl -sf "$url" 2>/dev/null)" && ! grep -q '"ready":false' <<<"$body"; then
            return 0
        fi
        sleep 1
    done
    die "$name not ready after $limit s ($url); see $out/$name.log"
}

echo "side_by_side.sh: starting hotline ($hotline_bin serve on 127.0.0.1:$hotline_port)"
# hotline's defaults otherwise (call store and recordings on, as shipped), kept under $out.
HOTLINE_SERVER__LISTEN="127.0.0.1:$hotline_port" \
    HOTLINE_STORE__DATABASE="$out/hotline-data/calls.sqlite" \
    HOTLINE_RECORDING__DIR="$out/hotline-data/recordings" \
    "$hotline_bin" serve >"$out/hotline.log" 2>&1 &
hotline_pid=$!
wait_ready hotline "$hotline_pid" "http://127.0.0.1:$hotline_port/readyz" 300

echo "side_by_side.sh: starting Pipecat (bot.py on 127.0.0.1:$pipecat_port)"
target/pipecat-venv/bin/python "$here/bot.py" --port "$pipecat_port" >"$out/pipecat.log" 2>&1 &
pipecat_pid=$!
wait_ready pipecat "$pipecat_pid" "http://127.0.0.1:$pipecat_port/health" 300

# run_bench SIDE PORT PID ROUND: one quick-mode run; prints "p50 p95 cpu_per_answer answers".
run_bench() {
    local side="$1" port="$2" pid="$3" round="$4" file row
    file="$out/round$round-$side.txt"
    HOTLINE_BENCH_QUICK=1 HOTLINE_BENCH_CALLER_LANGS=en HOTLINE_BENCH_TURNS="$turns" \
        HOTLINE_BENCH_ECHO="$echo_on" \
        HOTLINE_BENCH_TARGET="ws://127.0.0.1:$port/media" HOTLINE_BENCH_TARGET_PID="$pid" \
        "$bench" --bench >"$file" 2>&1 || echo "side_by_side.sh: the bench failed on $side (see $file)" >&2
    # The level row: | callers | answers | p50 | p95 | ... | CPU s per answer (14th) | ...
    row="$(grep -E '^\| 1 \|' "$file" | tail -1 || true)"
    if [ -z "$row" ]; then
        echo "- - - 0"
        return
    fi
    awk -F'|' '{ gsub(/ /, ""); print $4, $5, $15, $3 }' <<<"$row"
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "-" }'
}

median() {
    tr ' ' '\n' | grep -E '^[0-9.]+$' | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

summary="$out/summary.md"
{
    echo "# hotline vs Pipecat, $(date -u +%Y-%m-%dT%H:%MZ), $rounds round(s), $turns turns, 1 English caller, echo $([ "$echo_on" = 0 ] && echo off || echo on)"
    echo
    echo "| round | hotline v2v p50 / p95 ms | Pipecat v2v p50 / p95 ms | hotline CPU s/answer | Pipecat CPU s/answer | p50 ratio (target ≤ 0.55) | CPU ratio (target ≤ 0.45) |"
    echo "|---|---|---|---|---|---|---|"
} >"$summary"
cat "$summary"

p50_ratios=""
cpu_ratios=""
h_p50s=""
p_p50s=""
h_cpus=""
p_cpus=""
for round in $(seq 1 "$rounds"); do
    read -r h_p50 h_p95 h_cpu h_n <<<"$(run_bench hotline "$hotline_port" "$hotline_pid" "$round")"
    read -r p_p50 p_p95 p_cpu p_n <<<"$(run_bench pipecat "$pipecat_port" "$pipecat_pid" "$round")"
    r_p50="$(ratio "$h_p50" "$p_p50")"
    r_cpu="$(ratio "$h_cpu" "$p_cpu")"
    line="| $round | $h_p50 / $h_p95 ($h_n answers) | $p_p50 / $p_p95 ($p_n answers) | $h_cpu | $p_cpu | $r_p50 | $r_cpu |"
    echo "$line" | tee -a "$summary"
    p50_ratios+=" $r_p50"
    cpu_ratios+=" $r_cpu"
    h_p50s+=" $h_p50"
    p_p50s+=" $p_p50"
    h_cpus+=" $h_cpu"
    p_cpus+=" $p_cpu"
done
line="| median | $(median <<<"$h_p50s") | $(median <<<"$p_p50s") | $(median <<<"$h_cpus") | $(median <<<"$p_cpus") | $(median <<<"$p50_ratios") | $(median <<<"$cpu_ratios") |"
echo "$line" | tee -a "$summary"
echo
echo "side_by_side.sh: per-run outputs, server logs and summary.md in $out/"
