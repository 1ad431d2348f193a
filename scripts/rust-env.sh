# Sourced by the scripts: where cargo builds, and the path of the built `solidml`.
# In CI the target dir is kept under ~/.cache between runs (a fresh machine builds from
# scratch); a CARGO_TARGET_DIR set by the caller wins.
if [ -n "${CI:-}" ] && [ -z "${CARGO_TARGET_DIR:-}" ]; then
    export CARGO_TARGET_DIR="$HOME/.cache/solidml-target"
fi
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
mkdir -p "$TARGET_DIR"
SOLIDML="$TARGET_DIR/debug/solidml"
export CARGO_TERM_COLOR=never
export CARGO_INCREMENTAL=0
