//! Signal-processing ops:
//!
//! * `DFT(x, dft_length?, axis?)`, `inverse`, `onesided`: `x` is `[…, 1]` (real) or `[…, 2]`
//!   (complex, `(re, im)`); along `axis` (opset ≥ 20: constant input 2, default −2; before:
//!   attribute, default 1) the signal, zero-padded or truncated to `N = dft_length` (default:
//!   the axis length), is transformed: `X[k] = s · Σₙ x[n] · e^(∓2πi·kn/N)` (`−` and `s = 1`
//!   forward, `+` and `s = 1/N` inverse), for `k < N`, or `k ≤ ⌊N/2⌋` when `onesided`; the
//!   output is `[…, K, …, 2]`. A linear map of each `(axis, re/im)` slice: expanded before
//!   calibration ([`crate::passes::expand_ops`]) into `Transpose` (the axis next to the last),
//!   `Reshape` (`[…, L·c]`), `MatMul` by the constant `[L·c, K·2]` matrix (a Dense),
//!   `Reshape` (`[…, K, 2]`) and `Transpose` back. `dft_length` and `axis` must be constants.
//! * `HannWindow`, `HammingWindow`, `BlackmanWindow(size)`, `periodic` (default 1),
//!   `output_datatype`: `w[n] = a₀ − a₁·cos(2πn/M) + a₂·cos(4πn/M)` for `n < size`, `M = size`
//!   (periodic) or `size − 1`, with `(a₀, a₁, a₂)` = `(½, ½, 0)`, `(25/46, 21/46, 0)`,
//!   `(0.42, 0.5, 0.08)`.
//! * `MelWeightMatrix(num_mel_bins, dft_length, sample_rate, lower_edge_hertz,
//!   upper_edge_hertz)`, `output_datatype`: the `[dft_length/2 + 1, num_mel_bins]` triangular
//!   filter bank of the ONNX reference (mel = 2595·log₁₀(1 + f/700), `num_mel_bins + 2` points
//!   evenly spaced in mel, mapped to FFT bins by `⌊(dft_length + 1)·f / sample_rate⌋`).
//!
//! The windows and the mel matrix depend only on their (scalar) inputs: constant folding
//! evaluates them when those are constants; with a run-time input they are not supported (the
//! output's shape would depend on run-time values).

use ndarray::{Array2, ArrayD, IxDyn};

use super::{OpDef, R, input};
use crate::{
    float::norm_axis,
    ir::{Graph, Node, Tid, Value},
    passes::expand_ops::{Expansion, lower_expanded},
    quantize::Lowering,
};

pub(crate) const OPS: &[OpDef] = &[
    OpDef::new("", "BlackmanWindow", eval_window, lower_constant),
    OpDef::new("", "DFT", eval_dft, lower_expanded),
    OpDef::new("", "HammingWindow", eval_window, lower_constant),
    OpDef::new("", "HannWindow", eval_window, lower_constant),
    OpDef::new("", "MelWeightMatrix", eval_mel, lower_constant),
];

/// A DFT node's transform on an input of `shape`: the axis, the input length `L`, the
/// input's parts `c` (1 or 2) and the `[L·c, K·2]` matrix.
struct Dft {
    axis: usize,
    matrix: Array2<f32>,
}

/// The DFT of node `n` under `opset` on an input of `shape`, with the constant `dft_length`
/// and `axis` inputs (`None`: omitted).
fn dft_plan(n: &Node, opset: i64, shape: &[usize], length: Option<&Value>, axis_in: Option<&Value>) -> R<Dft> {
    let rank = shape.len();
    let c = *shape.last().ok_or("DFT of a scalar")?;
    if rank < 2 || !(c == 1 || c == 2) {
        return Err(format!("DFT input of shape {shape:?}: the last axis must be 1 (real) or 2 (complex)"));
    }
    let scalar = |v: &Value, what: &str| -> R<i64> {
        let a = v.to_i64();
        if a.len() != 1 {
            return Err(format!("DFT {what} must be a scalar, got shape {:?}", a.shape()));
        }
        Ok(a.iter().next().copied().unwrap_or(0))
    };
    let axis = if opset >= 20 { axis_in.map(|v| scalar(v, "axis")).transpose()?.unwrap_or(-2) } else { n.int("axis", 1) };
    let axis = norm_axis(axis, rank)?;
    if axis == rank - 1 {
        return Err(format!("DFT axis {axis} is the last (real/imaginary) axis"));
    }
    let l = shape[axis];
    let len = match length {
        Some(v) => usize::try_from(scalar(v, "dft_length")?).ok().filter(|&d| d > 0).ok_or("DFT dft_length must be positive")?,
        None => l,
    };
    let inverse = n.int("inverse", 0) != 0;
    let k = if n.int("onesided", 0) != 0 { len / 2 + 1 } else { len };
    super::check_elements(&[l * c, k * 2], "the DFT matrix")?;
    let (sign, scale) = if inverse { (1.0, 1.0 / len as f64) } else { (-1.0, 1.0) };
    let mut m = Array2::<f32>::zeros((l * c, k * 2));
    for i in 0..l.min(len) {
        for f in 0..k {
            let theta = 2.0 * std::f64::consts::PI * ((i * f) % len) as f64 / len as f64;
            let (co, si) = (theta.cos() * scale, sign * theta.sin() * scale);
            m[[i * c, f * 2]] = co as f32;
            m[[i * c, f * 2 + 1]] = si as f32;
            if c == 2 {
                m[[i * c + 1, f * 2]] = -si as f32;
                m[[i * c + 1, f * 2 + 1]] = co as f32;
            }
        }
    }
    Ok(Dft { axis, matrix: m })
}

