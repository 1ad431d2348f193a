//! `Pad` ([`PadAttrs`]: `pads`/`value` attributes before opset 11, then constant inputs with
//! an optional `axes` input; `mode` constant, reflect, edge or wrap).
//!
//! A negative pad removes that many elements from its end of the axis; as in onnxruntime, the
//! removals come first and the padding applies to what is left (the ONNX reference
//! implementation's `np.pad` refuses negative widths). Float
//! semantics by the index rule of the integer kernel (`solidml_exec::index::pad_source_index`).
//! Lowering: a View slice for the removals, then spec `Pad` (the constant value quantized
//! with the input's quantization). `wrap` (circular, opset 19: `y[i] = x[(i − begin) mod d]`)
//! has no spec mode: per padded axis, a Concat of enough copies of the tensor and a View of
//! the window `[k·d − begin, k·d + d + end)` of them, `k = ⌈begin / d⌉`.

use ndarray::{ArrayD, IxDyn};
use solidml_spec::{Op, Pad, PadMode, io::quantize_f32};

use super::{OpDef, R, input};
use crate::{
    float::norm_axis,
    ir::{Graph, Node, Value},
    quantize::Lowering,
};

pub(crate) const OPS: &[OpDef] = &[OpDef::new("", "Pad", eval, lower)];

/// A Pad node resolved against its input rank.
#[derive(Debug, Clone, PartialEq)]
pub struct PadAttrs {
    /// (begin, end) per axis; negative: elements removed.
    pub pads: Vec<(i64, i64)>,
    /// The fill value of `constant` mode (attribute `value` before opset 11, then input 2;
    /// default 0.0), in real units.
    pub value: f32,
    /// Attribute `mode`: `constant` (default), `reflect`, `edge` or `wrap`.
    pub mode: PadFill,
}

/// How a Pad fills the new positions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PadFill {
    /// One of the spec's modes (constant, reflect, edge).
    Spec(PadMode),
    /// Circular: the other end of the axis (no spec mode; Concat and View).
    Wrap,
}

impl PadAttrs {
    /// Pad node `n` resolved against input rank `rank` under `opset`: `pads` (`paddings` in
    /// opset 1) and `value` from the attributes before opset 11, from constant inputs 1 and 2
    /// since, with the optional `axes` input 3 (opset 18) selecting the padded axes (all by
    /// default).
    pub fn parse(n: &Node, ins: &[Option<&Value>], rank: usize, opset: i64) -> R<PadAttrs> {
        let (pads, value) = pad_spec(n, ins, rank, opset)?;
        Ok(PadAttrs { pads, value, mode: pad_mode(n)? })
    }

    /// The elements each axis keeps of an input of shape `shape` after the removals, as
    /// (first kept index, count): an error when a removal is longer than the axis.
    pub fn kept(&self, shape: &[usize]) -> R<Vec<(usize, usize)>> {
        shape
            .iter()
            .zip(&self.pads)
            .map(|(&d, &(b, e))| {
                let (cut_b, cut_e) = ((-b).max(0) as u64, (-e).max(0) as u64);
                match (d as u64).checked_sub(cut_b + cut_e) {
                    Some(k) => Ok((cut_b as usize, k as usize)),
                    None => Err(format!("negative pads ({b}, {e}) remove more than the axis' {d} elements")),
                }
            })
            .collect()
    }

    /// The padding left once the removals are done: the non-negative parts.
    pub fn growth(&self) -> Vec<(usize, usize)> {
        self.pads.iter().map(|&(b, e)| (b.max(0) as usize, e.max(0) as usize)).collect()
    }
}

/// Pads as (begin, end) per axis and the constant value.
fn pad_spec(n: &Node, ins: &[Option<&Value>], rank: usize, opset: i64) -> R<(Vec<(i64, i64)>, f32)> {
    let (pads, value) = if opset < 11 {
        (n.ints("pads").or_else(|| n.ints("paddings")).unwrap_or_default(), n.float("value", 0.0))
    } else {
        let Some(p) = ins.get(1).copied().flatten() else {
            return Err("the pads (input 1) must be a constant: they are computed at run time".into());
        };
        let p: Vec<i64> = p.to_i64().iter().copied().collect();
        let v = ins.get(2).copied().flatten().and_then(|v| v.to_f32().iter().next().copied()).unwrap_or(0.0);
        (p, v)
    };
    let axes: Vec<usize> = match ins.get(3).copied().flatten() {
        Some(a) => a.to_i64().iter().map(|&x| norm_axis(x, rank)).collect::<R<_>>()?,
        None => (0..rank).collect(),
    };
    if pads.len() != 2 * axes.len() {
        return Err(format!("pads {pads:?}: {} values for {} axes (begins, then ends)", pads.len(), axes.len()));
    }
    let mut out = vec![(0, 0); rank];
    for (i, &a) in axes.iter().enumerate() {
        out[a] = (pads[i], pads[i + axes.len()]);
    }
    Ok((out, value))
}

