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
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
start=$(date +%s.%N)
"$FOUNDRY_BIN/forge" test --use "$FOUNDRY_BIN/solc" --offline "$@" | tee "$log"
end=$(date +%s.%N)
python3 -c "import sys; print('test.sh: forge test took %.1f s' % (float(sys.argv[2]) - float(sys.argv[1])))" "$start" "$end"

# 3. forge ran and passed every test function of test/ (a filter among the extra arguments
#    narrows the run: no count then)
case " $* " in
*" --match"* | *" --no-match"* | *" --m"[tcp]" "* | *" --nm"[tcp]" "*)
    echo "test.sh: a test filter was given: the test count is not checked"
    exit 0
    ;;
esac
declared="$(find test -name '*.t.sol' -exec cat {} + | grep -cE '^\s*function test')"
summary="$(grep -E '[0-9]+ tests passed, [0-9]+ failed, [0-9]+ skipped \([0-9]+ total tests\)' "$log" | tail -n 1)"
passed="$(sed -nE 's/.* ([0-9]+) tests passed, ([0-9]+) failed, ([0-9]+) skipped \(([0-9]+) total tests\).*/\1 \2 \3 \4/p' <<<"$summary")"
echo "test.sh: test functions $declared; forge: ${passed:-no summary}"
if [ "$passed" != "$declared 0 0 $declared" ]; then
    echo "test.sh: forge must run and pass every test function ($declared); it reported: ${summary:-nothing}" >&2
    exit 1
fi

# 4. the devnode places ModelRegistry's runtime code at genesis from a committed copy
#    (devnode/genesis/ModelRegistry.runtime.hex): it must be what this source compiles to
want="$("$FOUNDRY_BIN/forge" inspect --use "$FOUNDRY_BIN/solc" --offline ModelRegistry deployedBytecode | tr -d '\n' | sed 's/^0x//')"
have="$(tr -d '\n' < ../devnode/genesis/ModelRegistry.runtime.hex)"
if [ "$want" != "$have" ]; then
    echo "test.sh: devnode/genesis/ModelRegistry.runtime.hex is stale; regenerate it with:" >&2
    echo "  (cd stdlib-sol && \"\$FOUNDRY_BIN/forge\" inspect --use \"\$FOUNDRY_BIN/solc\" --offline ModelRegistry deployedBytecode) | tr -d '\\n' | sed 's/^0x//' > devnode/genesis/ModelRegistry.runtime.hex" >&2
    exit 1
fi
echo "test.sh: devnode/genesis/ModelRegistry.runtime.hex matches ModelRegistry.sol"
