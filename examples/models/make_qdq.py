"""Make digits_cnn_qdq.onnx: onnxruntime static QDQ quantization of digits_cnn.onnx.

    .venv/bin/python examples/models/make_qdq.py

Standard user flow: quant_pre_process (shape inference + ORT basic graph
optimizations, e.g. BatchNormalization folded into Conv) on a temp copy, then
quantize_static(QDQ, per-channel, int8 activations and weights, MinMax) with
the 200 samples of digits_cnn_calib.npy, one sample per reader step.
Then checks the result with onnxruntime on digits_cnn_eval.npy and prints a
description of the QDQ graph. Deterministic (MinMax over a fixed data set).
"""

import hashlib
import os
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process
from sklearn.model_selection import train_test_split

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "digits_cnn.onnx")
DST = os.path.join(HERE, "digits_cnn_qdq.onnx")
CALIB = os.path.join(HERE, "digits_cnn_calib.npy")
EVAL = os.path.join(HERE, "digits_cnn_eval.npy")
LABELS = os.path.join(HERE, "digits_eval_labels.npy")


class DigitsReader(CalibrationDataReader):
    """One [1,1,8,8] sample per get_next() call."""

    def __init__(self, path):
        self.data = np.load(path).astype(np.float32)
        self.i = 0

    def get_next(self):
        if self.i >= len(self.data):
            return None
        x = self.data[self.i : self.i + 1]
        self.i += 1
        return {"input": x}

    def rewind(self):
        self.i = 0


def make():
    with tempfile.TemporaryDirectory() as tmp:
        pre = os.path.join(tmp, "digits_cnn_pre.onnx")
        quant_pre_process(SRC, pre)
        quantize_static(
            pre,
            DST,
            DigitsReader(CALIB),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )


def predict(path, x, opt=ort.GraphOptimizationLevel.ORT_ENABLE_ALL):
    so = ort.SessionOptions()
    so.graph_optimization_level = opt
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return sess.run(["logits"], {"input": x})[0]


def verify():
    x = np.load(EVAL).astype(np.float32)
    y = np.load(LABELS)
    n = len(y)
    lf = predict(SRC, x)
    pf = lf.argmax(1)
    # Two ways onnxruntime runs the same QDQ file:
    # - ORT_DISABLE_ALL: the graph literally (DQ -> float op -> Q). This is the
    #   ONNX QDQ semantics (equals an exact int32-accumulation reference).
    # - ORT_ENABLE_ALL (default): DQ->op->Q fused into QLinearConv / QGemm /
    #   QLinearGlobalAveragePool. On x86 CPUs without VNNI, MLAS' u8s8 kernels
    #   use VPMADDUBSW, whose int16 pair sums saturate (|u8*s8 + u8*s8| > 32767),
    #   so results depend on the CPU (conv1 outputs differ by up to 58 steps).
    lu = predict(DST, x, ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    lq = predict(DST, x)
    pu, pq = lu.argmax(1), lq.argmax(1)
    # test split exactly as make_models.py (labels are in load_digits order)
    _, te = train_test_split(np.arange(n), test_size=0.25, random_state=0, stratify=y)
    for name, p in [("float", pf), ("QDQ unfused", pu), ("QDQ default", pq)]:
        print(f"{name} accuracy on test split ({len(te)}): {np.mean(p[te] == y[te]):.4f}")
    print(f"float accuracy (all {n}):                      {np.mean(pf == y):.4f}")
    print(f"QDQ accuracy, unfused/ORT_DISABLE_ALL (all {n}): {np.mean(pu == y):.4f}")
    print(f"QDQ accuracy, default/ORT_ENABLE_ALL (all {n}):  {np.mean(pq == y):.4f}")
    print(f"top-1 agreement float vs QDQ unfused: {np.mean(pf == pu):.4f}, "
          f"float vs QDQ default: {np.mean(pf == pq):.4f}, unfused vs default: {np.mean(pu == pq):.4f}")
    print(f"max |logit diff|: float vs unfused {np.abs(lf - lu).max():.4f}, "
          f"unfused vs default {np.abs(lu - lq).max():.4f}")


def describe():
    m = onnx.load(DST)
    g = m.graph
    dt = onnx.helper.tensor_dtype_to_np_dtype
    inits = {t.name: t for t in g.initializer}
    print(f"opset: {[(o.domain or 'ai.onnx', o.version) for o in m.opset_import]}, IR {m.ir_version}")
    print(f"producer: {m.producer_name} {m.producer_version}")
    print("input:", [(i.name, [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]) for i in g.input])
    print("ops:", [n.op_type for n in g.node])
    for n in g.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
        extra = ""
        if n.op_type in ("QuantizeLinear", "DequantizeLinear"):
            s, z = inits.get(n.input[1]), inits.get(n.input[2]) if len(n.input) > 2 else None
            src = inits.get(n.input[0])
            extra = (
                f" x={'init ' + str(dt(src.data_type)) + str(list(src.dims)) if src is not None else 'activation'}"
                f" scale{list(s.dims)} zp={dt(z.data_type) if z is not None else None}{list(z.dims) if z is not None else ''}"
            )
        print(f"  {n.op_type:17s} {list(n.input)} -> {list(n.output)} {attrs or ''}{extra}")
    print("initializers:")
    for t in g.initializer:
        print(f"  {t.name}: {dt(t.data_type)} {list(t.dims)}")


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


if __name__ == "__main__":
    make()
    print(f"wrote {DST}: {os.path.getsize(DST)} bytes, sha256 {sha(DST)}")
    verify()
    describe()
    print("onnxruntime", ort.__version__, "onnx", onnx.__version__, "numpy", np.__version__, "python", sys.version.split()[0])
