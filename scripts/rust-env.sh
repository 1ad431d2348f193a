# Sourced by the scripts: one cargo target dir, optionally cached between CI runs.
# CI may keep a target dir under ~/.cache; a fresh machine builds from scratch.
if [ -n "${CI:-}" ] && [ -z "${CARGO_TARGET_DIR:-}" ]; then
    export CARGO_TARGET_DIR="$HOME/.cache/solidml-target"
    mkdir -p "$CARGO_TARGET_DIR"
    # scripts call target/debug/solidml: point the repo's target/ at the cache
    if [ ! -e target ]; then ln -s "$CARGO_TARGET_DIR" target; fi
fi
export CARGO_TERM_COLOR=never
export CARGO_INCREMENTAL=0
