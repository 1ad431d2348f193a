"""Tree ensembles exported with skl2onnx as they come: a RandomForestClassifier on the
breast-cancer data and a GradientBoostingRegressor on the diabetes data (`tests/forest.rs`).

`to_onnx(model, X[:1])` with no options writes, for the forest, `TreeEnsembleClassifier`
(ai.onnx.ml) -> `Cast` (labels) and `ZipMap` (probabilities), and for the boosting a single
`TreeEnsembleRegressor`; both read the raw features. The compiler expands the classifier into a
regressor of its class scores, rescales the raw features per feature from the split values
(folded into a per-feature input quantization) and compiles the splits exactly
(docs/operators.md, "Tree ensembles").

skl2onnx 1.19.1 writes `nodes_missing_value_tracks_true` as Python booleans, which onnx
1.19.1's `make_attribute` refuses ("Expected an int, got a boolean"): every tree export fails.
The script turns a list of booleans into 0/1 before onnx sees it; nothing else is changed.

Data (shipped inside scikit-learn, no download):
* `load_breast_cancer()` (569 samples, 30 raw features from 0 to 4,254), split
  `train_test_split(test_size=0.25, random_state=0, stratify=y)` exactly as
  `make_breast_cancer.py`: calibration = `breast_cancer_calib.npy` (the 426 train samples),
  evaluation = `breast_cancer_eval.npy` (all 569), both already in the repo (checked equal);
  `forest_classifier_eval_float_labels.npy` and `..._probabilities.npy` = onnxruntime's
  outputs of the exported float model on them.
* `load_diabetes()` (442 samples, 10 features), split `train_test_split(test_size=0.25,
  random_state=0)`: `forest_regressor_calib.npy` (the 331 train samples),
  `forest_regressor_eval.npy` (all 442), `forest_regressor_eval_float.npy` = onnxruntime's
  predictions.

Run with the repo's venv: .venv/bin/python examples/models/make_forest.py
"""
import os

import numpy as np
import onnx.helper
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
from sklearn.model_selection import train_test_split
from skl2onnx import to_onnx

_make_attribute = onnx.helper.make_attribute


def _make_attribute_ints(key, value, *args, **kwargs):
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, bool) for v in value):
        value = [int(v) for v in value]
    return _make_attribute(key, value, *args, **kwargs)


onnx.helper.make_attribute = _make_attribute_ints

import onnxruntime as ort  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = {"": 17, "ai.onnx.ml": 3}


def save(name, onx):
    data = onx.SerializeToString()
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    print(name, "%.1f KB" % (len(data) / 1024), "ops:", [(n.domain, n.op_type) for n in onx.graph.node])
    return sess


# the classifier
X, y = load_breast_cancer(return_X_y=True)
X = X.astype(np.float32)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
assert np.array_equal(np.load(os.path.join(HERE, "breast_cancer_calib.npy")), Xtr)
assert np.array_equal(np.load(os.path.join(HERE, "breast_cancer_eval.npy")), X)
forest = RandomForestClassifier(n_estimators=100, max_depth=8, random_state=0).fit(Xtr, ytr)
sess = save("forest_classifier.onnx", to_onnx(forest, Xtr[:1], target_opset=OPSET))
labels, probabilities = [], []
for i in range(len(X)):
    label, zipmap = sess.run(None, {"X": X[i : i + 1]})
    labels.append(label[0])
    probabilities.append([zipmap[0][k] for k in forest.classes_])
labels = np.array(labels, dtype=np.int64)
probabilities = np.array(probabilities, dtype=np.float32)
np.save(os.path.join(HERE, "forest_classifier_eval_float_labels.npy"), labels)
np.save(os.path.join(HERE, "forest_classifier_eval_float_probabilities.npy"), probabilities)
print("  onnxruntime labels equal sklearn's: %s" % bool((labels == forest.predict(X)).all()))
print("  max |probability - sklearn's| %.2e" % np.abs(probabilities - forest.predict_proba(X)).max())
print("  accuracy all %.4f test %.4f" % (forest.score(X, y), forest.score(Xte, yte)))
trees = forest.estimators_
print("  %d trees, %d nodes, %d leaves (at most %d in a tree), depth at most %d" % (
    len(trees), sum(t.tree_.node_count for t in trees), sum(t.tree_.n_leaves for t in trees),
    max(t.tree_.n_leaves for t in trees), max(t.get_depth() for t in trees)))

# the regressor
X, y = load_diabetes(return_X_y=True)
X = X.astype(np.float32)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
boosting = GradientBoostingRegressor(n_estimators=100, max_depth=3, random_state=0).fit(Xtr, ytr)
sess = save("forest_regressor.onnx", to_onnx(boosting, Xtr[:1], target_opset=OPSET))
np.save(os.path.join(HERE, "forest_regressor_calib.npy"), Xtr)
np.save(os.path.join(HERE, "forest_regressor_eval.npy"), X)
pred = np.concatenate([sess.run(None, {"X": X[i : i + 1]})[0] for i in range(len(X))]).astype(np.float32)
np.save(os.path.join(HERE, "forest_regressor_eval_float.npy"), pred)
print("  test R^2 %.3f; onnxruntime vs sklearn max |diff| %.2e; predictions %.1f to %.1f" % (
    boosting.score(Xte, yte), np.abs(pred.ravel() - boosting.predict(X)).max(), pred.min(), pred.max()))
trees = boosting.estimators_[:, 0]
print("  %d trees, %d nodes, %d leaves" % (len(trees), sum(t.tree_.node_count for t in trees), sum(t.tree_.n_leaves for t in trees)))
