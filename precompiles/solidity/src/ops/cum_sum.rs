//! CumSum (spec §CumSum): one loop per lane along the axis (backwards when `reverse`), the
//! running sum of `q − zp_in` kept on the stack and requantized into each output element
//! (before or after adding the element's own value, by `exclusive`).

use solidml_spec::{CumSum, Node};

use crate::{NodeFailure, layer::*, plan::*, yul::*};

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, c: &CumSum) -> Result<(), NodeFailure> {
    let (x, yt) = (n.inputs[0], n.outputs[0]);
    let shape = cx.m.tensor(x).shape.clone();
    let (Loc::Bytes(s), Loc::Bytes(d)) = (cx.at(x), cx.place_output(yt)) else { return Err("int8 bytes expected".into()) };
    let a = c.axis as usize;
    let dim = shape[a] as usize;
    let inner: usize = shape[a + 1..].iter().map(|&d| d as usize).product();
    let lanes: usize = shape[..a].iter().map(|&d| d as usize).product::<usize>() * inner;
    if dim == 0 || lanes == 0 {
        return Ok(());
    }
    let zpb = c.input_zero_point as i128 + 128;
    let j = if c.reverse { format!("sub({}, k)", dim - 1) } else { "k".into() };
    let mut body = vec![
        format!("let at := add(base, mul({j}, {inner}))"),
        format!("let v := {}", add_const(&format!("xor(byte(0, mload(add({s}, at))), 0x80)"), -zpb)),
    ];
    if !c.exclusive {
        body.push("acc := add(acc, v)".into());
    }
    body.extend(requant_yul(c.multiplier, "acc", c.output_zero_point, -128, 127).lines().map(String::from));
    body.push(format!("mstore8(add({d}, at), xor(r, 0x80))"));
    if c.exclusive {
        body.push("acc := add(acc, v)".into());
    }
    cx.line(&format!(
        "for {{ let l := 0 }} lt(l, {lanes}) {{ l := add(l, 1) }} {{\n    let base := add(mul(div(l, {inner}), {}), mod(l, {inner}))\n    let acc := 0\n    for {{ let k := 0 }} lt(k, {dim}) {{ k := add(k, 1) }} {{\n{}\n    }}\n}}",
        dim * inner,
        indent(&body.join("\n"), 8)
    ));
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::CumSum`] (`solidml_spec::for_each_op!`).
    pub(crate) fn cum_sum(cx: &mut Ctx<'_>, n: &Node, op: &solidml_spec::CumSum) -> super::EmitResult {
        emit(cx, n, op)
    }
}