/// The permutation putting `axis` next to the last axis, and its inverse.
fn dft_perm(rank: usize, axis: usize) -> (Vec<usize>, Vec<usize>) {
    let mut perm: Vec<usize> = (0..rank - 1).filter(|&a| a != axis).collect();
    perm.extend([axis, rank - 1]);
    let mut inv = vec![0; rank];
    for (i, &p) in perm.iter().enumerate() {
        inv[p] = i;
    }
    (perm, inv)
}

fn eval_dft(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?.to_f32();
    let shape = x.shape().to_vec();
    let get = |i: usize| ins.get(i).copied().flatten();
    let d = dft_plan(n, g.opset, &shape, get(1), get(2))?;
    let (perm, inv) = dft_perm(shape.len(), d.axis);
    let t = x.view().permuted_axes(IxDyn(&perm)).as_standard_layout().to_owned();
    let lead: Vec<usize> = perm[..perm.len() - 2].iter().map(|&a| shape[a]).collect();
    let rows: usize = lead.iter().product();
    super::check_work(&[rows, d.matrix.nrows(), d.matrix.ncols()], "DFT")?;
    let flat = t.into_shape_with_order((rows, d.matrix.nrows())).map_err(|e| e.to_string())?;
    let y = flat.dot(&d.matrix);
    let mut s = lead;
    s.extend([d.matrix.ncols() / 2, 2]);
    let y = y.into_shape_with_order(IxDyn(&s)).map_err(|e| e.to_string())?;
    Ok(vec![Value::Float(y.view().permuted_axes(IxDyn(&inv)).as_standard_layout().to_owned())])
}

/// DFT: Transpose, Reshape, MatMul by the constant matrix, Reshape, Transpose.
pub(crate) fn expand_dft(e: &mut Expansion<'_>, n: &Node) -> R<Tid> {
    let x = n.input(0).ok_or("input 0 missing")?;
    let mut consts = vec![];
    for (i, what) in [(1, "dft_length"), (2, "axis")] {
        match n.input(i) {
            Some(t) if !e.g.is_const(t) => {
                return Err(format!("the DFT {what} must be constant, but input {i} (`{}`) is computed at run time", e.g.name(t)));
            }
            t => consts.push(t.map(|t| e.g.consts[&t].clone())),
        }
    }
    let shape = e.shape(x);
    let d = dft_plan(n, e.g.opset, &shape, consts[0].as_ref(), consts[1].as_ref())?;
    let (perm, inv) = dft_perm(shape.len(), d.axis);
    let t = e.transpose(x, &perm);
    let mut lead: Vec<usize> = perm[..perm.len() - 2].iter().map(|&a| shape[a]).collect();
    let mut s = lead.clone();
    s.push(d.matrix.nrows());
    let flat = e.reshape(t, &s)?;
    let (rows, cols) = d.matrix.dim();
    let w = e.floats(&[rows, cols], d.matrix.into_raw_vec_and_offset().0)?;
    let y = e.op("MatMul", &[flat, w], vec![]);
    lead.extend([cols / 2, 2]);
    let y = e.reshape(y, &lead)?;
    Ok(e.transpose(y, &inv))
}