/// The Pad mode attribute.
fn pad_mode(n: &Node) -> R<PadFill> {
    match n.str("mode", "constant").as_str() {
        "constant" => Ok(PadFill::Spec(PadMode::Constant)),
        "reflect" => Ok(PadFill::Spec(PadMode::Reflect)),
        "edge" => Ok(PadFill::Spec(PadMode::Edge)),
        "wrap" => Ok(PadFill::Wrap),
        other => Err(format!("Pad mode `{other}` is not supported")),
    }
}

fn eval(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?;
    let a = PadAttrs::parse(n, ins, x.shape().len(), g.opset)?;
    let kept = a.kept(&x.shape())?;
    let growth = a.growth();
    let shape: Vec<usize> = kept.iter().zip(&growth).map(|(&(_, k), &(p, q))| k.saturating_add(p).saturating_add(q)).collect();
    super::check_elements(&shape, "the padded output")?;
    let x = x.to_f32();
    let x = x.slice_each_axis(|ax| {
        let (first, count) = kept[ax.axis.index()];
        ndarray::Slice::from(first..first + count)
    });
    Ok(vec![Value::Float(match a.mode {
        PadFill::Spec(mode) => pad(&x.to_owned(), &growth, a.value, mode),
        PadFill::Wrap => pad_wrap(&x.to_owned(), &growth),
    })])
}

/// Circular padding: `y[i] = x[(i − begin) mod d]` on each axis.
fn pad_wrap(x: &ArrayD<f32>, pads: &[(usize, usize)]) -> ArrayD<f32> {
    let shape: Vec<usize> = x.shape().iter().zip(pads).map(|(&d, &(a, b))| d + a + b).collect();
    ArrayD::from_shape_fn(IxDyn(&shape), |idx| {
        let src: Vec<usize> =
            (0..shape.len()).map(|d| (idx[d] as i64 - pads[d].0 as i64).rem_euclid(x.shape()[d].max(1) as i64) as usize).collect();
        x[IxDyn(&src)]
    })
}

/// Padding by the index rule the integer kernel uses (`solidml_exec::index::pad_source_index`).
fn pad(x: &ArrayD<f32>, pads: &[(usize, usize)], value: f32, mode: PadMode) -> ArrayD<f32> {
    let shape: Vec<usize> = x.shape().iter().zip(pads).map(|(&d, &(a, b))| d + a + b).collect();
    ArrayD::from_shape_fn(IxDyn(&shape), |idx| {
        let mut src = vec![0usize; shape.len()];
        for d in 0..shape.len() {
            match solidml_exec::index::pad_source_index(mode, idx[d] as i64 - pads[d].0 as i64, x.shape()[d] as i64) {
                Some(i) if i >= 0 && (i as usize) < x.shape()[d] => src[d] = i as usize,
                _ => return value,
            }
        }
        x[IxDyn(&src)]
    })
}

fn lower(l: &mut Lowering<'_>, n: &Node, ins: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let xt = n.input(0).ok_or("input 0 missing")?;
    let x = l.id(xt)?;
    let y = n.outputs[0];
    let a = PadAttrs::parse(n, ins, g.shape(xt).len(), g.opset)?;
    let kept = a.kept(g.shape(xt))?;
    let growth = a.growth();
    let info = l.model.tensors[x as usize].clone();
    let x = if kept.iter().zip(g.shape(xt)).any(|(&(_, k), &d)| k != d) {
        // the removals: a View of the kept block
        let strides = crate::quantize::row_major(g.shape(xt));
        let offset = kept.iter().zip(&strides).map(|(&(first, _), &s)| (first * s) as u64).sum();
        let shape: Vec<usize> = kept.iter().map(|&(_, k)| k).collect();
        let cropped = l.tensor(&format!("{}.kept", g.name(y)), &shape, info.dtype, info.quant);
        let view = solidml_spec::View { offset, strides: strides.iter().map(|&s| s as i64).collect() };
        l.emit(&format!("{}.kept", n.name), Op::View(view), vec![x], vec![cropped]);
        cropped
    } else {
        x
    };
    let mode = match a.mode {
        PadFill::Spec(mode) => mode,
        PadFill::Wrap => return lower_wrap(l, n, x, &growth),
    };
    let v = match info.quant {
        Some(q) => quantize_f32(a.value, q.scale, q.zero_point) as i64,
        None => a.value as i64,
    };
    let o = l.tensor(g.name(y), g.shape(y), info.dtype, info.quant);
    l.map.insert(y, o);
    l.emit(
        &n.name,
        Op::Pad(Pad {
            pads_begin: growth.iter().map(|p| p.0 as u32).collect(),
            pads_end: growth.iter().map(|p| p.1 as u32).collect(),
            mode,
            value: v,
        }),
        vec![x],
        vec![o],
    );
    Ok(())
}

