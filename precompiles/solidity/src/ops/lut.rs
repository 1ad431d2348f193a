//! Lut (spec §Lut): `out[i] = table[channel][in[i] + 128]`, the table in memory (PUSH32 stores), one BYTE per element.

use solidml_spec::{Lut, Node};

use crate::{NodeFailure, plan::*};

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, l: &Lut) -> Result<(), NodeFailure> {
    let m = cx.m;
    let x = n.inputs.first().copied().unwrap_or(0);
    let xin = m.tensor(x);
    let yt = n.outputs[0];
    let src = cx.at(x);
    let y = cx.place_output(yt);
    let (Loc::Bytes(s), Loc::Bytes(d)) = (src, y) else { return Err("int8 bytes expected".into()) };
    let t = cx.alloc(l.tables.len());
    let bytes: Vec<u8> = l.tables.iter().map(|&v| v as u8).collect();
    cx.table(t, &bytes);
    let len = xin.len();
    let chan = match l.axis {
        Some(a) => {
            let a = a as usize;
            let inner: usize = xin.shape[a + 1..].iter().map(|&d| d as usize).product();
            format!("shl(8, mod(div(i, {inner}), {}))", xin.shape[a])
        }
        None => "0".into(),
    };
    cx.line(&format!(
                "for {{ let i := 0 }} lt(i, {len}) {{ i := add(i, 1) }} {{\n    mstore8(add({d}, i), byte(0, mload(add({t}, add({chan}, xor(byte(0, mload(add({s}, i))), 0x80))))))\n}}"
            ));
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Lut`] (`solidml_spec::for_each_op!`).
    pub(crate) fn lut(cx: &mut Ctx<'_>, n: &Node, op: &solidml_spec::Lut) -> super::EmitResult {
        emit(cx, n, op)
    }
}
