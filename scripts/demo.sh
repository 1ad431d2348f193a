#!/usr/bin/env bash
# The main job, end to end on the bundled digits MLP (scikit-learn → skl2onnx → SolidML):
# compile with calibration and evaluate against the float model (tract), inspect the
# artifact, run it on samples (CPU and GPU), call the precompile, measure the generated
# contracts' gas in the EVM, use the model from a foundry project (forge test, solidml check),
# and benchmark the executors against tract.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/rust-env.sh

bash scripts/vulkan-env.sh
cargo build --locked -p solidml
export FOUNDRY_BIN=$(bash scripts/foundry-env.sh | tail -n 1 | cut -d= -f2)

M=examples/models
OUT=${OUT:-out/demo}

echo "== compile + evaluate (int8 vs float) =="
$SOLIDML compile $M/digits_mlp.onnx --calibration $M/digits_calib.npy -o "$OUT" \
  --eval $M/digits_eval.npy --labels $M/digits_eval_labels.npy
echo
echo "== inspect =="
$SOLIDML inspect "$OUT/digits_mlp.smodel"
echo
echo "== run on the first 5 digits =="
python3 - "$M/digits_eval.npy" "$OUT/first5.npy" <<'PY'
import sys, struct
# slice the first 5 rows of a float32 .npy without numpy (header, then raw little-endian data)
src, dst = sys.argv[1], sys.argv[2]
b = open(src, "rb").read()
hlen = struct.unpack("<H", b[8:10])[0]
header = b[10:10 + hlen].decode()
cols = int(header.split("(")[1].split(")")[0].split(",")[1])
data = b[10 + hlen:10 + hlen + 5 * cols * 4]
h = "{'descr': '<f4', 'fortran_order': False, 'shape': (5, %d), }" % cols
h = h + " " * (63 - (len(h) + 10) % 64) + "\n"
open(dst, "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + data)
PY
$SOLIDML run "$OUT/digits_mlp.smodel" --input "$OUT/first5.npy" --output "$OUT/run"
$SOLIDML run "$OUT/digits_mlp.smodel" --input "$OUT/first5.npy" --output "$OUT/run_gpu" --raw --backend gpu
$SOLIDML run "$OUT/digits_mlp.smodel" --input "$OUT/first5.npy" --output "$OUT/run_cpu" --raw --backend cpu
cmp "$OUT/run_gpu/label.npy" "$OUT/run_cpu/label.npy" && echo "gpu == cpu on the first 5 digits (raw outputs)"
python3 - "$OUT/run/label.npy" <<'PY'
import sys, struct
b = open(sys.argv[1], "rb").read(); hlen = struct.unpack("<H", b[8:10])[0]
print("labels of the first 5 digits:", list(struct.unpack("<5q", b[10 + hlen:10 + hlen + 40])))
PY
echo
echo "== the other examples =="
$SOLIDML compile $M/digits_logreg.onnx --calibration $M/digits_calib.npy -o "$OUT" \
  --eval $M/digits_eval.npy --labels $M/digits_eval_labels.npy
$SOLIDML compile $M/digits_cnn.onnx --calibration $M/digits_cnn_calib.npy -o "$OUT" \
  --eval $M/digits_cnn_eval.npy --labels $M/digits_eval_labels.npy
echo
echo "== the precompile: one call from the command line (modelId ++ int8 inputs) =="
ID=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['modelId'])" "$OUT/digits_mlp.json" 2>/dev/null || true)
if [ -n "$ID" ]; then
  $SOLIDML precompile --model "$OUT/digits_mlp.smodel" "${ID}$(printf '00%.0s' $(seq 64))"
fi
echo
echo "== gas: the pure-Solidity contracts in the EVM (revm), and a 256x256 dense layer vs plain Solidity =="
$SOLIDML gas "$OUT/digits_mlp.smodel" "$OUT/digits_logreg.smodel"
echo
echo "== foundry: a fresh project (forge init), solidml init, forge test through both routes, solidml check =="
APP="$(cd "$OUT" && pwd)/foundry-app"
rm -rf "$APP"
"$FOUNDRY_BIN/forge" init --offline --no-git --empty "$APP" >/dev/null
SOLIDML_ABS="$(cd "$(dirname "$SOLIDML")" && pwd)/$(basename "$SOLIDML")"
(cd "$APP" && "$SOLIDML_ABS" init --model "$OLDPWD/$M/digits_mlp.onnx" --calibration "$OLDPWD/$M/digits_calib.npy")
(cd "$APP" && SOLIDML_BIN="$SOLIDML_ABS" "$FOUNDRY_BIN/forge" test --ffi --offline --use "$FOUNDRY_BIN/solc")
(cd "$APP" && "$SOLIDML_ABS" check --update && "$SOLIDML_ABS" check)
echo
echo "== verifiable inference: a claim on the devnode, re-run by the verifier, final after the window (docs/verification.md) =="
NODE_LOG="$OUT/devnode.log"
$SOLIDML devnode -p 0 >"$NODE_LOG" 2>&1 &
NODE_PID=$!
trap 'kill $NODE_PID 2>/dev/null || true' EXIT
RPC=""
for _ in $(seq 100); do
  RPC=$(sed -n 's/^Listening on \(.*\)$/http:\/\/\1/p' "$NODE_LOG" | head -n 1)
  [ -n "$RPC" ] && break
  sleep 0.1
done
[ -n "$RPC" ] || { echo "the devnode did not start:"; cat "$NODE_LOG"; exit 1; }
echo "devnode at $RPC"
CLAIMS=$($SOLIDML game deploy --rpc-url "$RPC")
echo "InferenceClaims at $CLAIMS"
STEPS=$($SOLIDML game register "$OUT/digits_mlp.smodel" --claims "$CLAIMS" --rpc-url "$RPC")
# the claimer prints the claim's id once it is posted, then defends it until it is final
$SOLIDML claim "$OUT/digits_mlp.smodel" --input "$OUT/first5.npy" --sample 2 --claims "$CLAIMS" --steps "$STEPS" --rpc-url "$RPC" --poll-ms 200 >"$OUT/claim.id" &
CLAIM_PID=$!
for _ in $(seq 300); do [ -s "$OUT/claim.id" ] && break; sleep 0.1; done
$SOLIDML verifier --claims "$CLAIMS" --models "$OUT" --rpc-url "$RPC" --once
"$FOUNDRY_BIN/cast" rpc evm_increaseTime 3601 --rpc-url "$RPC" >/dev/null
"$FOUNDRY_BIN/cast" rpc evm_mine --rpc-url "$RPC" >/dev/null
wait $CLAIM_PID
kill $NODE_PID 2>/dev/null || true
trap - EXIT
echo
echo "== bench: CPU and GPU executors vs tract f32 (the examples and a SqueezeNet-class CNN at 224x224), and an int8 GEMM =="
PY=$(bash scripts/python-env.sh | tail -n 1)
"$PY" $M/make_squeezenet.py "$OUT" --calib 4
$SOLIDML bench $M/*.onnx "$OUT/squeezenet.onnx" --iters 100
