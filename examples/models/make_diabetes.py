"""Diabetes StandardScaler + MLPRegressor, exported with skl2onnx as it comes: the regression
example of the wide precisions (`solidml compile --precision int16`, TFLite's 16x8).

`to_onnx(pipe, X[:1])` with no options writes `Scaler` (ai.onnx.ml) -> MatMul -> Add -> Relu
-> MatMul -> Add -> Relu -> MatMul -> Add -> Reshape; the compiler folds the Scaler into a
per-feature input quantization and the MatMul/Add pairs into dense layers.

Data: `sklearn.datasets.load_diabetes()` (442 samples, 10 features, a disease-progression
target from 25 to 346; shipped inside scikit-learn, no download). Split
`train_test_split(test_size=0.25, random_state=0)`; calibration = the train split (331
samples), evaluation = all 442 in dataset order; `diabetes_eval_float.npy` = onnxruntime's
predictions of the exported float model, what the quantized models are measured against.
Run with the repo's venv: .venv/bin/python examples/models/make_diabetes.py
"""
import os
import warnings

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skl2onnx import to_onnx

warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
X, y = load_diabetes(return_X_y=True)
X = X.astype(np.float32)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
mlp = MLPRegressor(
    hidden_layer_sizes=(32, 16), learning_rate_init=0.003, alpha=1.0, max_iter=5000, early_stopping=True, n_iter_no_change=50, random_state=0
)
pipe = make_pipeline(StandardScaler(), mlp).fit(Xtr, ytr)
onx = to_onnx(pipe, Xtr[:1], target_opset={"": 17, "ai.onnx.ml": 3})
with open(os.path.join(HERE, "diabetes.onnx"), "wb") as f:
    f.write(onx.SerializeToString())
np.save(os.path.join(HERE, "diabetes_calib.npy"), Xtr)
np.save(os.path.join(HERE, "diabetes_eval.npy"), X)

import onnxruntime as ort

sess = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
name = sess.get_inputs()[0].name
pred = np.concatenate([sess.run(None, {name: X[i : i + 1]})[0] for i in range(len(X))]).astype(np.float32)
np.save(os.path.join(HERE, "diabetes_eval_float.npy"), pred)
print("ops:", [(n.domain, n.op_type) for n in onx.graph.node])
print("outputs:", [(o.name, o.type.tensor_type.shape) for o in onx.graph.output])
print("test R^2 %.3f; onnxruntime vs sklearn max |diff| %.2e" % (pipe.score(Xte, yte), np.abs(pred.ravel() - pipe.predict(X)).max()))