/// A window op's coefficients `(a₀, a₁, a₂)`.
fn window_coefficients(op: &str) -> R<(f64, f64, f64)> {
    match op {
        "HannWindow" => Ok((0.5, 0.5, 0.0)),
        "HammingWindow" => Ok((25.0 / 46.0, 21.0 / 46.0, 0.0)),
        "BlackmanWindow" => Ok((0.42, 0.5, 0.08)),
        other => Err(format!("{other} is not a window op")),
    }
}

/// A real or integer output of `output_datatype` (default float).
fn typed(n: &Node, v: ArrayD<f64>) -> Value {
    if super::shape::is_float_type(n.int("output_datatype", 1)) {
        Value::Float(v.mapv(|x| x as f32))
    } else {
        Value::Int(v.mapv(|x| x as i64))
    }
}

/// The scalar input `i` as an integer.
fn scalar_int(ins: &[Option<&Value>], i: usize, what: &str) -> R<i64> {
    let v = input(ins, i)?.to_i64();
    if v.len() != 1 {
        return Err(format!("{what} must be a scalar, got shape {:?}", v.shape()));
    }
    Ok(v.iter().next().copied().unwrap_or(0))
}

fn eval_window(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let (a0, a1, a2) = window_coefficients(&n.op)?;
    let size = scalar_int(ins, 0, "the window size")?;
    let size = usize::try_from(size).map_err(|_| format!("{} size {size} is negative", n.op))?;
    super::check_elements(&[size], "the window")?;
    let m = if n.int("periodic", 1) != 0 { size as f64 } else { size as f64 - 1.0 };
    let w = ArrayD::from_shape_fn(IxDyn(&[size]), |ix| {
        let t = 2.0 * std::f64::consts::PI * ix[0] as f64 / m;
        a0 - a1 * t.cos() + a2 * (2.0 * t).cos()
    });
    Ok(vec![typed(n, w)])
}

fn eval_mel(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let bins = scalar_int(ins, 0, "num_mel_bins")?;
    let dft = scalar_int(ins, 1, "dft_length")?;
    let rate = scalar_int(ins, 2, "sample_rate")?;
    let real = |i: usize, what: &str| -> R<f64> {
        let v = input(ins, i)?.to_f32();
        v.iter().next().map(|&x| x as f64).filter(|_| v.len() == 1).ok_or_else(|| format!("{what} must be a scalar"))
    };
    let (lo, hi) = (real(3, "lower_edge_hertz")?, real(4, "upper_edge_hertz")?);
    if bins < 1 || dft < 1 || rate < 1 {
        return Err(format!("MelWeightMatrix num_mel_bins {bins}, dft_length {dft}, sample_rate {rate}: each must be positive"));
    }
    let (bins, spectrum) = (bins as usize, dft as usize / 2 + 1);
    super::check_elements(&[spectrum, bins], "the MelWeightMatrix output")?;
    let mel = |f: f64| 2595.0 * (1.0 + f / 700.0).log10();
    let (mlo, mhi) = (mel(lo), mel(hi));
    let step = (mhi - mlo) / (bins + 2) as f64;
    let points: Vec<i64> = (0..bins + 2)
        .map(|i| {
            let f = 700.0 * (10f64.powf((i as f64 * step + mlo) / 2595.0) - 1.0);
            ((dft + 1) as f64 * f / rate as f64).floor() as i64
        })
        .collect();
    let mut out = Array2::<f64>::zeros((spectrum, bins));
    let mut set = |j: i64, i: usize, v: f64| -> R<()> {
        let j = usize::try_from(j).ok().filter(|&j| j < spectrum).ok_or("MelWeightMatrix: an edge frequency beyond the spectrum")?;
        out[[j, i]] = v;
        Ok(())
    };
    for i in 0..bins {
        let (l, c, h) = (points[i], points[i + 1], points[i + 2]);
        if c == l {
            set(c, i, 1.0)?;
        } else {
            for j in l..=c {
                set(j, i, (j - l) as f64 / (c - l) as f64)?;
            }
        }
        for j in c..h {
            set(j, i, (h - j) as f64 / (h - c) as f64)?;
        }
    }
    Ok(vec![typed(n, out.into_dyn())])
}

