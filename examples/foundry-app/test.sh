#!/usr/bin/env bash
# DigitMint, end to end with real forge, from any directory:
#   (a) `solidml init` in the app changes nothing: what is committed is what init writes;
#   (b) `forge test` passes every test, DigitMint's through both routes (pure EVM and native);
#   (c) `solidml check` passes: gas within budgets, accuracy above floors, figures = snapshot.
#
# Usage: FOUNDRY_BIN=... bash examples/foundry-app/test.sh [extra forge test args]
#   FOUNDRY_BIN  forge and solc (`bash scripts/foundry-env.sh` installs them and prints it)
#   SOLIDML      the solidml binary (default: target/debug/solidml of this repository)
#   PYTHON       a Python with numpy, to check test/DigitFixtures.sol (default: the repo's .venv)
set -euo pipefail

APP="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$APP/../.." && pwd)"
SOLIDML="${SOLIDML:-$REPO/target/debug/solidml}"

fail() {
    echo "test.sh: $*" >&2
    exit 1
}

if [ -z "${FOUNDRY_BIN:-}" ]; then
    fail "FOUNDRY_BIN is not set: run \`bash scripts/foundry-env.sh\` in $REPO (it installs forge and solc and prints FOUNDRY_BIN=... on its last line), then export it"
fi
[ -x "$FOUNDRY_BIN/forge" ] && [ -x "$FOUNDRY_BIN/solc" ] ||
    fail "FOUNDRY_BIN=$FOUNDRY_BIN has no forge and solc: run \`bash scripts/foundry-env.sh\` in $REPO"
[ -x "$SOLIDML" ] || fail "no solidml binary at $SOLIDML: build it (\`cargo build -p solidml\`) or set SOLIDML"
case "$SOLIDML" in /*) ;; *) SOLIDML="$PWD/$SOLIDML" ;; esac
FOUNDRY_BIN="$(cd "$FOUNDRY_BIN" && pwd)"
export FOUNDRY_BIN

cd "$APP"
log="$(mktemp -d)"
trap 'rm -rf "$log"' EXIT

# (a) `solidml init` must find everything in place: no file created, changed or removed, and
#     no line saying it wrote or skipped one (what forge and check write is not compared)
checksums() {
    find . -type f -not -path './out/*' -not -path './cache/*' -not -path './snapshots/*' -print0 |
        LC_ALL=C sort -z | xargs -0 sha256sum
}
checksums >"$log/before"
"$SOLIDML" init | tee "$log/init"
checksums >"$log/after"
if grep -E '^\s*(created|overwritten|skipped|updated)\b' "$log/init" >/dev/null; then
    fail "solidml init wrote or skipped files (lines above): the committed app is not what init writes; rerun \`solidml init --force\` in $APP and commit"
fi
if ! diff -u "$log/before" "$log/after"; then
    fail "solidml init changed the files above: rerun it in $APP and commit what it writes"
fi
echo "test.sh: solidml init changed nothing ($(wc -l <"$log/after") files)"
# the test images are what script/fixtures.py makes of the dataset (it needs numpy: $PYTHON,
# else the repository's .venv from `bash scripts/python-env.sh`)
PYTHON="${PYTHON:-$REPO/.venv/bin/python}"
if "$PYTHON" -c 'import numpy' 2>/dev/null; then
    "$PYTHON" script/fixtures.py --check
else
    echo "test.sh: note: no Python with numpy ($PYTHON): test/DigitFixtures.sol not compared with script/fixtures.py"
fi

# (b) forge test, offline, with the solc wrapper; the native route runs $SOLIDML through vm.ffi
rm -rf snapshots
SOLIDML_BIN="$SOLIDML" "$FOUNDRY_BIN/forge" test --use "$FOUNDRY_BIN/solc" --offline "$@" | tee "$log/forge"
case " $* " in
*" --match"* | *" --no-match"* | *" --m"[tcp]" "* | *" --nm"[tcp]" "*)
    echo "test.sh: a test filter was given: the test count and (c) are not checked"
    exit 0
    ;;
esac
# every test function must run and pass: one declared in an abstract contract runs once per
# concrete contract of its file that inherits it (DigitMintTest: the Evm and Native routes)
declared=0
for f in test/*.t.sol; do
    n="$(grep -cE '^\s*function test' "$f" || true)"
    abstracts="$(sed -nE 's/^abstract contract ([A-Za-z0-9_]+).*/\1/p' "$f" | paste -sd'|' -)"
    if [ -n "$abstracts" ]; then
        runs="$(grep -cE "^contract [A-Za-z0-9_]+ is ($abstracts)\b" "$f" || true)"
        n=$((n * runs))
    fi
    declared=$((declared + n))
done
summary="$(grep -E '[0-9]+ tests passed, [0-9]+ failed, [0-9]+ skipped \([0-9]+ total tests\)' "$log/forge" | tail -n 1)"
passed="$(sed -nE 's/.* ([0-9]+) tests passed, ([0-9]+) failed, ([0-9]+) skipped \(([0-9]+) total tests\).*/\1 \2 \3 \4/p' <<<"$summary")"
echo "test.sh: test runs declared $declared; forge: ${passed:-no summary}"
[ "$passed" = "$declared 0 0 $declared" ] ||
    fail "forge must run and pass every test ($declared runs); it reported: ${summary:-nothing}"
per_route="$(grep -cE '^\s*function test' test/DigitMint.t.sol)"
for suite in DigitMintEvmTest DigitMintNativeTest; do
    grep -qE "^Ran $per_route tests for test/DigitMint.t.sol:$suite\$" "$log/forge" ||
        fail "$suite did not run its $per_route tests"
done
# the routes are interchangeable to the unit of gas: every figure of snapshots/DigitMint.json
# (test_mint_gas: NAME_evm and NAME_native) is the same through both
figures="$(sed -nE 's/^ *"([a-z_]+)_evm": "([0-9]+)".*/\1 \2/p' snapshots/DigitMint.json)"
[ -n "$figures" ] || fail "snapshots/DigitMint.json has no figures of the EVM route"
while read -r name evm; do
    native="$(sed -nE "s/^ *\"${name}_native\": \"([0-9]+)\".*/\\1/p" snapshots/DigitMint.json)"
    [ "$evm" = "$native" ] || fail "$name: gas differs between routes: evm $evm, native ${native:-?}"
    echo "test.sh: $name costs $evm gas through both routes"
done <<<"$figures"
echo "test.sh: both routes ran $per_route tests each"

# (c) the gas and accuracy gate
"$SOLIDML" check
echo "test.sh: ok"
