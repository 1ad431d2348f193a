//! Binary (Add, Sub, Mul with real scales) and Extremum (Min, Max) (spec §Binary, §Extremum): both operands broadcast to the output through index tables where needed, one loop over the output.

use solidml_spec::{Binary, BinaryKind, Extremum, Node, TensorId};

use crate::{NodeFailure, layer::*, plan::*, yul::*};

/// The two operators this file emits.
pub(crate) enum Form<'a> {
    /// Add, Sub, Mul with real scales.
    Binary(&'a Binary),
    /// Max or Min.
    Extremum(Extremum),
}

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, form: Form<'_>) -> Result<(), NodeFailure> {
    let m = cx.m;
    let yt = n.outputs[0];
    let yinfo = m.tensor(yt);
    let y = cx.place_output(yt);
    let (a_t, b_t) = (n.inputs[0], n.inputs[1]);
    let (Loc::Bytes(a), Loc::Bytes(b), Loc::Bytes(d)) = (cx.at(a_t), cx.at(b_t), y) else {
        return Err("int8 bytes expected".into());
    };
    let so = &yinfo.shape;
    let total = yinfo.len();
    // broadcast both operands to the output shape (index tables) unless already there
    let operand = |cx: &mut Ctx<'_>, t: TensorId, addr: usize| -> usize {
        let sh = &m.tensor(t).shape;
        if sh == so {
            return addr;
        }
        let st = solidml_exec::index::broadcast_strides(sh, so);
        let idx: Vec<Option<usize>> = (0..total)
            .map(|mut o| {
                let mut off = 0;
                for d in (0..so.len()).rev() {
                    off += (o % so[d] as usize) * st[d];
                    o /= so[d] as usize;
                }
                Some(off)
            })
            .collect();
        let tmp = cx.alloc(total);
        cx.gather(Loc::Bytes(addr), Loc::Bytes(tmp), &idx, 0);
        tmp
    };
    let a = operand(cx, a_t, a);
    let b = operand(cx, b_t, b);
    let f = match form {
        Form::Extremum(Extremum::Max) => "let r := va if gt(vb, va) { r := vb }".to_string(),
        Form::Extremum(Extremum::Min) => "let r := va if lt(vb, va) { r := vb }".to_string(),
        Form::Binary(bn) => {
            let xa = add_const("va", -(bn.a_zero_point as i128 + 128));
            let xb = add_const("vb", -(bn.b_zero_point as i128 + 128));
            let acc = match bn.kind {
                BinaryKind::Mul => format!("let acc := mul({xa}, {xb})"),
                k => format!(
                    "let ra := 0\n{{\n{}\nra := r\n}}\nlet rb := 0\n{{\n{}\nrb := r\n}}\nlet acc := {}(ra, rb)",
                    indent(&requant_raw_yul(bn.a_multiplier, &format!("shl({}, {xa})", bn.left_shift)), 4),
                    indent(&requant_raw_yul(bn.b_multiplier, &format!("shl({}, {xb})", bn.left_shift)), 4),
                    if k == BinaryKind::Add { "add" } else { "sub" }
                ),
            };
            format!("{acc}\n{}", requant_yul(bn.output_multiplier, "acc", bn.output_zero_point, bn.clamp_min as i32, bn.clamp_max as i32))
        }
    };
    cx.line(&format!(
                "for {{ let i := 0 }} lt(i, {total}) {{ i := add(i, 1) }} {{\n    let va := xor(byte(0, mload(add({a}, i))), 0x80)\n    let vb := xor(byte(0, mload(add({b}, i))), 0x80)\n{}\n    mstore8(add({d}, i), xor(r, 0x80))\n}}",
                indent(&f, 4)
            ));
    Ok(())
}
