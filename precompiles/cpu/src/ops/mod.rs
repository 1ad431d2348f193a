//! One file per operator of the spec; [`eval`] dispatches a node to its kernel.

pub mod argmax;
pub mod binary;
pub mod concat;
pub mod conv;
pub mod dense;
pub mod gather;
pub mod lut;
pub mod pad;
pub mod pool;
pub mod reduce;
pub mod softmax;
pub mod take;
pub mod view;

use solidml_spec::{Epilogue, Model, Node, Op, arith};

use crate::{CpuError, Value};

/// Evaluate one node on its input values.
pub fn eval(model: &Model, node: &Node, args: &[&Value]) -> Result<Vec<Value>, CpuError> {
    let input = |i: usize| model.tensor(node.inputs[i]);
    let output = |i: usize| model.tensor(node.outputs[i]);
    let v = match &node.op {
        Op::Conv(c) => Value::I8(conv::conv(c, &input(0).shape, &output(0).shape, args[0].as_i8())),
        Op::Dense(d) => Value::I8(dense::dense(d, args[0].as_i8())),
        Op::Binary(b) => Value::I8(binary::binary(b, &input(0).shape, &input(1).shape, &output(0).shape, args[0].as_i8(), args[1].as_i8())),
        Op::Extremum(e) => Value::I8(binary::extremum(*e, &input(0).shape, &input(1).shape, &output(0).shape, args[0].as_i8(), args[1].as_i8())),
        Op::Lut(l) => Value::I8(lut::lut(l, &input(0).shape, args[0].as_i8())),
        Op::View(v) => view::view(v, &output(0).shape, args[0]),
        Op::Pad(p) => pad::pad(p, &input(0).shape, &output(0).shape, args[0]),
        Op::Concat { axis } => {
            let shapes: Vec<&[u32]> = node.inputs.iter().map(|&i| &model.tensor(i).shape[..]).collect();
            concat::concat(*axis, &shapes, args)
        }
        Op::MaxPool(p) => Value::I8(pool::max_pool(p, &input(0).shape, &output(0).shape, args[0].as_i8())),
        Op::AvgPool(p) => Value::I8(pool::avg_pool(p, &input(0).shape, &output(0).shape, args[0].as_i8())),
        Op::Reduce(r) => Value::I8(reduce::reduce(r, &input(0).shape, args[0].as_i8())),
        Op::Softmax(s) => Value::I8(softmax::softmax(s, &input(0).shape, args[0].as_i8())),
        Op::ArgMax { axis, select_last_index } => Value::I64(argmax::argmax(*axis, *select_last_index, &input(0).shape, args[0].as_i8())),
        Op::Take { table } => Value::I64(take::take(&node.name, table, args[0].as_i64())?),
        Op::Gather { axis, indices } => gather::gather(*axis, indices, &input(0).shape, args[0]),
    };
    Ok(vec![v])
}

/// The shared requantization epilogue of Conv and Dense:
/// `clamp(requantize(acc, M[c]) + zp_out, clamp_min, clamp_max)`.
pub fn apply_epilogue(e: &Epilogue, channel: usize, acc: i32) -> i8 {
    let m = if e.multipliers.len() == 1 { e.multipliers[0] } else { e.multipliers[channel] };
    arith::clamp_i8(arith::requantize(acc, m).saturating_add(e.output_zero_point), e.clamp_min, e.clamp_max)
}
