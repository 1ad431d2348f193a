"""One-vs-rest logistic regression on digits, exported with skl2onnx as it comes.

skl2onnx writes it as LinearClassifier(post_transform=LOGISTIC) followed by
Normalizer(norm=L1): the ai.onnx.ml path SolidML lowers to Dense, a sigmoid table and an
exact integer L1 normalization. Run with the repo's venv: .venv/bin/python examples/models/make_logreg_ovr.py
"""
import os
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from skl2onnx import to_onnx

HERE = os.path.dirname(os.path.abspath(__file__))
X, y = load_digits(return_X_y=True)
X = X.astype(np.float32)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # multi_class="ovr" is deprecated in favour of OneVsRestClassifier
    clf = LogisticRegression(multi_class="ovr", max_iter=5000, random_state=0).fit(Xtr, ytr)
onx = to_onnx(clf, Xtr[:1], options={id(clf): {"zipmap": False}}, target_opset={"": 17, "ai.onnx.ml": 3})
path = os.path.join(HERE, "digits_logreg_ovr.onnx")
with open(path, "wb") as f:
    f.write(onx.SerializeToString())
print("ops:", [(n.domain, n.op_type) for n in onx.graph.node])
print("accuracy all %.4f test %.4f" % (clf.score(X, y), clf.score(Xte, yte)))
