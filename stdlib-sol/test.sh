#!/usr/bin/env bash
# Build and test stdlib-sol offline with the project-local toolchain (forge 1.7.1 + solc-js
# 0.8.30 wrapper). Usage: bash stdlib-sol/test.sh [extra forge test args, e.g. -vvv --gas-report]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"

# 1. toolchain (idempotent; last stdout line is FOUNDRY_BIN=<dir>)
FOUNDRY_BIN="$(bash ../scripts/foundry-env.sh | tail -n1 | sed -n 's/^FOUNDRY_BIN=//p')"
if [ -z "$FOUNDRY_BIN" ] || [ ! -x "$FOUNDRY_BIN/forge" ] || [ ! -x "$FOUNDRY_BIN/solc" ]; then
    echo "test.sh: toolchain install failed (no FOUNDRY_BIN)" >&2
    exit 1
fi

# 2. forge test, offline, with the solc wrapper (its path is machine-specific: not in foundry.toml)
start=$(date +%s.%N)
"$FOUNDRY_BIN/forge" test --use "$FOUNDRY_BIN/solc" --offline "$@"
end=$(date +%s.%N)
python3 -c "import sys; print('test.sh: forge test took %.1f s' % (float(sys.argv[2]) - float(sys.argv[1])))" "$start" "$end"
