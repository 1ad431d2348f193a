//! MatMul of two run-time tensors (spec §MatMul): per broadcast batch index,
//! `acc[m, n] = Σ_k (a[m, k] − za) · (b[k, n] − zb)`, `out = clamp(requantize(acc, M) + zp_out)`.
//! One Yul loop nest; the batch offsets of both operands come from a compile-time table when
//! there is more than one matrix.

use solidml_exec::index::{broadcast_strides, for_each_offset};
use solidml_spec::{MatMul, Node};

use crate::{NodeFailure, layer::*, plan::*, yul::*};

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, mm: &MatMul) -> Result<(), NodeFailure> {
    let m = cx.m;
    let (sa, sb) = (&m.tensor(n.inputs[0]).shape, &m.tensor(n.inputs[1]).shape);
    let so = &m.tensor(n.outputs[0]).shape;
    let (rows, k, cols) = (sa[sa.len() - 2] as usize, sa[sa.len() - 1] as usize, sb[sb.len() - 1] as usize);
    let (Loc::Bytes(a), Loc::Bytes(b), Loc::Bytes(d)) = (cx.at(n.inputs[0]), cx.at(n.inputs[1]), cx.place_output(n.outputs[0])) else {
        return Err("int8 bytes expected".into());
    };
    let batch = &so[..so.len() - 2];
    let (ta, tb) = (broadcast_strides(&sa[..sa.len() - 2], batch), broadcast_strides(&sb[..sb.len() - 2], batch));
    let mut offsets = vec![];
    for_each_offset(batch, [&ta, &tb], |[ia, ib]| offsets.push((ia * rows * k, ib * k * cols)));
    if offsets.is_empty() || rows * cols == 0 {
        return Ok(());
    }
    // per batch item: the byte offsets of its A and B matrices, 4 bytes each
    let count = offsets.len();
    let (oa, ob) = if count == 1 {
        (offsets[0].0.to_string(), offsets[0].1.to_string())
    } else {
        let bytes: Vec<u8> = offsets.iter().flat_map(|&(x, y)| [(x as u32).to_be_bytes(), (y as u32).to_be_bytes()].concat()).collect();
        let t = cx.alloc(bytes.len());
        cx.table(t, &bytes);
        (format!("shr(224, mload(add({t}, shl(3, bt))))"), format!("shr(224, mload(add({t}, add(shl(3, bt), 4))))"))
    };
    let xa = add_const("xor(byte(0, mload(add(pa, j))), 0x80)", -(mm.a_zero_point as i128 + 128));
    let xb =
        add_const("xor(byte(0, mload(add(pb, mul(j, COLS)))), 0x80)", -(mm.b_zero_point as i128 + 128)).replace("COLS", &cols.to_string());
    let epilogue = requant_yul(mm.multiplier, "acc", mm.output_zero_point, -128, 127);
    cx.line(&format!(
        r#"for {{ let bt := 0 }} lt(bt, {count}) {{ bt := add(bt, 1) }} {{
    let ab := add({a}, {oa})
    let bb := add({b}, {ob})
    let out := add({d}, mul(bt, {mat}))
    for {{ let row := 0 }} lt(row, {rows}) {{ row := add(row, 1) }} {{
        for {{ let c := 0 }} lt(c, {cols}) {{ c := add(c, 1) }} {{
            let pa := add(ab, mul(row, {k}))
            let pb := add(bb, c)
            let acc := 0
            for {{ let j := 0 }} lt(j, {k}) {{ j := add(j, 1) }} {{
                acc := add(acc, mul({xa}, {xb}))
            }}
{epi}
        }}
    }}
}}"#,
        mat = rows * cols,
        epi = indent(&format!("{{\n{epilogue}\nmstore8(add(out, add(mul(row, {cols}), c)), xor(r, 0x80))\n}}"), 12),
    ));
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::MatMul`] (`solidml_spec::for_each_op!`).
    pub(crate) fn matmul(cx: &mut Ctx<'_>, n: &Node, op: &solidml_spec::MatMul) -> super::EmitResult {
        emit(cx, n, op)
    }
}
