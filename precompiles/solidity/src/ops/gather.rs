//! Gather with constant indices (spec §Gather): a gather through a compile-time index table.

use solidml_spec::Node;

use crate::{NodeFailure, plan::*, yul::*};

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, axis: &u32, indices: &[u32]) -> Result<(), NodeFailure> {
    let m = cx.m;
    let x = n.inputs.first().copied().unwrap_or(0);
    let xin = m.tensor(x);
    let yt = n.outputs[0];
    let a = *axis as usize;
    let dim = xin.shape[a] as usize;
    let inner: usize = xin.shape[a + 1..].iter().map(|&d| d as usize).product();
    let outer: usize = xin.shape[..a].iter().map(|&d| d as usize).product();
    let idx: Vec<Option<usize>> = (0..outer)
        .flat_map(|o| indices.iter().flat_map(move |&j| (0..inner).map(move |i| Some((o * dim + j as usize) * inner + i))))
        .collect();
    copy_gather(cx, x, yt, &idx, 0)?;
    cx.range[yt as usize] = cx.range[x as usize];
    Ok(())
}

/// GatherDynamic (spec §GatherDynamic): every run-time index checked and resolved first (a
/// negative one counts from the end; the first out of range reverts with
/// `IndexOutOfRange(index, length)`, as the CPU reference fails), then one `mcopy` per
/// gathered row of `inner` elements.
pub(crate) fn emit_dynamic(cx: &mut Ctx<'_>, n: &Node, axis: &u32) -> Result<(), NodeFailure> {
    let m = cx.m;
    let (x, it) = (n.inputs[0], n.inputs[1]);
    let xin = m.tensor(x);
    let count = m.tensor(it).len();
    let yt = n.outputs[0];
    let a = *axis as usize;
    let dim = xin.shape[a] as usize;
    let inner: usize = xin.shape[a + 1..].iter().map(|&d| d as usize).product();
    let outer: usize = xin.shape[..a].iter().map(|&d| d as usize).product();
    let Loc::I64(idx) = cx.at(it) else { return Err("i64 indices expected".into()) };
    let (src, dst, width) = match (cx.at(x), cx.place_output(yt)) {
        (Loc::Bytes(s), Loc::Bytes(d)) => (s, d, 1),
        (Loc::I64(s), Loc::I64(d)) => (s, d, 32),
        _ => return Err("int8 bytes or i64 words expected".into()),
    };
    cx.range[yt as usize] = cx.range[x as usize];
    if count == 0 {
        return Ok(());
    }
    let resolved = cx.alloc(32 * count);
    let sel = selector("IndexOutOfRange(int256,uint256)");
    let row = width * inner;
    cx.line(&format!(
        r#"for {{ let j := 0 }} lt(j, {count}) {{ j := add(j, 1) }} {{
    let v := mload(add({idx}, shl(5, j)))
    let r := v
    if slt(v, 0) {{ r := add(v, {dim}) }}
    if iszero(lt(r, {dim})) {{ mstore(0, shl(224, {sel})) mstore(4, v) mstore(36, {dim}) revert(0, 68) }}
    mstore(add({resolved}, shl(5, j)), r)
}}"#
    ));
    if outer * inner > 0 {
        cx.line(&format!(
            r#"for {{ let o := 0 }} lt(o, {outer}) {{ o := add(o, 1) }} {{
    for {{ let j := 0 }} lt(j, {count}) {{ j := add(j, 1) }} {{
        let r := mload(add({resolved}, shl(5, j)))
        mcopy(add({dst}, mul(add(mul(o, {count}), j), {row})), add({src}, mul(add(mul(o, {dim}), r), {row})), {row})
    }}
}}"#
        ));
    }
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Gather`] (`solidml_spec::for_each_op!`).
    pub(crate) fn gather(cx: &mut Ctx<'_>, n: &Node, axis: &u32, indices: &[u32]) -> super::EmitResult {
        emit(cx, n, axis, indices)
    }

    /// The node entry of [`solidml_spec::Op::GatherDynamic`] (`solidml_spec::for_each_op!`).
    pub(crate) fn gather_dynamic(cx: &mut Ctx<'_>, n: &Node, axis: &u32) -> super::EmitResult {
        emit_dynamic(cx, n, axis)
    }
}