/// Windows and the mel matrix are folded when their inputs are constants; otherwise refused.
fn lower_constant(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let runtime: Vec<&str> = n.inputs.iter().flatten().filter(|&&t| !g.is_const(t)).map(|&t| g.name(t)).collect();
    Err(format!(
        "{} is computed at compile time from constant inputs, but {} computed at run time",
        n.op,
        runtime.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ") + if runtime.len() == 1 { " is" } else { " are" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ir::Attr, passes::expand_ops::tests::expands};

    fn node(op: &str, attrs: Vec<(&str, Attr)>) -> Node {
        crate::passes::testutil::detached_node(op, &attrs)
    }

    fn int(v: i64) -> Value {
        Value::Int(ArrayD::from_elem(IxDyn(&[]), v))
    }

    #[test]
    fn dft_of_an_impulse_and_its_inverse() {
        let g = Graph { opset: 19, ..Default::default() };
        // x = [1, 0, 0, 0] (real): every frequency is 1
        let x = Value::Float(ArrayD::from_shape_vec(IxDyn(&[1, 4, 1]), vec![1.0, 0.0, 0.0, 0.0]).unwrap());
        let y = eval_dft(&g, &node("DFT", vec![]), &[Some(&x)]).unwrap().remove(0).to_f32();
        assert_eq!(y.shape(), [1, 4, 2]);
        for (k, v) in y.iter().enumerate() {
            assert!((v - if k % 2 == 0 { 1.0 } else { 0.0 }).abs() < 1e-6, "{y:?}");
        }
        // x = [0, 1, 0, 0]: X[k] = e^(−iπk/2); onesided keeps k ≤ 2
        let x = Value::Float(ArrayD::from_shape_vec(IxDyn(&[1, 4, 1]), vec![0.0, 1.0, 0.0, 0.0]).unwrap());
        let y = eval_dft(&g, &node("DFT", vec![("onesided", Attr::Int(1))]), &[Some(&x)]).unwrap().remove(0).to_f32();
        let want = [1.0, 0.0, 0.0, -1.0, -1.0, 0.0];
        assert!(y.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6), "{y:?}");
        // the inverse of the full transform gives the signal back (as complex)
        let y = eval_dft(&g, &node("DFT", vec![]), &[Some(&x)]).unwrap().remove(0);
        let back = eval_dft(&g, &node("DFT", vec![("inverse", Attr::Int(1))]), &[Some(&y)]).unwrap().remove(0).to_f32();
        let want = [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        assert!(back.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6), "{back:?}");
    }

    #[test]
    fn dft_expands_to_a_matrix_product() {
        let ops = expands("DFT", &[&[1, 6, 5, 1]], vec![int(6), int(1)], vec![("onesided", Attr::Int(1))]);
        assert_eq!(ops, ["Transpose", "Reshape", "MatMul", "Reshape", "Transpose"]);
        // opset 21 (the test graphs' opset): dft_length and axis as constant inputs
        let ops = expands("DFT", &[&[1, 6, 5, 2]], vec![int(8), int(-2)], vec![("inverse", Attr::Int(1))]);
        assert_eq!(ops, ["Reshape", "MatMul", "Reshape"]);
    }

    #[test]
    fn windows_follow_their_cosine_sums() {
        let g = Graph::default();
        let hann = eval_window(&g, &node("HannWindow", vec![("periodic", Attr::Int(0))]), &[Some(&int(5))]).unwrap();
        let want = [0.0, 0.5, 1.0, 0.5, 0.0];
        assert!(hann[0].to_f32().iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6));
        let hamming = eval_window(&g, &node("HammingWindow", vec![]), &[Some(&int(2))]).unwrap()[0].to_f32();
        assert!((hamming[[0]] - 4.0 / 46.0).abs() < 1e-6 && (hamming[[1]] - 1.0).abs() < 1e-6);
        let blackman = eval_window(&g, &node("BlackmanWindow", vec![]), &[Some(&int(4))]).unwrap()[0].to_f32();
        assert!((blackman[[2]] - 1.0).abs() < 1e-6 && blackman[[0]].abs() < 1e-6);
    }

    #[test]
    fn mel_weight_matrix_is_a_triangular_bank() {
        let g = Graph::default();
        let f = |v: f32| Value::Float(ArrayD::from_elem(IxDyn(&[]), v));
        let ins = [int(8), int(16), int(8192), f(0.0), f(4096.0)];
        let refs: Vec<Option<&Value>> = ins.iter().map(Some).collect();
        let m = eval_mel(&g, &node("MelWeightMatrix", vec![]), &refs).unwrap().remove(0).to_f32();
        assert_eq!(m.shape(), [9, 8]);
        // every filter peaks at 1
        for col in m.columns() {
            assert_eq!(col.iter().fold(0f32, |a, &b| a.max(b)), 1.0);
        }
    }
}
