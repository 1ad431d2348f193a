//! `ai.onnx.ml` support vector machines ([`crate::ops::svm`]) expanded into core ops before
//! calibration, so that calibration sees the kernel values and the decisions:
//!
//! * the kernel matrix `K` (`[N, V]`): POLY `Pow(Gemm(X, SV, alpha = γ, C = c₀, transB), d)`,
//!   SIGMOID `Tanh(Gemm(…))`, RBF the internal `RbfKernel(X)` (exact squared distances, one
//!   exponent rounding; `ops/svm.rs`); a LINEAR kernel is folded into the weights instead
//!   (`Σ_v w_pv·(x·sv_v) = x·(Σ_v w_pv·sv_v)`), so a linear SVM is one Gemm of `X`;
//! * the decisions `D = Gemm(K, W, rho, transB)` (`[N, P]`): the dual coefficients per class
//!   pair ([`svm::Classifier::weights`]), or the regressor's one column;
//! * SVMRegressor: `D` is the output; `one_class`: `2·Greater(D, 0) − 1`;
//! * SVMClassifier label: the votes `Gemm(Greater(D, 0), M, c)` (`M[c, p]` is +1 when class
//!   `c` is the first of pair `p`, −1 when it is the second, `c` counting the pairs it is second
//!   of), `ArgMax` (the first maximum, as onnxruntime) and `ArrayFeatureExtractor` of the
//!   labels. The 0/1 indicators and the vote counts get the prescribed quantization of scale 1
//!   (every count exact), so the votes and their ties are exactly those of the int8 decisions:
//!   a pair decides differently from the float model only where `D` itself rounds across 0.
//!   The liblinear form (no support vectors, three or more classes): `ArgMax(D)`.
//! * SVMClassifier scores: more than two classes, `D` post-transformed (NONE, LOGISTIC →
//!   Sigmoid, SOFTMAX → Softmax); two classes, `Concat(−D, D)` with NONE and `Concat(1 − D, D)`
//!   with LOGISTIC, SOFTMAX or SOFTMAX_ZERO (onnxruntime's, no transform); two classes with
//!   Platt scaling, `Sigmoid(Concat(−t, t))` with `t = a·D + b` (a second Gemm over `K`), then
//!   the post transform: onnxruntime's coupling of two classes stops within about 10⁻³ of
//!   `[σ(−t), σ(t)]` (its tolerance, 0.0025 on `Q·p`), a quarter of the int8 output's step.
//!
//! Refused, naming the node: probability outputs of three or more classes (libsvm's coupling
//! is an iterative solve), PROBIT, SOFTMAX_ZERO for more than two classes, the two-class
//! liblinear form (onnxruntime's label thresholds 0.5 and 0 of the top score), more than 255
//! classes (vote counts past an int8 code each), string labels, inputs other than `[N, F]`.

use ndarray::{Array2, ArrayD, IxDyn};
use solidml_spec::Quant;

use crate::{
    error::{CompileError, Result},
    ir::{Attr, Graph, Node, Tid, Value},
    ops::svm::{self, Classifier, INTERNAL, Kernel, Regressor},
};

const ML: &str = "ai.onnx.ml";

/// The prescribed quantization of the 0/1 indicators and the vote counts: integers exact.
pub const COUNTS: Quant = Quant { scale: 1.0, zero_point: -128 };

/// The prescribed quantization of a one-class regressor's `±1`.
pub const SIGNS: Quant = Quant { scale: 1.0, zero_point: 0 };

type R<T> = std::result::Result<T, String>;

/// Apply the pass (see the module docs) to `g`; returns whether it changed the graph, or why an
/// SVM cannot be handled.
pub fn run(g: &mut Graph) -> Result<bool> {
    let mut changed = false;
    let mut i = 0;
    while i < g.nodes.len() {
        let n = g.nodes[i].clone();
        if n.domain != ML || !matches!(n.op.as_str(), "SVMClassifier" | "SVMRegressor") {
            i += 1;
            continue;
        }
        let mut b = Builder { g, name: n.name.clone(), nodes: vec![] };
        if n.op == "SVMRegressor" { b.regressor(&n) } else { b.classifier(&n) }.map_err(|e| CompileError::node(&n, e))?;
        let new_nodes = b.nodes;
        let count = new_nodes.len();
        g.nodes.splice(i..i + 1, new_nodes);
        i += count;
        changed = true;
    }
    Ok(changed)
}

