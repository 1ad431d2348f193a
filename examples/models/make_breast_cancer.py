"""Breast-cancer StandardScaler + LogisticRegression, exported with skl2onnx as it comes.

`to_onnx(pipe, X[:1])` with no options: skl2onnx writes `Scaler` (ai.onnx.ml) ->
`LinearClassifier` -> `Normalizer` and, by default, a `ZipMap` over the probabilities.
The raw features span 0.05 to 4,254: one per-tensor input scale leaves the small ones a
single code, which took label agreement to 70%; SolidML folds the Scaler into a per-feature
input quantization (docs/spec.md, "Per-axis input quantization").

Data: `sklearn.datasets.load_breast_cancer()` (569 samples, 30 features, shipped inside
scikit-learn, no download). Split `train_test_split(test_size=0.25, random_state=0,
stratify=y)`; calibration = the train split (426 samples), evaluation = all 569 in dataset
order; `breast_cancer_eval_float_labels.npy` = onnxruntime's labels of the exported float model. Run with the repo's venv: .venv/bin/python examples/models/make_breast_cancer.py
"""
import os

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skl2onnx import to_onnx

HERE = os.path.dirname(os.path.abspath(__file__))
X, y = load_breast_cancer(return_X_y=True)
X = X.astype(np.float32)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000, random_state=0)).fit(Xtr, ytr)
onx = to_onnx(pipe, Xtr[:1], target_opset={"": 17, "ai.onnx.ml": 3})
with open(os.path.join(HERE, "breast_cancer.onnx"), "wb") as f:
    f.write(onx.SerializeToString())
np.save(os.path.join(HERE, "breast_cancer_calib.npy"), Xtr)
np.save(os.path.join(HERE, "breast_cancer_eval.npy"), X)
np.save(os.path.join(HERE, "breast_cancer_eval_labels.npy"), y.astype(np.int64))
# the float model's own labels, by onnxruntime on the exported file: what the int8 model must agree with
import onnxruntime as ort

sess = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
float_labels = np.concatenate([sess.run(["output_label"], {"X": X[i : i + 1]})[0] for i in range(len(X))]).astype(np.int64)
np.save(os.path.join(HERE, "breast_cancer_eval_float_labels.npy"), float_labels)
print("onnxruntime labels equal sklearn's: %s" % bool((float_labels == pipe.predict(X)).all()))
print("ops:", [(n.domain, n.op_type) for n in onx.graph.node])
print("outputs:", [o.name for o in onx.graph.output])
print("feature range %.3g .. %.3g" % (X.min(), X.max()))
print("accuracy all %.4f test %.4f" % (pipe.score(X, y), pipe.score(Xte, yte)))
