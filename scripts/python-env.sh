#!/usr/bin/env bash
# Create (if missing) the repo's Python virtualenv at $REPO/.venv and install
# the pinned scripts/requirements.txt into it. Idempotent: pip is skipped when
# .venv/.requirements.sha matches the sha256 of requirements.txt.
#
# Usage: bash scripts/python-env.sh        (prints the venv python path last)
#   env PYTHON=python3.11 to choose the interpreter used to create the venv.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$SCRIPT_DIR/.." && pwd)"
VENV="$REPO/.venv"
REQ="$SCRIPT_DIR/requirements.txt"
STAMP="$VENV/.requirements.sha"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "python-env: creating $VENV with $($PYTHON --version 2>&1)" >&2
    "$PYTHON" -m venv "$VENV"
fi

want="$(sha256sum "$REQ" | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [ "$want" != "$have" ]; then
    echo "python-env: installing $REQ" >&2
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q --upgrade pip >&2
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQ" >&2
    # The conformance runner needs the backend test data shipped in the onnx wheel.
    "$VENV/bin/python" - >&2 <<'PY'
import os, sys, onnx
d = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
missing = [s for s in ("pytorch-converted", "pytorch-operator") if not os.path.isdir(os.path.join(d, s))]
if missing:
    sys.exit("python-env: onnx %s lacks backend test data: %s" % (onnx.__version__, missing))
PY
    echo "$want" > "$STAMP"
else
    echo "python-env: $VENV up to date" >&2
fi
echo "$VENV/bin/python"
