//! Matrix products: `Gemm` ([`GemmAttrs`]) and `MatMul` (numpy batch broadcasting; a bias
//! input 2 is added by [`crate::passes::fuse_matmul_add`]).
//!
//! Float semantics in `f32`. Lowering: a run-time operand times a constant matrix is `Dense`
//! (weights per output channel, `alpha` folded into the weights, `beta` into the bias); two
//! run-time MatMul operands are spec `MatMul`.

use ndarray::{ArrayD, Axis, IxDyn};
use solidml_spec::{Dense, Op};

use super::{OpDef, R, input};
use crate::{
    float::{broadcast_shape, to2d},
    ir::{Graph, Node, Value},
    quantize::{Lowering, epilogue, multiplier, quantize_weights},
};

pub(crate) const OPS: &[OpDef] = &[OpDef::new("", "Gemm", eval_gemm, lower), OpDef::new("", "MatMul", eval_matmul, lower)];

/// Gemm's attributes (ONNX defaults: `alpha = beta = 1`, no transposition).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GemmAttrs {
    /// Scale of the product `A' · B'` (attribute `alpha`, default 1.0).
    pub alpha: f32,
    /// Scale of the bias `C` (attribute `beta`, default 1.0).
    pub beta: f32,
    /// Whether `A` is transposed before the product (attribute `transA`, default 0).
    pub trans_a: bool,
    /// Whether `B` is transposed before the product (attribute `transB`, default 0).
    pub trans_b: bool,
}

impl GemmAttrs {
    /// The attributes of Gemm node `n`, ONNX defaults where absent (a non-zero `transA` or
    /// `transB` is true).
    pub fn parse(n: &Node) -> GemmAttrs {
        GemmAttrs {
            alpha: n.float("alpha", 1.0),
            beta: n.float("beta", 1.0),
            trans_a: n.int("transA", 0) != 0,
            trans_b: n.int("transB", 0) != 0,
        }
    }
}

fn eval_gemm(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let at = GemmAttrs::parse(n);
    let b = input(ins, 1)?;
    if b.shape().len() != 2 {
        // the BatchNormalization fold and the lowering read B's axes as [K, N] (or [N, K])
        return Err(format!("Gemm B of shape {:?} is not a matrix", b.shape()));
    }
    let (mut a, mut b) = (to2d(input(ins, 0)?.to_f32())?, to2d(b.to_f32())?);
    if at.trans_a {
        a = a.reversed_axes();
    }
    if at.trans_b {
        b = b.reversed_axes();
    }
    if a.ncols() != b.nrows() {
        return Err(format!("Gemm operands {:?} × {:?} (after transposition) do not multiply", a.shape(), b.shape()));
    }
    let (m, k, nc) = (a.nrows(), a.ncols(), b.ncols());
    super::check_elements(&[m, nc], "the Gemm output")?;
    super::check_work(&[m, k, nc], &format!("Gemm {:?} × {:?}", a.shape(), b.shape()))?;
    let mut y = (a.dot(&b) * at.alpha).into_dyn();
    if let Some(c) = ins.get(2).copied().flatten() {
        let c = c.to_f32() * at.beta;
        y = add_bias(&y, &c)?;
        if y.ndim() != 2 {
            return Err(format!("the Gemm bias {:?} widens the product {:?}", c.shape(), [m, nc]));
        }
    }
    Ok(vec![Value::Float(y)])
}

/// `y + c`, broadcast (an error, not ndarray's panic, when the shapes do not broadcast).
fn add_bias(y: &ArrayD<f32>, c: &ArrayD<f32>) -> R<ArrayD<f32>> {
    broadcast_shape(y.shape(), c.shape())?;
    Ok(y + c)
}

fn eval_matmul(_: &Graph, _: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let y = matmul(&input(ins, 0)?.to_f32(), &input(ins, 1)?.to_f32())?;
    // a bias input is added by `passes::fuse_matmul_add`
    Ok(vec![Value::Float(match ins.get(2).copied().flatten() {
        Some(b) => add_bias(&y, &b.to_f32())?,
        None => y,
    })])
}

