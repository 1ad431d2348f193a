//! Reduce (spec §Reduce) over `axes`: with `r = Σ (q − zp_in)` (Sum),
//! `round_half_away(Σ (q − zp_in) / count)` (Mean), or `max/min (q − zp_in)` (Max/Min),
//! `out = clamp(requantize(r, M) + zp_out)`. The groups are computed once at prepare: runs of
//! contiguous elements when the reduced axes are the trailing ones, else an offset table.

use solidml_exec::{Value, index::reduce_groups};
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
    /// Flat input offsets, `len` per group in order; empty when group `g` is the contiguous
    /// run `g·len..(g+1)·len`.
    offsets: Vec<u32>,
}

impl ReducePlan {
    /// The bytes the plan of `r` over `shape` holds: an offset table unless the reduced axes
    /// are the trailing ones.
    pub(crate) fn table_bytes(r: &Reduce, shape: &[u32]) -> usize {
        let rank = shape.len();
        let mut axes: Vec<usize> = r.axes.iter().map(|&a| a as usize).collect();
        axes.sort_unstable();
        axes.dedup();
        if axes.iter().enumerate().all(|(i, &a)| a == rank - axes.len() + i) {
            return 0;
        }
        shape.iter().map(|&d| d as usize).product::<usize>().saturating_mul(4)
    }

    /// `None` when an offset does not fit in u32 (the node runs on the fallback).
    pub(crate) fn new(r: &Reduce, shape: &[u32]) -> Option<ReducePlan> {
        let rank = shape.len();
        let mut axes: Vec<usize> = r.axes.iter().map(|&a| a as usize).collect();
        axes.sort_unstable();
        axes.dedup();
        let len: usize = axes.iter().map(|&a| shape[a] as usize).product();
        let numel: usize = shape.iter().map(|&d| d as usize).product();
        let trailing = axes.iter().enumerate().all(|(i, &a)| a == rank - axes.len() + i);
        let groups = numel
            .checked_div(len)
            .unwrap_or_else(|| shape.iter().enumerate().filter(|(a, _)| !axes.contains(a)).map(|(_, &d)| d as usize).product());
        if trailing {
            return Some(ReducePlan { op: r.clone(), groups, len, offsets: vec![] });
        }
        if numel > u32::MAX as usize {
            return None;
        }
        let lists = reduce_groups(&r.axes, shape);
        let offsets = lists.iter().flatten().map(|&i| i as u32).collect();
        Some(ReducePlan { op: r.clone(), groups: lists.len(), len, offsets })
    }

    pub(crate) fn packed_bytes(&self) -> usize {
        self.offsets.len() * 4
    }

    pub(crate) fn run(&self, x: &[i8]) -> Value {
        let zp = self.op.input_zero_point;
        let out = (0..self.groups)
            .map(|g| {
                let v = if self.offsets.is_empty() {
                    self.fold(x[g * self.len..(g + 1) * self.len].iter().map(|&q| q as i32 - zp))
                } else {
                    self.fold(self.offsets[g * self.len..(g + 1) * self.len].iter().map(|&i| x[i as usize] as i32 - zp))
                };
                clamp_i8(requantize(v, self.op.multiplier).saturating_add(self.op.output_zero_point), -128, 127)
            })
            .collect();
        Value::I8(out)
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
