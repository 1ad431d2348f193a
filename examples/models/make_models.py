#!/usr/bin/env python3
"""Generate SolidML's example ONNX models and data files (deterministic).

Run with the repo's virtualenv (see scripts/python-env.sh):

    bash scripts/python-env.sh
    .venv/bin/python examples/models/make_models.py

Writes into the directory of this script:
  digits_mlp.onnx        sklearn MLPClassifier(64, 32) -> skl2onnx (zipmap off)
  digits_logreg.onnx     sklearn LogisticRegression (multinomial) -> skl2onnx
  digits_cnn.onnx        small CNN built with onnx.helper, trained here in numpy
  digits_calib.npy       float32 [200, 64]      raw pixels 0..16 (train split)
  digits_eval.npy        float32 [1797, 64]     all digits, raw pixels 0..16
  digits_eval_labels.npy int64   [1797]
  digits_cnn_calib.npy   float32 [200, 1, 8, 8] same samples as digits_calib, pixels / 16
  digits_cnn_eval.npy    float32 [1797,1,8,8]   same samples as digits_eval, pixels / 16

The sklearn models see raw pixel values (0..16, no scaler). The CNN expects
pixels scaled by 1/16 (0..1), done in numpy before feeding; the scaling is NOT
part of the CNN graph.
"""
import os
import sys
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import sklearn
import skl2onnx
from onnx import TensorProto, helper, numpy_helper
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

OUT = os.path.dirname(os.path.abspath(__file__))
SEED = 0
N_CALIB = 200
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}


def load_data():
    digits = load_digits()
    X = digits.data.astype(np.float32)  # [1797, 64], values 0..16
    y = digits.target.astype(np.int64)
    idx = np.arange(len(X))
    idx_tr, idx_te = train_test_split(idx, test_size=0.25, random_state=SEED, stratify=y)
    return X, y, idx_tr, idx_te


def export_sklearn(clf, path):
    onx = to_onnx(
        clf,
        initial_types=[("input", FloatTensorType([None, 64]))],
        options={id(clf): {"zipmap": False}},
        target_opset=TARGET_OPSET,
    )
    onx.doc_string = "SolidML example: %s on sklearn digits (raw pixels 0..16)" % type(clf).__name__
    onnx.checker.check_model(onx)
    onnx.save(onx, path)
    return onx


def ort_run(path, x):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return sess.run(None, {"input": x})


# ----------------------------------------------------------------------------
# numpy CNN: Conv(1->8,3x3,p1) -> BN -> Relu -> MaxPool2 -> Conv(8->16,3x3,p1)
#            -> Relu -> GlobalAveragePool -> Flatten -> Gemm(16->10)
# ----------------------------------------------------------------------------
BN_EPS = 1e-5


