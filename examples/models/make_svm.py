"""Support vector machines exported with skl2onnx as they come (`tests/svm.rs`):

* `svm_classifier.onnx`: `make_pipeline(StandardScaler(), SVC(kernel="rbf"))` on the
  breast-cancer data (two classes, `probability=False`): `Scaler` -> `SVMClassifier` (ai.onnx.ml,
  RBF kernel) -> `Cast` of the scores `[-D, D]` to `probabilities`.
* `svm_iris.onnx`: `make_pipeline(StandardScaler(), SVC(kernel="poly", degree=3))` on iris
  (three classes: one-vs-one decisions and votes). skl2onnx adds, after `SVMClassifier`,
  scikit-learn's one-vs-rest decision function rebuilt from the votes and the pair decisions
  in core ops (Less, Cast, ArrayFeatureExtractor, Sum, Neg, Add, Abs, Mul, Div, Concat) as its
  `probabilities` output.
* `svm_regressor.onnx`: `make_pipeline(StandardScaler(), SVR(C=10, gamma=0.03, epsilon=10))` on
  the diabetes data: `Scaler` -> `SVMRegressor` (RBF) -> `Cast`. (The default `gamma="scale"`
  and C=1 fit the 25..346 target poorly: test R^2 0.39 here.)

The compiler expands the SVMs into core ops (docs/operators.md, "Support vector machines").

Data (shipped inside scikit-learn, no download):
* breast cancer: the split of `make_breast_cancer.py` (`train_test_split(test_size=0.25,
  random_state=0, stratify=y)`): calibration `breast_cancer_calib.npy`, evaluation
  `breast_cancer_eval.npy` (all 569), both already in the repo (checked equal);
  `svm_classifier_eval_float_labels.npy`, `svm_classifier_eval_float_scores.npy` = onnxruntime's
  outputs of the float model on them.
* iris: `train_test_split(test_size=0.25, random_state=0, stratify=y)`: `iris_calib.npy` (the
  112 train samples), `iris_eval.npy` (all 150); `svm_iris_eval_float_labels.npy`,
  `svm_iris_eval_float_scores.npy` = onnxruntime's labels and one-vs-rest scores.
* diabetes: the split of `make_diabetes.py` (`test_size=0.25, random_state=0`):
  `diabetes_calib.npy`, `diabetes_eval.npy` (in the repo, checked equal);
  `svm_regressor_eval_float.npy` = onnxruntime's predictions.

Run with the repo's venv: .venv/bin/python examples/models/make_svm.py
"""
import os

import numpy as np
import onnxruntime as ort
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR
from skl2onnx import to_onnx

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = {"": 17, "ai.onnx.ml": 3}


def save(name, onx):
    data = onx.SerializeToString()
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
    print(name, "%.1f KB" % (len(data) / 1024), "ops:", [(n.domain, n.op_type) for n in onx.graph.node])
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"])


def run(sess, X):
    """onnxruntime's outputs, one sample at a time, stacked."""
    outs = [sess.run(None, {"X": X[i : i + 1]}) for i in range(len(X))]
    return [np.concatenate([o[k] for o in outs]) for k in range(len(outs[0]))]


def support(model):
    return "%d support vectors of %d features" % model.support_vectors_.shape


# the two-class RBF classifier
X, y = load_breast_cancer(return_X_y=True)
X = X.astype(np.float32)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
assert np.array_equal(np.load(os.path.join(HERE, "breast_cancer_calib.npy")), Xtr)
assert np.array_equal(np.load(os.path.join(HERE, "breast_cancer_eval.npy")), X)
pipe = make_pipeline(StandardScaler(), SVC(kernel="rbf")).fit(Xtr, ytr)
labels, scores = run(save("svm_classifier.onnx", to_onnx(pipe, Xtr[:1], target_opset=OPSET)), X)
np.save(os.path.join(HERE, "svm_classifier_eval_float_labels.npy"), labels.astype(np.int64))
np.save(os.path.join(HERE, "svm_classifier_eval_float_scores.npy"), scores.astype(np.float32))
# skl2onnx writes the decisions negated (D = -decision_function: a vote for class 0 when D > 0)
print("  %s; onnxruntime labels equal sklearn's: %s; max |D + sklearn's decision| %.2e; |D| from %.4f" % (
    support(pipe[-1]), bool((labels == pipe.predict(X)).all()), np.abs(scores[:, 1] + pipe.decision_function(X)).max(),
    np.abs(scores[:, 1]).min()))
print("  accuracy all %.4f test %.4f" % (pipe.score(X, y), pipe.score(Xte, yte)))

# the three-class polynomial classifier
X, y = load_iris(return_X_y=True)
X = X.astype(np.float32)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
pipe = make_pipeline(StandardScaler(), SVC(kernel="poly", degree=3)).fit(Xtr, ytr)
np.save(os.path.join(HERE, "iris_calib.npy"), Xtr)
np.save(os.path.join(HERE, "iris_eval.npy"), X)
labels, scores = run(save("svm_iris.onnx", to_onnx(pipe, Xtr[:1], target_opset=OPSET)), X)
np.save(os.path.join(HERE, "svm_iris_eval_float_labels.npy"), labels.astype(np.int64))
np.save(os.path.join(HERE, "svm_iris_eval_float_scores.npy"), scores.astype(np.float32))
print("  %s; onnxruntime labels equal sklearn's: %s; max |scores - sklearn's| %.2e" % (
    support(pipe[-1]), bool((labels == pipe.predict(X)).all()), np.abs(scores - pipe.decision_function(X)).max()))
print("  accuracy all %.4f test %.4f" % (pipe.score(X, y), pipe.score(Xte, yte)))

# the RBF regressor
X, y = load_diabetes(return_X_y=True)
X = X.astype(np.float32)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
assert np.array_equal(np.load(os.path.join(HERE, "diabetes_calib.npy")), Xtr)
assert np.array_equal(np.load(os.path.join(HERE, "diabetes_eval.npy")), X)
pipe = make_pipeline(StandardScaler(), SVR(C=10, gamma=0.03, epsilon=10)).fit(Xtr, ytr)
(pred,) = run(save("svm_regressor.onnx", to_onnx(pipe, Xtr[:1], target_opset=OPSET)), X)
np.save(os.path.join(HERE, "svm_regressor_eval_float.npy"), pred.astype(np.float32))
print("  %s; test R^2 %.3f; onnxruntime vs sklearn max |diff| %.2e; predictions %.1f to %.1f" % (
    support(pipe[-1]), pipe.score(Xte, yte), np.abs(pred.ravel() - pipe.predict(X)).max(), pred.min(), pred.max()))
