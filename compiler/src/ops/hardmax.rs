//! `Hardmax` (`axis`; the same axis rules as Softmax, [`super::softmax::SoftmaxAttrs`]: from
//! opset 13 one axis, default −1; before, default 1 and the trailing axes `axis..` flattened
//! into one): 1 at the first maximum of each lane, 0 elsewhere.
//!
//! Float semantics in `f32`. Lowering, exactly, with `x` viewed as `[outer, D, inner]` (`D` the
//! lane length): `a = ArgMax(x, axis 1)` (first maximum of the int8 codes, which quantization
//! keeps in order, so only values that round to the same code tie differently than in float),
//! `e = [0, 1, …, D − 1] − a` (IntBinary Sub, broadcast to `[outer, D, inner]`, values in
//! `(−D, D)`), then `y = GatherDynamic(table, e)` with the int8 table of `2D − 1` entries
//! holding the output code of 1 at index 0 and of 0 elsewhere (a negative `e` counts from the
//! end, past the first `D` entries), viewed back in the input's shape.

use ndarray::{ArrayD, IxDyn};
use solidml_spec::{DType, IntBinaryKind, Op, View, io::quantize_f32};

use super::{
    OpDef, R,
    gather_elements::{const_i8, const_i64, gather_dynamic, int_binary, reshape_view},
    input,
    softmax::SoftmaxAttrs,
};
use crate::{
    ir::{Graph, Node, Value},
    quantize::{Lowering, row_major},
};

pub(crate) const OPS: &[OpDef] = &[OpDef::new("", "Hardmax", eval, lower)];

/// `[outer, D, inner]` of a Hardmax over shape `shape`.
fn lanes(n: &Node, shape: &[usize], opset: i64) -> R<[usize; 3]> {
    let a = SoftmaxAttrs::parse(n, shape.len(), opset)?;
    let outer = shape[..a.axis].iter().product();
    Ok(if a.flatten { [outer, shape[a.axis..].iter().product(), 1] } else { [outer, shape[a.axis], shape[a.axis + 1..].iter().product()] })
}

fn eval(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?.to_f32();
    let [outer, d, inner] = lanes(n, x.shape(), g.opset)?;
    let xs = x.as_standard_layout();
    let v = xs.as_slice().ok_or("not contiguous")?;
    let mut y = vec![0f32; v.len()];
    for o in 0..outer {
        for i in 0..inner {
            let at = |j: usize| (o * d + j) * inner + i;
            if d > 0 {
                let best = (1..d).fold(0, |b, j| if v[at(j)] > v[at(b)] { j } else { b });
                y[at(best)] = 1.0;
            }
        }
    }
    Ok(vec![Value::Float(ArrayD::from_shape_vec(IxDyn(x.shape()), y).map_err(|e| e.to_string())?)])
}

fn lower(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let xt = n.input(0).ok_or("input 0 missing")?;
    let x = l.id(xt)?;
    let shape = g.shape(xt).to_vec();
    let [outer, d, inner] = lanes(n, &shape, g.opset)?;
    if d == 0 || outer * inner == 0 {
        return Err("Hardmax of an empty tensor is not supported".into());
    }
    super::gather_elements::check_table(2 * d, &n.name)?;
    let y = n.outputs[0];
    let qo = l.range_quant(y)?;
    let x3 = reshape_view(l, &format!("{}.lanes", n.name), x, &[outer, d, inner]);
    let a = l.tensor(&format!("{}.argmax", n.name), &[outer, 1, inner], DType::I64, None);
    l.emit(&format!("{}.argmax", n.name), Op::ArgMax { axis: 1, select_last_index: false }, vec![x3], vec![a]);
    let range = const_i64(l, &format!("{}.range", n.name), &[1, d, 1], (0..d as i64).collect());
    let e = int_binary(l, &format!("{}.offset", n.name), IntBinaryKind::Sub, range, a)?;
    let (one, zero) = (quantize_f32(1.0, qo.scale, qo.zero_point), quantize_f32(0.0, qo.scale, qo.zero_point));
    let table: Vec<i8> = (0..2 * d - 1).map(|k| if k == 0 { one } else { zero }).collect();
    let table = const_i8(l, &format!("{}.one_hot", n.name), &[2 * d - 1], table, qo);
    let h = gather_dynamic(l, &format!("{}.one_hot", n.name), table, e, 0)?;
    let o = l.out(y, qo);
    let strides = row_major(&shape).iter().map(|&s| s as i64).collect();
    l.emit(&n.name, Op::View(View { offset: 0, strides }), vec![h], vec![o]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Attr;

    #[test]
    fn one_at_the_first_maximum() {
        let x = Value::Float(ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![1., 3., 3., -1., -2., -3.]).unwrap());
        let g = Graph { opset: 13, ..Default::default() };
        let mut n = Node {
            name: "h".into(),
            op: "Hardmax".into(),
            domain: String::new(),
            attrs: Default::default(),
            inputs: vec![],
            outputs: vec![],
        };
        let y = eval(&g, &n, &[Some(&x)]).unwrap()[0].to_f32();
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), [0., 1., 0., 1., 0., 0.]);
        n.attrs.insert("axis".into(), Attr::Int(0));
        let y = eval(&g, &n, &[Some(&x)]).unwrap()[0].to_f32();
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), [1., 1., 1., 0., 0., 0.]);
        n.attrs.insert("axis".into(), Attr::Int(2));
        assert!(eval(&g, &n, &[Some(&x)]).unwrap_err().contains("out of range"));
    }
}