fn matmul(a: &ArrayD<f32>, b: &ArrayD<f32>) -> R<ArrayD<f32>> {
    if a.ndim() == 0 || b.ndim() == 0 {
        return Err("MatMul of a scalar".into());
    }
    if b.ndim() == 2 {
        let k = b.shape()[0];
        let lead = &a.shape()[..a.ndim() - 1];
        if *a.shape().last().unwrap_or(&0) != k {
            return Err(format!("MatMul shapes {:?} × {:?}", a.shape(), b.shape()));
        }
        let mut shape = lead.to_vec();
        shape.push(b.shape()[1]);
        super::check_elements(&shape, "the MatMul output")?;
        super::check_work(&[lead.iter().product(), k, b.shape()[1]], &format!("MatMul {:?} × {:?}", a.shape(), b.shape()))?;
        let a2 = to2d(a.clone())?;
        let b2: ndarray::Array2<f32> = b.clone().into_dimensionality().unwrap();
        let y = a2.dot(&b2);
        return y.into_shape_with_order(IxDyn(&shape)).map_err(|e| e.to_string());
    }
    if a.ndim() < 2 || b.ndim() < 2 {
        return Err("MatMul with 1-D operands is not supported".into());
    }
    let (m, k, n) = (a.shape()[a.ndim() - 2], a.shape()[a.ndim() - 1], b.shape()[b.ndim() - 1]);
    if b.shape()[b.ndim() - 2] != k {
        return Err(format!("MatMul shapes {:?} × {:?}", a.shape(), b.shape()));
    }
    let batch = broadcast_shape(&a.shape()[..a.ndim() - 2], &b.shape()[..b.ndim() - 2])?;
    let mut sa = batch.clone();
    sa.extend([m, k]);
    let mut sb = batch.clone();
    sb.extend([k, n]);
    let mut so = batch.clone();
    so.extend([m, n]);
    for (s, what) in [(&sa, "the broadcast MatMul operand A"), (&sb, "the broadcast MatMul operand B"), (&so, "the MatMul output")] {
        super::check_elements(s, what)?;
    }
    super::check_work(&[batch.iter().product(), m, k, n], &format!("MatMul {:?} × {:?}", a.shape(), b.shape()))?;
    let ab = a.broadcast(IxDyn(&sa)).ok_or("broadcast")?.as_standard_layout().into_owned();
    let bb = b.broadcast(IxDyn(&sb)).ok_or("broadcast")?.as_standard_layout().into_owned();
    let nb: usize = batch.iter().product();
    let a3 = ab.into_shape_with_order((nb, m, k)).unwrap();
    let b3 = bb.into_shape_with_order((nb, k, n)).unwrap();
    let mut out = ndarray::Array3::<f32>::zeros((nb, m, n));
    for i in 0..nb {
        out.index_axis_mut(Axis(0), i).assign(&a3.index_axis(Axis(0), i).dot(&b3.index_axis(Axis(0), i)));
    }
    out.into_shape_with_order(IxDyn(&so)).map_err(|e| e.to_string())
}

fn lower(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let at = n.input(0).ok_or("input missing")?;
    if g.is_const(at) {
        return Err("a constant left operand is not supported (only run-time × constant)".into());
    }
    let x = l.id(at)?;
    let bt = n.input(1).ok_or("input missing")?;
    if n.op == "MatMul" && !g.is_const(bt) {
        // two run-time tensors
        if n.input(2).is_some() {
            return Err("a bias on a product of two run-time tensors is not supported".into());
        }
        let b = l.id(bt)?;
        let (qa, qb) = (l.quant(x), l.quant(b));
        if g.shape(at).len() < 2 || g.shape(bt).len() < 2 {
            return Err("MatMul of run-time tensors needs operands of rank ≥ 2".into());
        }
        let y = n.outputs[0];
        let qo = l.range_quant(y)?;
        let mm = solidml_spec::MatMul {
            a_zero_point: qa.zero_point,
            b_zero_point: qb.zero_point,
            multiplier: multiplier(qa.scale as f64 * qb.scale as f64 / qo.scale as f64)?,
            output_zero_point: qo.zero_point,
        };
        let o = l.out(y, qo);
        l.emit(&n.name, Op::MatMul(mm), vec![x, b], vec![o]);
        return Ok(());
    }
    let b = l.const_value(n.input(1)).ok_or("products of two run-time tensors are not supported for Gemm")?.to_f32();
    if b.ndim() != 2 {
        return Err(format!("the constant operand must be a matrix, it has shape {:?}", b.shape()));
    }
    let (w, bias): (ArrayD<f32>, Option<Vec<f32>>) = if n.op == "Gemm" {
        let ga = GemmAttrs::parse(n);
        if ga.trans_a {
            return Err("Gemm with transA=1 is not supported".into());
        }
        let wt = if ga.trans_b { b.clone() } else { b.t().to_owned() };
        let wt = wt * ga.alpha;
        let rows = if ga.trans_b { b.shape()[0] } else { b.shape()[1] };
        (wt, bias_vector(l, n, rows, ga.beta)?)
    } else {
        let cols = b.shape()[1];
        (b.t().to_owned(), bias_vector(l, n, cols, 1.0)?)
    };
    let y = n.outputs[0];
    let (qi, qo) = (l.quant(x), l.range_quant(y)?);
    let (weights, bias_q, multipliers) = quantize_weights(&w, 0, bias.as_deref(), qi, qo)?;
    let (nout, k) = (w.shape()[0], w.shape()[1]);
    let d = Dense {
        in_features: k as u32,
        out_features: nout as u32,
        input_zero_point: qi.zero_point,
        weights,
        bias: bias_q,
        epilogue: epilogue(n, multipliers, qo),
    };
    let o = l.out(y, qo);
    l.emit(&n.name, Op::Dense(d), vec![x], vec![o]);
    Ok(())
}

/// The bias input 2 as a vector over the `outs` outputs (a scalar is repeated), times `beta`.
fn bias_vector(l: &Lowering<'_>, n: &Node, outs: usize, beta: f32) -> R<Option<Vec<f32>>> {
    let Some(t) = n.input(2) else { return Ok(None) };
    let c = l.const_value(Some(t)).ok_or("the bias must be a constant")?.to_f32();
    let v: Vec<f32> = c.iter().map(|&x| x * beta).collect();
    if v.len() == outs {
        Ok(Some(v))
    } else if v.len() == 1 {
        Ok(Some(vec![v[0]; outs]))
    } else {
        Err(format!("bias of shape {:?} is not a vector over the {outs} outputs", c.shape()))
    }
}
