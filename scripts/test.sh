#!/usr/bin/env bash
# All tests: formatting and clippy (warnings are errors), Rust unit, cross-crate and CLI
# snapshot tests, then the ONNX backend conformance suite (test cases shipped in the onnx
# Python package) with a pass floor.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/rust-env.sh

PY=$(bash scripts/python-env.sh | tail -n 1)

# lavapipe (a real, software Vulkan device) for the GPU executor's tests when no GPU exists
bash scripts/vulkan-env.sh
# the tests that create the GPU executor in process: Mesa's Wayland client prints two lines per
# instance when XDG_RUNTIME_DIR is unset (the binaries set it themselves,
# solidml_backends::prepare_environment; cli/tests/cli.rs checks that with it removed)
if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -d "$XDG_RUNTIME_DIR" ]; then
  XDG_RUNTIME_DIR="$(mktemp -d)"
  export XDG_RUNTIME_DIR
fi
# style first: fails in seconds (rustfmt.toml; workspace lints in Cargo.toml)
cargo fmt --all --check
# the backends' op files are declared by a macro (solidml_spec::for_each_op!), which cargo fmt
# does not expand: check them by name
rustfmt --edition 2024 --check precompiles/{cpu,gpu,jit,solidity}/src/ops/*.rs
cargo build --locked -p solidml
cargo clippy --locked --workspace --all-targets -- -D warnings
export FOUNDRY_BIN=$(bash scripts/foundry-env.sh | tail -n 1 | cut -d= -f2)
cargo test --locked --workspace

# the executable specification (execspec/, Python from docs/spec.md alone): its unit tests and
# the replay of every vector (op outputs, validation, gas and errors, IO); its randomized
# differential run against the CPU executor is tests/execspec_diff.rs, in cargo test above
"$PY" -m unittest discover -s execspec/tests
PYTHONPATH=execspec "$PY" -m solidml_execspec replay docs/spec

# conformance: every case compiled (calibrated on its own input), run, compared with the
# expected output; the floor is the count reached when it was last raised (see README)
"$PY" tests/conformance/run_onnx_backend.py --solidml "$SOLIDML" --jobs 2 \
  --report "$TARGET_DIR/conformance.json" --min-pass "${CONFORMANCE_FLOOR:-113}"
# the node suite (one op per case, 1,615 cases): floors on passing cases and on op types with a
# passing case; any panic fails (docs/conformance-node.md is its table)
"$PY" tests/conformance/run_onnx_backend.py --suite node --solidml "$SOLIDML" --jobs 2 \
  --report "$TARGET_DIR/conformance-node.json" --min-pass "${NODE_CONFORMANCE_FLOOR:-1282}" --min-ops 153

# stdlib-sol: the Solidity arithmetic primitives and the precompile interface under real forge
# (Foundry 1.7.1 and solc-js from the npm registry, installed project-locally)
bash stdlib-sol/test.sh

# the example foundry app (examples/foundry-app): `solidml init` there changes nothing, its
# forge tests pass through both SolidMLTest routes, and `solidml check` (the CI gate) passes
SOLIDML="$SOLIDML" PYTHON="$PY" bash examples/foundry-app/test.sh
