"""Diabetes linear regressors, exported with skl2onnx as they come: the 16x8 figures of
`tests/diabetes.rs` beside the MLP of `make_diabetes.py` (same data, same split).

* `diabetes_linear.onnx`: `LinearRegression()` on the raw features; skl2onnx writes one
  `LinearRegressor` (ai.onnx.ml).
* `diabetes_ridge.onnx`: `make_pipeline(StandardScaler(), Ridge(alpha=1.0))`; skl2onnx writes
  `Scaler` -> `LinearRegressor`.

Calibration and evaluation data are `diabetes_calib.npy` / `diabetes_eval.npy` (written by
`make_diabetes.py`); `diabetes_{linear,ridge}_eval_float.npy` = onnxruntime's predictions of
each float model on the 442 evaluation samples, what the quantized models are measured against.
Run with the repo's venv: .venv/bin/python examples/models/make_diabetes_linear.py
"""
import os
import warnings

import numpy as np
import onnxruntime as ort
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skl2onnx import to_onnx

warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
X, y = load_diabetes(return_X_y=True)
X = X.astype(np.float32)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
assert np.array_equal(np.load(os.path.join(HERE, "diabetes_calib.npy")), Xtr)
assert np.array_equal(np.load(os.path.join(HERE, "diabetes_eval.npy")), X)

for name, model in [("linear", LinearRegression()), ("ridge", make_pipeline(StandardScaler(), Ridge(alpha=1.0)))]:
    model.fit(Xtr, ytr)
    onx = to_onnx(model, Xtr[:1], target_opset={"": 17, "ai.onnx.ml": 3})
    with open(os.path.join(HERE, f"diabetes_{name}.onnx"), "wb") as f:
        f.write(onx.SerializeToString())
    sess = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0].name
    pred = np.concatenate([sess.run(None, {inp: X[i : i + 1]})[0] for i in range(len(X))]).astype(np.float32).reshape(-1, 1)
    np.save(os.path.join(HERE, f"diabetes_{name}_eval_float.npy"), pred)
    print(name, "ops:", [(n.domain, n.op_type) for n in onx.graph.node], "test R^2 %.3f" % model.score(Xte, yte),
          "max |ort - sklearn| %.2e" % np.abs(pred.ravel() - model.predict(X)).max())
