//! Dense (spec §Dense): one row per leading index of the input, through the packed-lane layer code ([`crate::layer`]).

use solidml_spec::{Dense, Node};

use crate::{NodeFailure, layer::*, plan::*};

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, d: &Dense) -> Result<(), NodeFailure> {
    let m = cx.m;
    let x = n.inputs.first().copied().unwrap_or(0);
    let xin = m.tensor(x);
    let yt = n.outputs[0];
    let layer = Layer {
        k: d.in_features as usize,
        n: d.out_features as usize,
        weights: &d.weights,
        bias: &d.bias,
        input_zero_point: d.input_zero_point,
        epilogue: &d.epilogue,
        channel_offset: 0,
        x_range: cx.range[x as usize],
    };
    let rows = xin.len() / layer.k.max(1);
    let y = cx.place_output(yt);
    let src = cx.at(x);
    let row_src: Vec<Vec<Option<usize>>> = (0..rows).map(|r| (0..layer.k).map(|k| Some(r * layer.k + k)).collect()).collect();
    let row_dst: Vec<usize> = (0..rows).map(|r| r * layer.n).collect();
    emit_layer(cx, &layer, src, y, &row_src, &row_dst, 1, yt)?;
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Dense`] (`solidml_spec::for_each_op!`).
    pub(crate) fn dense(cx: &mut Ctx<'_>, n: &Node, op: &solidml_spec::Dense) -> super::EmitResult {
        emit(cx, n, op)
    }
}
