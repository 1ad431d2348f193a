//! One file per operator the JIT specializes, each adding its node entry (`impl Kernels { fn
//! <entry>(…) }`, named by the spec's operator table, `solidml_spec::for_each_op!`);
//! [`compile`] picks a node's plan with the `match` the table generates, exhaustive over `Op`.
//! The operators without a file are refused in one list, [`ON_FALLBACK`]. A node whose op
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

use crate::gemm::{Kernel, NR};

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

/// The node entries of the operators, one per `Op` variant: the specialized ones added by
/// their files, the others by [`on_fallback!`]'s list.
pub(crate) struct Kernels;

/// What an entry returns.
pub(crate) type CompileResult = Result<Plan, NotCompiled>;

/// The shapes of a two-operand node: `(a, b, out)`.
pub(crate) type BinaryShapes<'a> = (&'a [u32], &'a [u32], &'a [u32]);

/// A node being compiled, and the limits it is compiled under.
pub(crate) struct NodeCx<'a> {
    pub(crate) model: &'a Model,
    pub(crate) node: &'a Node,
    /// The cap of the node's plan, in bytes.
    max_bytes: usize,
    /// Compile the loop nests `crate::codegen` handles to native code.
    pub(crate) codegen: bool,
}

impl NodeCx<'_> {
    pub(crate) fn input_shape(&self, i: usize) -> &[u32] {
        &self.model.tensor(self.node.inputs[i]).shape
    }
    pub(crate) fn output_shape(&self) -> &[u32] {
        &self.model.tensor(self.node.outputs[0]).shape
    }
    /// `Ok` when a plan of `bytes` is within the cap.
    pub(crate) fn within(&self, bytes: usize) -> Result<(), NotCompiled> {
        if bytes <= self.max_bytes { Ok(()) } else { Err(NotCompiled::TooLarge { bytes }) }
    }
    /// A two-operand element-wise node's shapes, within the cap (a table of row offsets).
    pub(crate) fn binary_shapes(&self) -> Result<BinaryShapes<'_>, NotCompiled> {
        let (sa, sb, so) = (self.input_shape(0), self.input_shape(1), self.output_shape());
        let rows = so[..so.len().saturating_sub(1)].iter().map(|&d| d as usize).fold(1usize, usize::saturating_mul);
        self.within(rows.saturating_mul(16).saturating_add(2048)).map(|()| (sa, sb, so))
    }
}

/// The dispatch `match`, from the operator table; each entry takes the variant's payload as one
/// argument (its fields as a tuple), so that [`on_fallback!`]'s entries take any payload.
macro_rules! dispatch {
    ($($file:ident { $($entry:ident : $variant:ident $(($op:ident))? $({ $($field:ident),* })? );* $(;)? })*) => {
        /// The plan of `node` (of a validated `model`), if the JIT specializes it within
        /// `max_bytes`; `codegen`: compile the loop nests `crate::codegen` handles to native code.
        pub(crate) fn compile(model: &Model, node: &Node, max_bytes: usize, codegen: bool) -> CompileResult {
            let cx = NodeCx { model, node, max_bytes, codegen };
            match &node.op {
                $($(Op::$variant $(($op))? $({ $($field),* })? => Kernels::$entry(&cx, ($($op)? $($($field),*)?)),)*)*
            }
        }
    };
}
solidml_spec::for_each_op!(dispatch);

/// [`ON_FALLBACK`] and the entries of its operators, which refuse every node, from one list
/// (`entry => Op::section`).
macro_rules! on_fallback {
    ($($entry:ident => $op:literal),* $(,)?) => {
        /// The spec operators (`Op::section`) the JIT does not specialize yet: their nodes run on
        /// the fallback executor. Every other operator has its file in `src/ops/`
        /// (tests/backend_layout.rs checks both ways).
        pub const ON_FALLBACK: &[&str] = &[$($op),*];

        impl Kernels {
            $(
                fn $entry<T>(cx: &NodeCx<'_>, _: T) -> CompileResult {
                    Err(NotCompiled::Op(cx.node.op.kind()))
                }
            )*
        }
    };
}
on_fallback! {
    view => "View",
    pad => "Pad",
    softmax => "Softmax",
    argmax => "ArgMax",
    take => "Take",
    gather => "Gather",
    conv_transpose => "ConvTranspose",
    matmul => "MatMul",
    binary_lut => "BinaryLut",
    gather_dynamic => "GatherDynamic",
    instance_norm => "InstanceNorm",
    int_binary => "IntBinary",
    lrn => "Lrn",
    normalize => "Normalize",
    cum_sum => "CumSum",
    log_softmax => "LogSoftmax",
    top_k => "TopK",
    int_compare => "IntCompare",
    int_lut => "IntLut",
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
