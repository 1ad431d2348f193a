//! One file per operator the JIT specializes; [`compile`] picks a node's plan. A node whose op
//! has no file here yet (or whose plan would pass the size cap) runs on the host's fallback
//! executor, one node at a time (`crate::JitBackend::with_fallback`).

pub(crate) mod binary;
pub(crate) mod concat;
pub(crate) mod conv;
pub(crate) mod dense;
pub(crate) mod dense_wide;
pub(crate) mod lut;
pub(crate) mod pool;
pub(crate) mod reduce;

use solidml_exec::{ExecError, Value, index::strides};
use solidml_spec::{Model, Node, Op};

use crate::gemm::{Kernel, MR, NR};

/// A node specialized by the JIT.
pub(crate) enum Plan {
    Conv(conv::ConvPlan),
    Dense(dense::DensePlan),
    DenseWide(dense_wide::DenseWidePlan),
    Pool(pool::PoolPlan),
    Lut(lut::LutPlan),
    Reduce(reduce::ReducePlan),
    Concat(concat::ConcatPlan),
    Binary(binary::BinaryPlan),
}

impl Plan {
    /// Bytes the plan holds (packed weights, tables).
    pub(crate) fn bytes(&self) -> usize {
        match self {
            Plan::Conv(p) => p.packed_bytes(),
            Plan::Dense(p) => p.packed_bytes(),
            Plan::DenseWide(p) => p.packed_bytes(),
            Plan::Pool(p) => p.packed_bytes(),
            Plan::Lut(p) => p.packed_bytes(),
            Plan::Reduce(p) => p.packed_bytes(),
            Plan::Concat(p) => p.packed_bytes(),
            Plan::Binary(p) => p.packed_bytes(),
        }
    }

    /// Run the node on its (already checked) inputs.
    pub(crate) fn run(&self, kernel: Kernel, args: &[&Value]) -> Result<Value, ExecError> {
        match self {
            Plan::Conv(p) => p.run(kernel, args[0].as_i8()),
            Plan::Dense(p) => p.run(kernel, args[0].as_i8()),
            Plan::DenseWide(p) => Ok(p.run(kernel, args[0])),
            Plan::Pool(p) => Ok(p.run(kernel, args[0].as_i8())),
            Plan::Lut(p) => Ok(p.run(kernel, args[0].as_i8())),
            Plan::Reduce(p) => Ok(p.run(kernel, args[0].as_i8())),
            Plan::Concat(p) => Ok(p.run(args)),
            Plan::Binary(p) => Ok(p.run(kernel, args[0].as_i8(), args[1].as_i8())),
        }
    }
}

