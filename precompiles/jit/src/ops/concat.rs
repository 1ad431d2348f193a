//! Concat (spec §Concat): inputs joined along `axis`, in order — for each outer index, each
//! input's chunk (its extent from `axis` on) copied whole; the chunk sizes are fixed at
//! prepare and the output allocated once. Each input is copied in one pass over its chunks
//! (single elements, when the axis is the last of size-1 inputs, by plain stores).

use solidml_exec::Value;

/// A Concat node ready to run.
pub(crate) struct ConcatPlan {
    /// Product of the dimensions before the axis.
    outer: usize,
    /// Elements per outer index, per input.
    chunks: Vec<usize>,
}

impl ConcatPlan {
    pub(crate) fn new(axis: u32, shapes: &[&[u32]]) -> ConcatPlan {
        let a = axis as usize;
        let numel = |s: &[u32]| s.iter().map(|&d| d as usize).product::<usize>();
        ConcatPlan { outer: numel(&shapes[0][..a]), chunks: shapes.iter().map(|s| numel(&s[a..])).collect() }
    }

    pub(crate) fn packed_bytes(&self) -> usize {
        self.chunks.len() * 8
    }

    pub(crate) fn run(&self, xs: &[&Value]) -> Value {
        fn join<T: Copy + Default>(plan: &ConcatPlan, xs: Vec<&[T]>) -> Vec<T> {
            let stride: usize = plan.chunks.iter().sum();
            let mut out = vec![T::default(); plan.outer * stride];
            let mut start = 0;
            for (x, &c) in xs.iter().zip(&plan.chunks) {
                if c == 1 {
                    for (dst, &v) in out[start..].iter_mut().step_by(stride).zip(&x[..plan.outer]) {
                        *dst = v;
                    }
                } else if c > 0 {
                    for (dst, src) in out[start..].chunks_mut(stride).zip(x.chunks_exact(c)) {
                        dst[..c].copy_from_slice(src);
                    }
                }
                start += c;
            }
            out
        }
        match xs[0] {
            Value::I8(_) => Value::I8(join(self, xs.iter().map(|x| x.as_i8()).collect())),
            Value::I64(_) => Value::I64(join(self, xs.iter().map(|x| x.as_i64()).collect())),
            // validation keeps the wide types out of Concat; joining them is the same copy
            Value::I16(_) => Value::I16(join(self, xs.iter().map(|x| x.as_i16()).collect())),
            Value::I32(_) => Value::I32(join(self, xs.iter().map(|x| x.as_i32()).collect())),
        }
    }
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Concat`] (`solidml_spec::for_each_op!`).
    pub(crate) fn concat(cx: &super::NodeCx<'_>, axis: &u32) -> super::CompileResult {
        let shapes: Vec<&[u32]> = (0..cx.node.inputs.len()).map(|i| cx.input_shape(i)).collect();
        Ok(super::Plan::Concat(ConcatPlan::new(*axis, &shapes)))
    }
}