def im2col(x):
    """x [N,C,H,W] -> cols [N, C*9, H*W] for a 3x3 kernel, pad 1, stride 1."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = np.empty((n, c, 3, 3, h, w), dtype=x.dtype)
    for i in range(3):
        for j in range(3):
            cols[:, :, i, j] = xp[:, :, i:i + h, j:j + w]
    return cols.reshape(n, c * 9, h * w)


def col2im(dcols, shape):
    n, c, h, w = shape
    dcols = dcols.reshape(n, c, 3, 3, h, w)
    dxp = np.zeros((n, c, h + 2, w + 2), dtype=dcols.dtype)
    for i in range(3):
        for j in range(3):
            dxp[:, :, i:i + h, j:j + w] += dcols[:, :, i, j]
    return dxp[:, :, 1:-1, 1:-1]


def conv_fwd(x, W, b):
    n, _, h, w = x.shape
    cols = im2col(x)
    out = np.einsum("ok,nkp->nop", W.reshape(W.shape[0], -1), cols) + b[None, :, None]
    return out.reshape(n, W.shape[0], h, w), cols


def conv_bwd(dout, cols, W, xshape):
    n, o, h, w = dout.shape
    d = dout.reshape(n, o, h * w)
    dW = np.einsum("nop,nkp->ok", d, cols).reshape(W.shape)
    db = d.sum(axis=(0, 2))
    dcols = np.einsum("ok,nop->nkp", W.reshape(o, -1), d)
    return col2im(dcols, xshape), dW, db


def maxpool_fwd(x):
    n, c, h, w = x.shape
    xr = x.reshape(n, c, h // 2, 2, w // 2, 2)
    out = xr.max(axis=(3, 5))
    mask = xr == out[:, :, :, None, :, None]
    mask = mask / mask.sum(axis=(3, 5), keepdims=True)
    return out, mask


def maxpool_bwd(dout, mask):
    n, c, h2, _, w2, _ = mask.shape
    dx = mask * dout[:, :, :, None, :, None]
    return dx.reshape(n, c, h2 * 2, w2 * 2)


def init_params(rng):
    def he(shape, fan_in):
        return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)

    return {
        "W1": he((8, 1, 3, 3), 9), "b1": np.zeros(8),
        "gamma": np.ones(8), "beta": np.zeros(8),
        "W2": he((16, 8, 3, 3), 72), "b2": np.zeros(16),
        "W3": rng.normal(0.0, np.sqrt(1.0 / 16), size=(10, 16)), "b3": np.zeros(10),
    }


def cnn_forward(p, x, train, bn_stats=None):
    """Returns logits and a cache. train=True uses batch statistics for BN."""
    c1, cols1 = conv_fwd(x, p["W1"], p["b1"])
    if train:
        mu = c1.mean(axis=(0, 2, 3))
        var = c1.var(axis=(0, 2, 3))
    else:
        mu, var = bn_stats
    inv = 1.0 / np.sqrt(var + BN_EPS)
    xhat = (c1 - mu[None, :, None, None]) * inv[None, :, None, None]
    bn = p["gamma"][None, :, None, None] * xhat + p["beta"][None, :, None, None]
    r1 = np.maximum(bn, 0.0)
    p1, mask = maxpool_fwd(r1)
    c2, cols2 = conv_fwd(p1, p["W2"], p["b2"])
    r2 = np.maximum(c2, 0.0)
    g = r2.mean(axis=(2, 3))
    logits = g @ p["W3"].T + p["b3"]
    cache = dict(x=x, cols1=cols1, c1=c1, inv=inv, xhat=xhat, bn=bn, mask=mask,
                 p1=p1, cols2=cols2, c2=c2, g=g)
    return logits, cache


def cnn_backward(p, cache, dlogits):
    gr = {}
    gr["W3"] = dlogits.T @ cache["g"]
    gr["b3"] = dlogits.sum(axis=0)
    dg = dlogits @ p["W3"]
    c2 = cache["c2"]
    dr2 = np.broadcast_to(dg[:, :, None, None] / (c2.shape[2] * c2.shape[3]), c2.shape)
    dc2 = dr2 * (c2 > 0)
    dp1, gr["W2"], gr["b2"] = conv_bwd(dc2, cache["cols2"], p["W2"], cache["p1"].shape)
    dr1 = maxpool_bwd(dp1, cache["mask"])
    dbn = dr1 * (cache["bn"] > 0)
    xhat = cache["xhat"]
    gr["gamma"] = (dbn * xhat).sum(axis=(0, 2, 3))
    gr["beta"] = dbn.sum(axis=(0, 2, 3))
    dxhat = dbn * p["gamma"][None, :, None, None]
    m = xhat.shape[0] * xhat.shape[2] * xhat.shape[3]
    inv = cache["inv"][None, :, None, None]
    dc1 = (inv / m) * (m * dxhat - dxhat.sum(axis=(0, 2, 3), keepdims=True)
                       - xhat * (dxhat * xhat).sum(axis=(0, 2, 3), keepdims=True))
    _, gr["W1"], gr["b1"] = conv_bwd(dc1, cache["cols1"], p["W1"], cache["x"].shape)
    return gr


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def train_cnn(xtr, ytr, epochs=40, batch=64, lr=0.01):
    rng = np.random.default_rng(SEED)
    p = init_params(rng)
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(v) for k, v in p.items()}
    b1, b2, t = 0.9, 0.999, 0
    n = len(xtr)
    for ep in range(epochs):
        perm = rng.permutation(n)
        lr_ep = lr * (0.5 * (1 + np.cos(np.pi * ep / epochs)))  # cosine decay
        for s in range(0, n, batch):
            bi = perm[s:s + batch]
            logits, cache = cnn_forward(p, xtr[bi], train=True)
            prob = softmax(logits)
            prob[np.arange(len(bi)), ytr[bi]] -= 1.0
            grads = cnn_backward(p, cache, prob / len(bi))
            t += 1
            for k in p:
                m[k] = b1 * m[k] + (1 - b1) * grads[k]
                v[k] = b2 * v[k] + (1 - b2) * grads[k] ** 2
                mh = m[k] / (1 - b1 ** t)
                vh = v[k] / (1 - b2 ** t)
                p[k] -= lr_ep * mh / (np.sqrt(vh) + 1e-8)
    # BN inference statistics: population statistics of conv1 outputs over
    # the whole train split with the final weights.
    c1, _ = conv_fwd(xtr, p["W1"], p["b1"])
    bn_stats = (c1.mean(axis=(0, 2, 3)), c1.var(axis=(0, 2, 3)))
    return p, bn_stats


def build_cnn_onnx(p, bn_stats, path):
    f32 = lambda a: np.asarray(a, dtype=np.float32)
    inits = [
        numpy_helper.from_array(f32(p["W1"]), "conv1.weight"),
        numpy_helper.from_array(f32(p["b1"]), "conv1.bias"),
        numpy_helper.from_array(f32(p["gamma"]), "bn1.scale"),
        numpy_helper.from_array(f32(p["beta"]), "bn1.bias"),
        numpy_helper.from_array(f32(bn_stats[0]), "bn1.mean"),
        numpy_helper.from_array(f32(bn_stats[1]), "bn1.var"),
        numpy_helper.from_array(f32(p["W2"]), "conv2.weight"),
        numpy_helper.from_array(f32(p["b2"]), "conv2.bias"),
        numpy_helper.from_array(f32(p["W3"]), "fc.weight"),
        numpy_helper.from_array(f32(p["b3"]), "fc.bias"),
    ]
    nodes = [
        helper.make_node("Conv", ["input", "conv1.weight", "conv1.bias"], ["conv1"],
                         name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("BatchNormalization",
                         ["conv1", "bn1.scale", "bn1.bias", "bn1.mean", "bn1.var"], ["bn1"],
                         name="bn1", epsilon=BN_EPS),
        helper.make_node("Relu", ["bn1"], ["relu1"], name="relu1"),
        helper.make_node("MaxPool", ["relu1"], ["pool1"], name="pool1",
                         kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["pool1", "conv2.weight", "conv2.bias"], ["conv2"],
                         name="conv2", kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("Relu", ["conv2"], ["relu2"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["relu2"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], name="fc",
                         alpha=1.0, beta=1.0, transB=1),
    ]
    graph = helper.make_graph(
        nodes, "digits_cnn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="solidml-make_models")
    model.ir_version = 8
    model.doc_string = "SolidML example CNN on sklearn digits; input = pixels/16 as [N,1,8,8]"
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, path)


def acc(pred, y):
    return float((np.asarray(pred) == y).mean())


def main():
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    X, y, idx_tr, idx_te = load_data()
    Xtr, ytr = X[idx_tr], y[idx_tr]
    calib_idx = idx_tr[:N_CALIB]
    print("versions: numpy %s, scikit-learn %s, skl2onnx %s, onnx %s, onnxruntime %s, python %s"
          % (np.__version__, sklearn.__version__, skl2onnx.__version__, onnx.__version__,
             ort.__version__, sys.version.split()[0]))
    print("data: %d samples, train %d, test %d, calib %d" % (len(X), len(idx_tr), len(idx_te), N_CALIB))

    # ---- data files
    np.save(os.path.join(OUT, "digits_calib.npy"), X[calib_idx].astype(np.float32))
    np.save(os.path.join(OUT, "digits_eval.npy"), X.astype(np.float32))
    np.save(os.path.join(OUT, "digits_eval_labels.npy"), y.astype(np.int64))
    Xc = (X / 16.0).reshape(-1, 1, 8, 8).astype(np.float32)
    np.save(os.path.join(OUT, "digits_cnn_calib.npy"), Xc[calib_idx])
    np.save(os.path.join(OUT, "digits_cnn_eval.npy"), Xc)

    results = {}

    # ---- sklearn models (raw pixels, no scaler)
    mlp = MLPClassifier(hidden_layer_sizes=(64, 32), max_iter=500, random_state=SEED)
    mlp.fit(Xtr, ytr)
    logreg = LogisticRegression(solver="lbfgs", max_iter=5000)  # multinomial (lbfgs default)
    logreg.fit(Xtr, ytr)
    for name, clf in (("digits_mlp", mlp), ("digits_logreg", logreg)):
        path = os.path.join(OUT, name + ".onnx")
        onx = export_sklearn(clf, path)
        label, proba = ort_run(path, X)
        assert np.array_equal(label, clf.predict(X)), name + ": onnx label != sklearn"
        np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-4)
        results[name] = (acc(label, y), acc(label[idx_te], y[idx_te]))
        print("%s: nodes %s" % (name, [(n.op_type, n.domain or "ai.onnx") for n in onx.graph.node]))

    # ---- CNN
    p, bn_stats = train_cnn(Xc[idx_tr].astype(np.float64), ytr)
    path = os.path.join(OUT, "digits_cnn.onnx")
    build_cnn_onnx(p, bn_stats, path)
    p32 = {k: v.astype(np.float32) for k, v in p.items()}
    bn32 = tuple(s.astype(np.float32) for s in bn_stats)
    ref, _ = cnn_forward(p32, Xc, train=False, bn_stats=bn32)
    (logits,) = ort_run(path, Xc)
    err = float(np.abs(logits - ref).max())
    print("digits_cnn: max |onnxruntime - numpy| = %.3g" % err)
    assert err < 1e-4, "CNN onnx export does not match numpy forward"
    pred = logits.argmax(axis=1)
    results["digits_cnn"] = (acc(pred, y), acc(pred[idx_te], y[idx_te]))

    for name, (a_all, a_te) in results.items():
        print("%-14s accuracy (onnxruntime): all %.4f  test %.4f" % (name, a_all, a_te))
    assert results["digits_cnn"][1] > 0.90, "CNN test accuracy too low"


if __name__ == "__main__":
    main()
