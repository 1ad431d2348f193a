#!/usr/bin/env python3
"""Build a SqueezeNet 1.1-class ImageNet CNN (224x224, 1000 classes) with random weights.

Run with the repo's virtualenv (see scripts/python-env.sh):

    PY=$(bash scripts/python-env.sh | tail -n1)
    $PY examples/models/make_squeezenet.py [OUT_DIR] [--calib N]

Writes into OUT_DIR (default: target/models, not committed: the model is ~5 MB):
  squeezenet.onnx        float32 input `input` [1,3,224,224] -> `probabilities` [1,1000]
  squeezenet_calib.npy   float32 [N,3,224,224] deterministic random images (N = 4 by default)

Architecture (torchvision's squeezenet1_1, with a Softmax at the end), opset 13:
  Conv 3->64 k3 s2 -> Relu -> MaxPool k3 s2 (ceil)
  Fire(64: 16, 64+64) Fire(128: 16, 64+64) MaxPool k3 s2 (ceil)
  Fire(128: 32, 128+128) Fire(256: 32, 128+128) MaxPool k3 s2 (ceil)
  Fire(256: 48, 192+192) Fire(384: 48, 192+192) Fire(384: 64, 256+256) Fire(512: 64, 256+256)
  Conv 512->1000 k1 -> Relu -> GlobalAveragePool -> Flatten -> Softmax
A Fire module is: squeeze Conv 1x1 -> Relu, then Concat(channels) of expand Conv 1x1 -> Relu
and expand Conv 3x3 (pad 1) -> Relu. Spatial sizes: 224 -> 111 -> 55 -> 27 -> 13.

The weights are random (fixed seed), He-scaled (std sqrt(2 / fan_in)) so the activations keep
their scale through the ReLUs; the biases are small. The model is for exercising the compiler
and the executors at ImageNet size, not for classifying anything. The images are smooth random
fields (a few low-frequency sinusoids plus noise), normalized like ImageNet inputs.
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SEED = 1234
HW = 224
CLASSES = 1000
# (squeeze, expand1x1, expand3x3) per fire module; "pool" marks a MaxPool k3 s2 (ceil)
LAYOUT = [
    (16, 64, 64), (16, 64, 64), "pool",
    (32, 128, 128), (32, 128, 128), "pool",
    (48, 192, 192), (48, 192, 192), (64, 256, 256), (64, 256, 256),
]


class Builder:
    def __init__(self, rng):
        self.rng = rng
        self.nodes = []
        self.inits = []
        self.macs = 0
        self.params = 0

    def conv(self, name, x, cin, cout, k, hw, stride=1, pad=0, relu=True, gain=2.0):
        """Conv (+ Relu) with He-scaled random weights; returns (output, out_hw)."""
        fan_in = cin * k * k
        w = self.rng.normal(0.0, np.sqrt(gain / fan_in), size=(cout, cin, k, k)).astype(np.float32)
        b = self.rng.normal(0.0, 0.01, size=(cout,)).astype(np.float32)
        self.inits += [numpy_helper.from_array(w, name + ".w"), numpy_helper.from_array(b, name + ".b")]
        out_hw = (hw + 2 * pad - k) // stride + 1
        self.macs += cout * fan_in * out_hw * out_hw
        self.params += w.size + b.size
        y = name
        self.nodes.append(helper.make_node(
            "Conv", [x, name + ".w", name + ".b"], [y], name=name,
            kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4))
        if relu:
            self.nodes.append(helper.make_node("Relu", [y], [y + ".relu"], name=name + ".relu"))
            y = y + ".relu"
        return y, out_hw

    def maxpool(self, name, x, hw):
        self.nodes.append(helper.make_node(
            "MaxPool", [x], [name], name=name, kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1))
        return name, -(-(hw - 3) // 2) + 1

    def fire(self, name, x, cin, hw, s, e1, e3):
        sq, _ = self.conv(name + ".squeeze", x, cin, s, 1, hw)
        a, _ = self.conv(name + ".expand1x1", sq, s, e1, 1, hw)
        b, _ = self.conv(name + ".expand3x3", sq, s, e3, 3, hw, pad=1)
        self.nodes.append(helper.make_node("Concat", [a, b], [name], name=name, axis=1))
        return name, e1 + e3


def build_model():
    rng = np.random.default_rng(SEED)
    g = Builder(rng)
    x, hw = g.conv("conv1", "input", 3, 64, 3, HW, stride=2)
    x, hw = g.maxpool("pool1", x, hw)
    c = 64
    n = 2
    for item in LAYOUT:
        if item == "pool":
            x, hw = g.maxpool("pool%d" % n, x, hw)
        else:
            x, c = g.fire("fire%d" % n, x, c, hw, *item)
            n += 1
    # classifier: a larger gain spreads the logits so the softmax is not flat
    x, hw = g.conv("conv10", x, c, CLASSES, 1, hw, gain=8.0)
    g.nodes.append(helper.make_node("GlobalAveragePool", [x], ["gap"], name="gap"))
    g.nodes.append(helper.make_node("Flatten", ["gap"], ["logits"], name="flatten", axis=1))
    g.nodes.append(helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=-1))
    graph = helper.make_graph(
        g.nodes, "squeezenet1_1_random",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, HW, HW])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [1, CLASSES])],
        initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="solidml-make_squeezenet")
    model.ir_version = 8
    model.doc_string = "SolidML example: SqueezeNet 1.1-class CNN, 224x224, random He-scaled weights (seed %d)" % SEED
    return model, g.macs, g.params


def images(n):
    """n smooth random images, ImageNet-normalized, float32 [n,3,224,224]."""
    rng = np.random.default_rng(SEED + 1)
    yy, xx = np.meshgrid(np.linspace(0, 1, HW), np.linspace(0, 1, HW), indexing="ij")
    out = np.empty((n, 3, HW, HW), dtype=np.float32)
    mean = np.array([0.485, 0.456, 0.406])
    std = np.array([0.229, 0.224, 0.225])
    for i in range(n):
        for ch in range(3):
            img = np.full((HW, HW), rng.uniform(0.3, 0.7))
            for _ in range(6):
                fx, fy = rng.uniform(0.5, 8.0, size=2)
                img += rng.uniform(0.05, 0.2) * np.sin(2 * np.pi * (fx * xx + fy * yy) + rng.uniform(0, 2 * np.pi))
            img += rng.normal(0.0, 0.03, size=img.shape)
            out[i, ch] = (np.clip(img, 0.0, 1.0) - mean[ch]) / std[ch]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "target", "models")
    ap.add_argument("out", nargs="?", default=default, help="output directory (default: target/models)")
    ap.add_argument("--calib", type=int, default=4, help="number of calibration images (default 4)")
    ap.add_argument("--no-check", action="store_true", help="skip the onnxruntime run")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    model, macs, params = build_model()
    onnx.checker.check_model(model, full_check=True)
    path = os.path.join(args.out, "squeezenet.onnx")
    onnx.save(model, path)
    calib = images(args.calib)
    np.save(os.path.join(args.out, "squeezenet_calib.npy"), calib)
    print("squeezenet.onnx: %d nodes, %d parameters, %.1f M MACs, %d bytes" % (
        len(model.graph.node), params, macs / 1e6, os.path.getsize(path)))

    if not args.no_check:
        import onnxruntime as ort
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        probs = np.concatenate([sess.run(None, {"input": calib[i:i + 1]})[0] for i in range(len(calib))])
        assert probs.shape == (len(calib), CLASSES) and np.all(np.isfinite(probs))
        assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)
        print("onnxruntime: top-1 %s, max probability %s" % (
            probs.argmax(axis=1).tolist(), " ".join("%.3f" % p for p in probs.max(axis=1))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
