#!/usr/bin/env python3
"""onnxruntime's figures for `solidml bench`: one model, single-threaded, f32 and int8.

    python scripts/bench_onnxruntime.py MODEL.onnx [--calib CALIB.npy] [--iters N] [--budget S]

Prints one JSON object: {"f32_us": median, "int8_us": median or null, "int8_error": text or null}.

* f32: the ONNX file as it is, one intra-op and one inter-op thread, all graph optimizations.
* int8: onnxruntime's own static quantization of the same model
  (`onnxruntime.quantization.quantize_static`: QDQ format, per-channel weights, int8
  activations and weights, MinMax calibration on CALIB or on the timing input), then the same
  session options; onnxruntime fuses the QDQ pairs into its int8 kernels (QLinearConv, …).
  A model that is already QDQ is timed as it is for both.

The input is the deterministic pattern `solidml bench` feeds its own executors:
element (i0, i1, …) = ((i0 + i1 + …) mod 7) · 0.3.
"""
import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort


def pattern(shape):
    idx = np.indices(shape).sum(axis=0)
    return ((idx % 7) * 0.3).astype(np.float32)


def session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def median_us(sess, feed, iters, budget):
    start = time.perf_counter()
    for _ in range(min(iters, 10)):
        sess.run(None, feed)
        if time.perf_counter() - start > budget / 3:
            break
    times = []
    start = time.perf_counter()
    while len(times) < max(iters, 1) and (len(times) < 3 or time.perf_counter() - start < budget):
        t = time.perf_counter()
        sess.run(None, feed)
        times.append((time.perf_counter() - t) * 1e6)
    times.sort()
    return times[len(times) // 2]


def shapes_of(sess):
    return [[d if isinstance(d, int) and d > 0 else 1 for d in i.shape] for i in sess.get_inputs()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--calib")
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--budget", type=float, default=3.0)
    args = ap.parse_args()

    f32 = session(args.model)
    feed = {i.name: pattern(s) for i, s in zip(f32.get_inputs(), shapes_of(f32))}
    out = {"f32_us": median_us(f32, feed, args.iters, args.budget), "int8_us": None, "int8_error": None}

    model = onnx.load(args.model)
    if any(n.op_type in ("QuantizeLinear", "DequantizeLinear") for n in model.graph.node):
        out["int8_us"] = out["f32_us"]
    elif len(feed) != 1 or any(i.type.tensor_type.elem_type != onnx.TensorProto.FLOAT for i in model.graph.input):
        out["int8_error"] = "quantize_static needs one float input"
    else:
        from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

        name, shape = next(iter(feed)), shapes_of(f32)[0]
        if args.calib:
            calib = np.load(args.calib).astype(np.float32)
            samples = [c.reshape(shape) for c in calib[: max(1, min(len(calib), 32))]]
        else:
            samples = [feed[name]]

        class Reader(CalibrationDataReader):
            def __init__(self):
                self.it = iter(samples)

            def get_next(self):
                x = next(self.it, None)
                return None if x is None else {name: x}

        with tempfile.TemporaryDirectory() as d:
            q = os.path.join(d, "int8.onnx")
            try:
                quantize_static(args.model, q, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                                activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
                out["int8_us"] = median_us(session(q), feed, args.iters, args.budget)
            except Exception as e:  # report, do not fail the whole bench
                out["int8_error"] = f"{type(e).__name__}: {e}"
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
