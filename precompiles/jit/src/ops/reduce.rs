//! Reduce (spec §Reduce) over `axes`: with `r = Σ (q − zp_in)` (Sum),
//! `round_half_away(Σ (q − zp_in) / count)` (Mean), or `max/min (q − zp_in)` (Max/Min),
//! `out = clamp(requantize(r, M) + zp_out)`. The groups are laid out once at prepare: when the
//! reduced axes are one contiguous block, whole rows of the kept inner axes are accumulated at
//! a time (runs of contiguous elements when the block is trailing), else an offset table.

use solidml_exec::{Value, index::reduce_groups};

use crate::gemm::Kernel;
use solidml_spec::{
    Reduce, ReduceKind,
    arith::{clamp_i8, div_round_half_away, requantize},
};

/// A Reduce node ready to run.
pub(crate) struct ReducePlan {
    op: Reduce,
    groups: usize,
    /// Elements per group.
    len: usize,
    /// Where the groups lie.
    layout: Layout,
}

/// Where a Reduce's groups lie in its input.
enum Layout {
    /// The reduced axes are one contiguous block: the input is `[outer, len, inner]` and group
    /// `(o, j)` is `x[(o·len + r)·inner + j]` for `r < len`. Reduced whole rows at a time
    /// (`inner` lanes), or as contiguous runs when `inner = 1` (trailing axes).
    Block { inner: usize },
    /// Any other axes: flat input offsets, `len` per group in order.
    Table(Vec<u32>),
}

/// The reduced axes, sorted and deduplicated, and whether they are one contiguous block.
fn block_axes(r: &Reduce) -> (Vec<usize>, bool) {
    let mut axes: Vec<usize> = r.axes.iter().map(|&a| a as usize).collect();
    axes.sort_unstable();
    axes.dedup();
    let block = axes.windows(2).all(|w| w[1] == w[0] + 1);
    (axes, block)
}

impl ReducePlan {
    /// The bytes the plan of `r` over `shape` holds: an offset table unless the reduced axes
    /// are one contiguous block.
    pub(crate) fn table_bytes(r: &Reduce, shape: &[u32]) -> usize {
        if block_axes(r).1 {
            return 0;
        }
        shape.iter().map(|&d| d as usize).product::<usize>().saturating_mul(4)
    }

    /// `None` when an offset does not fit in u32 (the node runs on the fallback).
    pub(crate) fn new(r: &Reduce, shape: &[u32]) -> Option<ReducePlan> {
        let (axes, block) = block_axes(r);
        let len: usize = axes.iter().map(|&a| shape[a] as usize).product();
        let kept = || shape.iter().enumerate().filter(|(a, _)| !axes.contains(a)).map(|(_, &d)| d as usize).product::<usize>();
        if block {
            let inner: usize = axes.last().map_or(1, |&last| shape[last + 1..].iter().map(|&d| d as usize).product());
            return Some(ReducePlan { op: r.clone(), groups: kept(), len, layout: Layout::Block { inner } });
        }
        let numel: usize = shape.iter().map(|&d| d as usize).product();
        if numel > u32::MAX as usize {
            return None;
        }
        let lists = reduce_groups(&r.axes, shape);
        let offsets = lists.iter().flatten().map(|&i| i as u32).collect();
        Some(ReducePlan { op: r.clone(), groups: lists.len(), len, layout: Layout::Table(offsets) })
    }

    pub(crate) fn packed_bytes(&self) -> usize {
        match &self.layout {
            Layout::Block { .. } => 0,
            Layout::Table(offsets) => offsets.len() * 4,
        }
    }

    pub(crate) fn run(&self, kernel: Kernel, x: &[i8]) -> Value {
        kernel.run(
            #[inline(always)]
            || self.run_on(x),
        )
    }

    #[inline(always)]
    fn run_on(&self, x: &[i8]) -> Value {
        let zp = self.op.input_zero_point;
        let finish = |v: i32| clamp_i8(requantize(v, self.op.multiplier).saturating_add(self.op.output_zero_point), -128, 127);
        let out = match &self.layout {
            Layout::Block { inner: 1 } => {
                (0..self.groups).map(|g| finish(self.fold(x[g * self.len..(g + 1) * self.len].iter().map(|&q| q as i32 - zp)))).collect()
            }
            Layout::Block { inner } => self.rows(x, *inner).into_iter().map(finish).collect(),
            Layout::Table(offsets) => (0..self.groups)
                .map(|g| finish(self.fold(offsets[g * self.len..(g + 1) * self.len].iter().map(|&i| x[i as usize] as i32 - zp))))
                .collect(),
        };
        Value::I8(out)
    }

    /// The reduced value of every group of a `[outer, len, inner]` block, accumulating whole
    /// rows of `inner` lanes: sums of codes in i32 (exact: a group has at most 8 421 504
    /// elements, so `|Σ q| < 2^31`), then `Σ (q − zp) = Σ q − len · zp`; extrema of codes,
    /// then `− zp`.
    #[inline(always)]
    fn rows(&self, x: &[i8], inner: usize) -> Vec<i32> {
        let zp = self.op.input_zero_point;
        let outer = self.groups / inner;
        let mut out = Vec::with_capacity(self.groups);
        let mut acc = vec![0i32; inner];
        for o in 0..outer {
            let block = &x[o * self.len * inner..(o + 1) * self.len * inner];
            match self.op.kind {
                ReduceKind::Sum | ReduceKind::Mean => accumulate(&mut acc, block, 0, |a, q| a + q as i32),
                ReduceKind::Max => accumulate(&mut acc, block, i32::MIN, |a, q| a.max(q as i32)),
                ReduceKind::Min => accumulate(&mut acc, block, i32::MAX, |a, q| a.min(q as i32)),
            }
            out.extend(acc.iter().map(|&a| match self.op.kind {
                ReduceKind::Sum => a - self.len as i32 * zp,
                ReduceKind::Mean => div_round_half_away(a as i64 - self.len as i64 * zp as i64, self.len.max(1) as i64) as i32,
                // an empty group (len 0) gives 0, as `fold` does
                ReduceKind::Max | ReduceKind::Min if self.len == 0 => 0,
                ReduceKind::Max | ReduceKind::Min => a - zp,
            }));
        }
        out
    }

    fn fold(&self, vals: impl Iterator<Item = i32>) -> i32 {
        match self.op.kind {
            ReduceKind::Sum => vals.sum(),
            ReduceKind::Mean => div_round_half_away(vals.map(|v| v as i64).sum(), self.len.max(1) as i64) as i32,
            ReduceKind::Max => vals.max().unwrap_or(0),
            ReduceKind::Min => vals.min().unwrap_or(0),
        }
    }
}

/// `acc[j] = combine(…combine(start, row_0[j])…, row_last[j])` over the rows of `block`.
#[inline(always)]
fn accumulate(acc: &mut [i32], block: &[i8], start: i32, combine: impl Fn(i32, i8) -> i32) {
    acc.fill(start);
    for row in block.chunks_exact(acc.len()) {
        for (a, &q) in acc.iter_mut().zip(row) {
            *a = combine(*a, q);
        }
    }
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Reduce`] (`solidml_spec::for_each_op!`).
    pub(crate) fn reduce(cx: &super::NodeCx<'_>, r: &solidml_spec::Reduce) -> super::CompileResult {
        let sin = cx.input_shape(0);
        cx.within(ReducePlan::table_bytes(r, sin))?;
        ReducePlan::new(r, sin).map(super::Plan::Reduce).ok_or(super::NotCompiled::TooLarge { bytes: usize::MAX })
    }
}