/// `wrap` padding of `x` (after the removals) by `growth`: per padded axis a Concat of copies
/// and a View of the window (module docs); the last View writes the node's output.
fn lower_wrap(l: &mut Lowering<'_>, n: &Node, x: solidml_spec::TensorId, growth: &[(usize, usize)]) -> R<()> {
    let y = n.outputs[0];
    let info = l.model.tensors[x as usize].clone();
    let mut cur = x;
    let padded: Vec<usize> = (0..growth.len()).filter(|&a| growth[a] != (0, 0)).collect();
    if padded.is_empty() {
        l.contiguous_view(&n.name, x, y);
        return Ok(());
    }
    for (i, &axis) in padded.iter().enumerate() {
        let shape = l.shape_of(cur);
        let d = shape[axis];
        if d == 0 {
            return Err("wrap padding of an empty axis".into());
        }
        let (b, e) = growth[axis];
        let (before, after) = (b.div_ceil(d), e.div_ceil(d));
        let copies = before + 1 + after;
        let mut long = shape.clone();
        long[axis] = d * copies;
        super::check_elements(&long, "the copies wrap padding concatenates")?;
        let name = format!("{}.wrap{axis}", n.name);
        let t = l.tensor(&format!("{name}.copies"), &long, info.dtype, info.quant);
        l.emit(&format!("{name}.copies"), Op::Concat { axis: axis as u32 }, vec![cur; copies], vec![t]);
        let strides = crate::quantize::row_major(&long);
        let mut window = shape.clone();
        window[axis] = b + d + e;
        let view =
            solidml_spec::View { offset: ((before * d - b) * strides[axis]) as u64, strides: strides.iter().map(|&s| s as i64).collect() };
        let o = if i + 1 == padded.len() {
            let o = l.tensor(l.g.name(y), &window, info.dtype, info.quant);
            l.map.insert(y, o);
            o
        } else {
            l.tensor(&name, &window, info.dtype, info.quant)
        };
        l.emit(&name, Op::View(view), vec![t], vec![o]);
        cur = o;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_pads_remove_before_the_padding() {
        let a = PadAttrs { pads: vec![(-1, 2), (0, -2)], value: 9.0, mode: PadFill::Spec(PadMode::Edge) };
        assert_eq!(a.kept(&[3, 4]).unwrap(), vec![(1, 2), (0, 2)]);
        assert_eq!(a.growth(), vec![(0, 2), (0, 0)]);
        // edge mode pads the kept block: rows 1..3 and columns 0..2, then two copies of the last row
        let x = ArrayD::from_shape_vec(IxDyn(&[3, 4]), (0..12).map(|v| v as f32).collect()).unwrap();
        let kept = x.slice_each_axis(|ax| {
            let (first, count) = a.kept(&[3, 4]).unwrap()[ax.axis.index()];
            ndarray::Slice::from(first..first + count)
        });
        let y = pad(&kept.to_owned(), &a.growth(), a.value, PadMode::Edge);
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), vec![4.0, 5.0, 8.0, 9.0, 8.0, 9.0, 8.0, 9.0]);
        let too_much = PadAttrs { pads: vec![(-2, -2)], ..a };
        assert!(too_much.kept(&[3]).unwrap_err().contains("remove more than"));
    }

    #[test]
    fn wrap_padding_is_a_concat_of_copies_and_a_window_of_them() {
        use crate::passes::testutil::*;
        // [3, 2] padded by (4, 1) rows (more than the axis: two copies before) and (1, 0) columns
        let mut g = graph(&[("x", &[3, 2])]);
        let pads = g.add_tensor("pads", false);
        g.tensors[pads].shape = Some(vec![4]);
        g.consts.insert(pads, Value::Int(ArrayD::from_shape_vec(IxDyn(&[4]), vec![4, 1, 1, 0]).unwrap()));
        let y = node(&mut g, "Pad", &[0, pads], vec![("mode", crate::ir::Attr::Str("wrap".into()))]);
        output(&mut g, y);
        let x = ArrayD::from_shape_vec(IxDyn(&[3, 2]), (0..6).map(|v| v as f32).collect()).unwrap();
        let got = pad_wrap(&x, &[(4, 1), (1, 0)]);
        // row (i − 4) mod 3 and column (j − 1) mod 2
        let want: Vec<f32> =
            (0..8).flat_map(|i: i64| (0..3).map(move |j: i64| ((i - 4).rem_euclid(3) * 2 + (j - 1).rem_euclid(2)) as f32)).collect();
        assert_eq!(got.shape(), &[8, 3]);
        assert_eq!(got.iter().copied().collect::<Vec<_>>(), want);
        // the lowering agrees with it, code for code
        let c = crate::compile_graph(
            &mut g,
            "m",
            &crate::CompileOptions::default().with_calibration(vec![x.clone().insert_axis(ndarray::Axis(0))]),
        )
        .unwrap();
        let m = &c.model;
        let ops: Vec<&str> = m.nodes.iter().map(|n| n.op.kind()).collect();
        assert_eq!(ops, ["Concat", "View", "Concat", "View"]);
        let q = crate::runner::quantize_input(m, 0, &x);
        let out = solidml_cpu::CpuExecutor::new(m).unwrap().run(&[q]).unwrap();
        let back = crate::runner::dequantize_output(m, 0, &out[0]).to_f32();
        for (a, b) in back.iter().zip(&want) {
            assert!((a - b).abs() < 0.02, "{a} vs {b}");
        }
    }
}