/// Why a node is not specialized.
pub(crate) enum NotCompiled {
    /// The JIT has no kernel for this op yet.
    Op(&'static str),
    /// Its plan would take more than `max_bytes`.
    TooLarge { bytes: usize },
}

/// The plan of `node` (of a validated `model`), if the JIT specializes it within `max_bytes`;
/// `codegen`: compile the loop nests `crate::codegen` handles to native code.
pub(crate) fn compile(model: &Model, node: &Node, max_bytes: usize, codegen: bool) -> Result<Plan, NotCompiled> {
    let shape = |id: u32| &model.tensor(id).shape[..];
    let within = |bytes: usize| if bytes <= max_bytes { Ok(()) } else { Err(NotCompiled::TooLarge { bytes }) };
    // a two-operand element-wise node's shapes, within the cap (a table of row offsets)
    let binary_shapes = |node: &Node| {
        let (sa, sb, so) = (shape(node.inputs[0]), shape(node.inputs[1]), shape(node.outputs[0]));
        let rows = so[..so.len().saturating_sub(1)].iter().map(|&d| d as usize).fold(1usize, usize::saturating_mul);
        within(rows.saturating_mul(16).saturating_add(2048)).map(|()| (sa, sb, so))
    };
    match &node.op {
        Op::Dense(d) => {
            within(gemm_bytes(d.in_features as usize, d.out_features as usize).saturating_add(requant_bytes(d.out_features as usize)))?;
            Ok(Plan::Dense(dense::DensePlan::new(d)))
        }
        Op::DenseWide(d) => {
            within(d.weights.len().saturating_mul(2).saturating_add(d.bias.len().saturating_mul(8)))?;
            Ok(Plan::DenseWide(dense_wide::DenseWidePlan::new(d, model.tensor(node.outputs[0]).dtype)))
        }
        Op::Conv(c) => {
            let (sin, sout) = (shape(node.inputs[0]), shape(node.outputs[0]));
            let numel = |s: &[u32]| s.iter().map(|&d| d as usize).product::<usize>();
            let (in_plane, out_plane, klen) = (numel(&sin[2..]), numel(&sout[2..]), numel(&c.kernel));
            let cout = sout[1] as usize;
            let k = (sin[1] / c.groups) as usize * klen;
            if in_plane >= u32::MAX as usize {
                return Err(NotCompiled::TooLarge { bytes: in_plane });
            }
            // per group, its output channels padded to whole tiles of MR rows, i32 per k-pair
            let groups = c.groups as usize;
            let weights = groups.saturating_mul((cout / groups.max(1)).div_ceil(MR) * MR).saturating_mul(k.div_ceil(2)).saturating_mul(4);
            within(weights.saturating_add(klen.saturating_mul(out_plane).saturating_mul(4)).saturating_add(requant_bytes(cout)))?;
            Ok(Plan::Conv(conv::ConvPlan::new(c, sin, sout)))
        }
        Op::MaxPool(p) | Op::AvgPool(p) => {
            let (sin, sout) = (shape(node.inputs[0]), shape(node.outputs[0]));
            let padded: u64 =
                pool::padded_extents(p, &sin[2..], &sout[2..]).iter().try_fold(1u64, |a, &d| a.checked_mul(d)).unwrap_or(u64::MAX);
            if padded >= u32::MAX as u64 {
                return Err(NotCompiled::TooLarge { bytes: padded as usize });
            }
            let numel = |s: &[u32]| s.iter().map(|&d| d as usize).product::<usize>();
            within(
                (padded as usize)
                    .saturating_add(numel(&sout[2..]).saturating_mul(12))
                    .saturating_add(numel(&p.kernel).saturating_mul(4))
                    .saturating_add(numel(&sin[2..]).saturating_mul(4)),
            )?;
            Ok(Plan::Pool(pool::PoolPlan::new(p, matches!(node.op, Op::MaxPool(_)), sin, sout, codegen)))
        }
        Op::Lut(l) => {
            within(l.tables.len())?;
            Ok(Plan::Lut(lut::LutPlan::new(l, shape(node.inputs[0]))))
        }
        Op::Reduce(r) => {
            let sin = shape(node.inputs[0]);
            within(reduce::ReducePlan::table_bytes(r, sin))?;
            reduce::ReducePlan::new(r, sin).map(Plan::Reduce).ok_or(NotCompiled::TooLarge { bytes: usize::MAX })
        }
        Op::Concat { axis } => {
            let shapes: Vec<&[u32]> = node.inputs.iter().map(|&i| shape(i)).collect();
            Ok(Plan::Concat(concat::ConcatPlan::new(*axis, &shapes)))
        }
        Op::Binary(b) => {
            let (sa, sb, so) = binary_shapes(node)?;
            Ok(Plan::Binary(binary::BinaryPlan::binary(b, sa, sb, so)))
        }
        Op::Extremum(e) => {
            let (sa, sb, so) = binary_shapes(node)?;
            Ok(Plan::Binary(binary::BinaryPlan::extremum(*e, sa, sb, so)))
        }
        // `crate::ON_FALLBACK`, op by op: a new spec op must be placed here or above
        Op::View(_)
        | Op::Pad(_)
        | Op::Softmax(_)
        | Op::ArgMax { .. }
        | Op::Take { .. }
        | Op::Gather { .. }
        | Op::ConvTranspose(_)
        | Op::MatMul(_)
        | Op::BinaryLut { .. }
        | Op::GatherDynamic { .. }
        | Op::InstanceNorm(_)
        | Op::IntBinary { .. }
        | Op::Lrn(_)
        | Op::Normalize(_)
        | Op::CumSum(_)
        | Op::LogSoftmax(_)
        | Op::TopK { .. }
        | Op::IntCompare(_) => Err(NotCompiled::Op(node.op.kind())),
    }
}

/// An upper bound of the bytes a `k × n` lane operand takes packed (whole blocks of NR
/// columns, i16 per value).
fn gemm_bytes(k: usize, n: usize) -> usize {
    (k + 2).saturating_mul(n + NR).saturating_mul(2)
}

/// An upper bound of the bytes an epilogue of `channels` channels holds (scalar and vector
/// constants).
fn requant_bytes(channels: usize) -> usize {
    channels.saturating_add(16).saturating_mul(28)
}

/// Marks a window tap that falls in the padding.
pub(crate) const PADDING: u32 = u32::MAX;

/// A sliding window over the spatial axes (Conv, pools).
pub(crate) struct Window<'a> {
    pub(crate) kernel: &'a [u32],
    pub(crate) strides: &'a [u32],
    pub(crate) dilations: &'a [u32],
    pub(crate) pads_begin: &'a [u32],
}

/// For each window tap `t` and output position `o`, `table[t · out_plane + o]`: the input offset
/// within a plane the tap reads (spec: `o·stride − pad_begin + k·dilation` per axis), or
/// [`PADDING`].
pub(crate) fn window_taps(w: &Window<'_>, in_sp: &[u32], out_sp: &[u32]) -> Vec<u32> {
    let s = w.kernel.len();
    let klen: usize = w.kernel.iter().map(|&k| k as usize).product();
    let out_plane: usize = out_sp.iter().map(|&d| d as usize).product();
    let in_strides = strides(in_sp);
    let mut table = vec![PADDING; klen * out_plane];
    let (mut kpos, mut opos) = (vec![0i64; s], vec![0i64; s]);
    for t in 0..klen {
        let mut rem = t;
        for d in (0..s).rev() {
            kpos[d] = (rem % w.kernel[d] as usize) as i64 * w.dilations[d] as i64;
            rem /= w.kernel[d] as usize;
        }
        'o: for o in 0..out_plane {
            let mut rem = o;
            for d in (0..s).rev() {
                opos[d] = (rem % out_sp[d] as usize) as i64;
                rem /= out_sp[d] as usize;
            }
            let mut off = 0usize;
            for d in 0..s {
                let p = opos[d] * w.strides[d] as i64 - w.pads_begin[d] as i64 + kpos[d];
                if p < 0 || p >= in_sp[d] as i64 {
                    continue 'o;
                }
                off += p as usize * in_strides[d];
            }
            table[t * out_plane + o] = off as u32;
        }
    }
    table
}