/// The nodes replacing one SVM node, and the graph their tensors and constants go into.
struct Builder<'g> {
    g: &'g mut Graph,
    name: String,
    nodes: Vec<Node>,
}

impl Builder<'_> {
    /// A new constant real tensor.
    fn constant(&mut self, what: &str, shape: &[usize], data: Vec<f32>) -> Tid {
        let t = self.g.add_tensor(&format!("{}.{what}", self.name), true);
        self.g.tensors[t].shape = Some(shape.to_vec());
        self.g.consts.insert(t, Value::Float(ArrayD::from_shape_vec(IxDyn(shape), data).unwrap()));
        t
    }

    /// Node `op` of `domain` on `inputs`, writing `out` or a new tensor named after `what`.
    fn node(&mut self, op: &str, domain: &str, what: &str, inputs: &[Tid], out: Option<Tid>, attrs: Vec<(&str, Attr)>) -> Tid {
        let name = format!("{}.{what}", self.name);
        let out = out.unwrap_or_else(|| self.g.add_tensor(&name, op != "ArgMax"));
        self.nodes.push(Node {
            name,
            op: op.into(),
            domain: domain.into(),
            attrs: attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            inputs: inputs.iter().map(|&t| Some(t)).collect(),
            outputs: vec![out],
        });
        out
    }

    /// `Gemm(src, w, bias, transB = 1)` (`w` as `[rows, cols]`) into `out`.
    fn gemm(&mut self, what: &str, src: Tid, w: &Array2<f32>, bias: &[f32], out: Option<Tid>) -> Tid {
        let wt = self.constant(&format!("{what}.weights"), &[w.nrows(), w.ncols()], w.iter().copied().collect());
        let bt = self.constant(&format!("{what}.bias"), &[bias.len()], bias.to_vec());
        self.node("Gemm", "", what, &[src, wt, bt], out, vec![("transB", Attr::Int(1))])
    }

    /// The source of the decisions and their weights: `X` with the weights folded through a
    /// LINEAR kernel, else the kernel matrix `K` of `X` and `weights` as they are.
    fn kernel(&mut self, x: Tid, kernel: Kernel, sv: &Array2<f32>, weights: &Array2<f32>) -> (Tid, Array2<f32>) {
        let svs = |b: &mut Self| b.constant("support_vectors", &[sv.nrows(), sv.ncols()], sv.iter().copied().collect());
        let product = |b: &mut Self, gamma: f32, coef0: f32| {
            let s = svs(b);
            let mut inputs = vec![x, s];
            if coef0 != 0.0 {
                inputs.push(b.constant("coef0", &[1], vec![coef0]));
            }
            b.node("Gemm", "", "dot", &inputs, None, vec![("transB", Attr::Int(1)), ("alpha", Attr::Float(gamma))])
        };
        let k = match kernel {
            Kernel::Linear => {
                let w = weights.mapv(|v| v as f64).dot(&sv.mapv(|v| v as f64));
                return (x, w.mapv(|v| v as f32));
            }
            Kernel::Poly { gamma, coef0, degree } => {
                let dot = product(self, gamma, coef0);
                let d = self.constant("degree", &[], vec![degree]);
                self.node("Pow", "", "kernel", &[dot, d], None, vec![])
            }
            Kernel::Sigmoid { gamma, coef0 } => {
                let dot = product(self, gamma, coef0);
                self.node("Tanh", "", "kernel", &[dot], None, vec![])
            }
            Kernel::Rbf { gamma } => self.node(
                "RbfKernel",
                INTERNAL,
                "kernel",
                &[x],
                None,
                vec![("support_vectors", Attr::Floats(sv.iter().copied().collect())), ("gamma", Attr::Float(gamma))],
            ),
        };
        (k, weights.clone())
    }

    /// The input `X` and its feature count, checked against `features`.
    fn input(&self, n: &Node, features: usize) -> R<Tid> {
        let x = n.input(0).ok_or("input X missing")?;
        match self.g.shape(x) {
            &[_, f] if f == features => Ok(x),
            s => Err(format!("X of shape {s:?}: the SVM takes [N, {features}]")),
        }
    }

    fn regressor(&mut self, n: &Node) -> R<()> {
        let r = Regressor::from_node(n)?;
        let x = self.input(n, r.features())?;
        let y = n.outputs[0];
        let out = (!r.one_class).then_some(y);
        let coefficients = Array2::from_shape_vec((1, r.coefficients.len()), r.coefficients.clone()).unwrap();
        let d = match &r.support {
            Some(sv) => {
                let (src, w) = self.kernel(x, r.kernel, sv, &coefficients);
                self.gemm("decision", src, &w, &[r.rho], out)
            }
            None => self.gemm("decision", x, &coefficients, &[r.rho], out),
        };
        if r.one_class {
            let zero = self.constant("zero", &[], vec![0.0]);
            let positive = self.node("Greater", "", "positive", &[d, zero], None, vec![]);
            let two = self.constant("two", &[], vec![2.0]);
            let doubled = self.node("Mul", "", "doubled", &[positive, two], None, vec![]);
            let one = self.constant("one", &[], vec![1.0]);
            self.node("Sub", "", "sign", &[doubled, one], Some(y), vec![]);
            self.g.prescribed.insert(positive, COUNTS);
            self.g.prescribed.insert(doubled, COUNTS);
            self.g.prescribed.insert(y, SIGNS);
        }
        Ok(())
    }

    /// The post transform of the scores `s` into `out`.
    fn transform(&mut self, kind: &str, s: Tid, out: Tid) -> R<()> {
        match kind {
            "LOGISTIC" => self.node("Sigmoid", "", "logistic", &[s], Some(out), vec![]),
            "SOFTMAX" => self.node("Softmax", "", "softmax", &[s], Some(out), vec![("axis", Attr::Int(1))]),
            other => return Err(format!("post_transform {other} of the scores is not supported (NONE, LOGISTIC, SOFTMAX)")),
        };
        Ok(())
    }

    fn classifier(&mut self, n: &Node) -> R<()> {
        let c = Classifier::from_node(n)?;
        let classes = c.classes();
        if classes > 255 {
            return Err(format!("{classes} classes: the vote counts of more than 255 classes do not fit an int8 code each"));
        }
        let x = self.input(n, c.features())?;
        let (label, scores) = (n.outputs[0], n.outputs.get(1).copied());
        let pairs = svm::pairs(classes);
        let (src, w) = match &c.support {
            Some(sv) => self.kernel(x, c.kernel, sv, &c.weights),
            None if classes == 2 => {
                return Err("the two-class liblinear form (no support vectors; onnxruntime labels by thresholds 0.5 and 0 of the top score) is not supported".into());
            }
            None => (x, c.weights.clone()),
        };
        // the decisions are the scores output itself when nothing transforms them
        let plain = c.prob.is_none() && (classes > 2 || c.support.is_none()) && c.post == "NONE";
        let d = self.gemm("decision", src, &w, &c.rho, scores.filter(|_| plain));
        // the label
        let votes = if c.support.is_some() {
            let zero = self.constant("zero", &[], vec![0.0]);
            let positive = self.node("Greater", "", "positive", &[d, zero], None, vec![]);
            let mut m = Array2::zeros((classes, pairs.len()));
            let mut second = vec![0f32; classes];
            for (p, &(i, j)) in pairs.iter().enumerate() {
                m[[i, p]] = 1.0;
                m[[j, p]] = -1.0;
                second[j] += 1.0;
            }
            let votes = self.gemm("votes", positive, &m, &second, None);
            self.g.prescribed.insert(positive, COUNTS);
            self.g.prescribed.insert(votes, COUNTS);
            votes
        } else {
            d
        };
        let idx = self.node("ArgMax", "", "argmax", &[votes], None, vec![("axis", Attr::Int(1)), ("keepdims", Attr::Int(0))]);
        let labels = self.g.add_tensor(&format!("{}.labels", self.name), false);
        self.g.tensors[labels].shape = Some(vec![classes]);
        self.g.consts.insert(labels, Value::Int(ArrayD::from_shape_vec(IxDyn(&[classes]), c.labels.clone()).unwrap()));
        self.node("ArrayFeatureExtractor", ML, "label", &[labels, idx], Some(label), vec![]);
        // the scores
        let Some(z) = scores else { return Ok(()) };
        if plain {
            return Ok(());
        }
        if let Some((a, b)) = &c.prob {
            if classes > 2 {
                return Err(format!(
                    "probability outputs of {classes} classes (prob_a, prob_b) are not supported: libsvm's pairwise coupling is an iterative solve with no integer form (two classes are)"
                ));
            }
            // t = a·D + b, one more decision column over the same source
            let t = self.gemm("platt", src, &w.mapv(|v| v * a[0]), &[c.rho[0] * a[0] + b[0]], None);
            let neg = self.node("Neg", "", "platt_negated", &[t], None, vec![]);
            let both = self.node("Concat", "", "platt_pair", &[neg, t], None, vec![("axis", Attr::Int(1))]);
            if c.post == "NONE" {
                self.node("Sigmoid", "", "probabilities", &[both], Some(z), vec![]);
            } else {
                let p = self.node("Sigmoid", "", "probabilities", &[both], None, vec![]);
                self.transform(&c.post, p, z)?;
            }
            return Ok(());
        }
        if classes > 2 || c.support.is_none() {
            return self.transform(&c.post, d, z);
        }
        let first = match c.post.as_str() {
            "NONE" => self.node("Neg", "", "negated", &[d], None, vec![]),
            "LOGISTIC" | "SOFTMAX" | "SOFTMAX_ZERO" => {
                let one = self.constant("one", &[], vec![1.0]);
                self.node("Sub", "", "complement", &[one, d], None, vec![])
            }
            other => {
                return Err(format!("post_transform {other} of a two-class SVM is not supported (onnxruntime writes one score of two)"));
            }
        };
        self.node("Concat", "", "scores", &[first, d], Some(z), vec![("axis", Attr::Int(1))]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testutil::*;

    fn ml_node(op: &str, attrs: Vec<(&str, Attr)>, outputs: Vec<Tid>) -> Node {
        Node {
            name: "svm".into(),
            op: op.into(),
            domain: ML.into(),
            attrs: attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            inputs: vec![Some(0)],
            outputs,
        }
    }

    /// Deterministic pseudo-random values in [−1.5, 1.5].
    fn values(count: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2654435761).wrapping_add(7);
        (0..count)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s % 3001) as f32 / 1000.0 - 1.5
            })
            .collect()
    }

    /// An SVMClassifier over 3 features: `per_class` vectors per class, labels 10, 20, …
    fn classifier(kernel: &str, per_class: &[i64], more: Vec<(&str, Attr)>, with_scores: bool) -> Graph {
        let mut g = graph(&[("x", &[6, 3])]);
        let classes = per_class.len();
        let count = per_class.iter().sum::<i64>() as usize;
        let pairs = classes * (classes - 1) / 2;
        let mut attrs = vec![
            ("kernel_type", Attr::Str(kernel.into())),
            ("kernel_params", Attr::Floats(vec![0.4, 0.5, 3.0])),
            ("classlabels_ints", Attr::Ints((0..classes as i64).map(|c| 10 * (c + 1)).collect())),
            ("vectors_per_class", Attr::Ints(per_class.to_vec())),
            ("support_vectors", Attr::Floats(values(count * 3, 1))),
            ("coefficients", Attr::Floats(values((classes - 1) * count, 2))),
            ("rho", Attr::Floats(values(pairs, 3))),
        ];
        attrs.extend(more);
        let label = g.add_tensor("label", false);
        let mut outputs = vec![label];
        if with_scores {
            outputs.push(g.add_tensor("scores", true));
        }
        g.nodes.push(ml_node("SVMClassifier", attrs, outputs.clone()));
        for o in outputs {
            output(&mut g, o);
        }
        g
    }

    fn ops(g: &Graph) -> Vec<&str> {
        g.nodes.iter().map(|n| n.op.as_str()).collect()
    }

    #[test]
    fn classifiers_become_kernel_decisions_votes_and_scores() {
        for (kernel, per_class, post, want) in [
            ("RBF", &[2, 3, 1][..], "NONE", &["RbfKernel", "Gemm", "Greater", "Gemm", "ArgMax", "ArrayFeatureExtractor"][..]),
            ("POLY", &[2, 3, 1, 2], "SOFTMAX", &["Gemm", "Pow", "Gemm", "Greater", "Gemm", "ArgMax", "ArrayFeatureExtractor", "Softmax"]),
            ("SIGMOID", &[2, 2], "NONE", &["Gemm", "Tanh", "Gemm", "Greater", "Gemm", "ArgMax", "ArrayFeatureExtractor", "Neg", "Concat"]),
            ("LINEAR", &[3, 2], "LOGISTIC", &["Gemm", "Greater", "Gemm", "ArgMax", "ArrayFeatureExtractor", "Sub", "Concat"]),
            ("LINEAR", &[1, 2, 2], "LOGISTIC", &["Gemm", "Greater", "Gemm", "ArgMax", "ArrayFeatureExtractor", "Sigmoid"]),
        ] {
            let g = classifier(kernel, per_class, vec![("post_transform", Attr::Str(post.into()))], true);
            // check_preserves compares the labels (as numbers) and the scores
            let (g, changed) = check_preserves(g, |g| run(g).unwrap());
            assert!(changed);
            assert_eq!(ops(&g), want, "{kernel} {per_class:?} {post}");
            let votes = g.nodes.iter().filter(|n| n.op == "Gemm").nth(if kernel == "RBF" || kernel == "LINEAR" { 1 } else { 2 }).unwrap();
            assert_eq!(g.prescribed.get(&votes.outputs[0]), Some(&COUNTS));
        }
        // only the label
        let (g, _) = check_preserves(classifier("RBF", &[1, 1], vec![], false), |g| run(g).unwrap());
        assert_eq!(ops(&g), ["RbfKernel", "Gemm", "Greater", "Gemm", "ArgMax", "ArrayFeatureExtractor"]);
    }

    #[test]
    fn votes_and_their_ties_are_onnxruntimes() {
        // many rows, four classes: the expanded labels equal the op's on every one, ties included
        let mut g = classifier("RBF", &[2, 1, 3, 2], vec![], true);
        g.tensors[0].shape = Some(vec![400, 3]);
        crate::calibrate::infer_shapes(&mut g).unwrap();
        let x = Value::Float(ArrayD::from_shape_vec(IxDyn(&[400, 3]), values(1200, 9)).unwrap());
        let before = crate::calibrate::run_float(&g, std::slice::from_ref(&x)).unwrap()[&g.outputs[0]].to_i64();
        let mut h = g.clone();
        run(&mut h).unwrap();
        let after = crate::calibrate::run_float(&h, std::slice::from_ref(&x)).unwrap()[&h.outputs[0]].to_i64();
        assert_eq!(before, after);
        // the rows where the most votes are shared: the first class among them wins
        let c = svm::Classifier::from_node(&g.nodes[0]).unwrap();
        let ties = c
            .decisions(&x.to_f32())
            .unwrap()
            .rows()
            .into_iter()
            .filter(|d| {
                let mut votes = [0; 4];
                for (&v, &(i, j)) in d.iter().zip(&svm::pairs(4)) {
                    votes[if v > 0.0 { i } else { j }] += 1;
                }
                let top = *votes.iter().max().unwrap();
                votes.iter().filter(|&&v| v == top).count() > 1
            })
            .count();
        assert!(ties > 0, "no tie among the rows");
    }

    #[test]
    fn two_class_probabilities_are_the_platt_sigmoids() {
        let more = vec![("prob_a", Attr::Floats(vec![-1.7])), ("prob_b", Attr::Floats(vec![0.2]))];
        let mut g = classifier("RBF", &[2, 3], more, true);
        crate::calibrate::infer_shapes(&mut g).unwrap();
        let x = Value::Float(ArrayD::from_shape_vec(IxDyn(&[6, 3]), values(18, 4)).unwrap());
        let before = crate::calibrate::run_float(&g, std::slice::from_ref(&x)).unwrap();
        let mut h = g.clone();
        assert!(run(&mut h).unwrap());
        assert_eq!(ops(&h)[6..], ["Gemm", "Neg", "Concat", "Sigmoid"]);
        let after = crate::calibrate::run_float(&h, &[x]).unwrap();
        assert_eq!(before[&g.outputs[0]], after[&h.outputs[0]]);
        // onnxruntime's coupling stops within its tolerance of the sigmoids
        for (a, b) in before[&g.outputs[1]].to_f32().iter().zip(after[&h.outputs[1]].to_f32().iter()) {
            assert!((a - b).abs() < 2e-3, "{a} vs {b}");
        }
    }

    #[test]
    fn regressors_become_one_gemm_over_the_kernel() {
        for (kernel, one_class, want) in [
            ("RBF", false, &["RbfKernel", "Gemm"][..]),
            ("LINEAR", false, &["Gemm"]),
            ("POLY", true, &["Gemm", "Pow", "Gemm", "Greater", "Mul", "Sub"]),
        ] {
            let mut g = graph(&[("x", &[5, 3])]);
            let y = g.add_tensor("y", true);
            let attrs = vec![
                ("kernel_type", Attr::Str(kernel.into())),
                ("kernel_params", Attr::Floats(vec![0.3, 1.0, 2.0])),
                ("n_supports", Attr::Int(4)),
                ("support_vectors", Attr::Floats(values(12, 5))),
                ("coefficients", Attr::Floats(values(4, 6))),
                ("rho", Attr::Floats(vec![0.4])),
                ("one_class", Attr::Int(one_class as i64)),
            ];
            g.nodes.push(ml_node("SVMRegressor", attrs, vec![y]));
            output(&mut g, y);
            let (g, changed) = check_preserves(g, |g| run(g).unwrap());
            assert!(changed);
            assert_eq!(ops(&g), want, "{kernel}");
            assert_eq!(g.outputs, [y]);
        }
    }

    #[test]
    fn unsupported_forms_name_the_node() {
        let fails = |mut g: Graph, want: &str| {
            let e = run(&mut g).unwrap_err().to_string();
            assert!(e.contains("svm") && e.contains(want), "{e}");
        };
        let platt = |n: usize| vec![("prob_a", Attr::Floats(vec![-1.0; n])), ("prob_b", Attr::Floats(vec![0.0; n]))];
        fails(classifier("RBF", &[1, 1, 1], platt(3), true), "iterative solve");
        fails(classifier("RBF", &[1, 1], vec![("post_transform", Attr::Str("PROBIT".into()))], true), "PROBIT");
        fails(classifier("RBF", &[1, 1, 1], vec![("post_transform", Attr::Str("SOFTMAX_ZERO".into()))], true), "SOFTMAX_ZERO");
        let mut g = classifier("RBF", &[1, 1], vec![], true);
        g.tensors[0].shape = Some(vec![6, 4]);
        fails(g, "the SVM takes [N, 3]");
        let mut g = classifier("LINEAR", &[1, 1], vec![], true);
        g.nodes[0].attrs.remove("vectors_per_class");
        g.nodes[0].attrs.insert("coefficients".into(), Attr::Floats(vec![1.0; 6]));
        fails(g, "two-class liblinear");
    }
}
