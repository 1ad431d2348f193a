//! Binary (spec §Add/Sub/Mul) and Extremum (spec §Max/Min), with numpy broadcasting.
//!
//! * Add/Sub: `a' = requantize((qa − za) · 2^left_shift, Ma)` depends on the code `qa` alone,
//!   so it is a 256-entry i32 table built at prepare (`b'` likewise); per element,
//!   `out = clamp(requantize(a' ± b', Mo) + zo)`, the last step the vector epilogue
//!   (`crate::epilogue`) over 16 elements at a time. `|a' ± b'| < 2^29`: exact in i32.
//! * Mul: the tables hold `q − z`; per element the product (`|·| ≤ 255²`), then the epilogue.
//! * Max/Min: the larger (smaller) code.
//!
//! Broadcasting runs row by row: a row is the longest run of trailing output axes over which
//! each operand either steps contiguously or repeats one element (the whole tensor for equal
//! shapes, a plane for a per-channel operand), one of four loops fixed at prepare; the rows'
//! start offsets come from the broadcast strides of the leading axes.

use solidml_exec::{
    Value,
    index::{broadcast_strides, for_each_offset},
};
use solidml_spec::{Binary, BinaryKind, Epilogue, Extremum, arith::requantize};

use crate::{
    epilogue::{Lanes16, Requant, VectorConstants},
    gemm::Kernel,
};

/// What combines a pair of codes.
enum Combine {
    /// Add, Sub or Mul through per-operand tables and the epilogue.
    Arith { kind: BinaryKind, a: Box<[i32; 256]>, b: Box<[i32; 256]>, requant: Requant, vector: Option<VectorConstants> },
    /// Max or Min of the codes.
    Extremum(Extremum),
}

/// A Binary or Extremum node ready to run.
pub(crate) struct BinaryPlan {
    combine: Combine,
    /// Output elements per row (1 for a scalar output).
    row: usize,
    /// Input offsets of each output row's first element, per operand.
    a_rows: Vec<usize>,
    b_rows: Vec<usize>,
    /// Whether each operand steps along a row (else it repeats one element).
    a_steps: bool,
    b_steps: bool,
}

impl BinaryPlan {
    pub(crate) fn binary(b: &Binary, sa: &[u32], sb: &[u32], so: &[u32]) -> BinaryPlan {
        let shifted = |q: i32, zp: i32, m| requantize((q - zp) << b.left_shift, m);
        let table = |f: &dyn Fn(i32) -> i32| Box::new(std::array::from_fn::<i32, 256, _>(|i| f(i as i32 - 128)));
        let (ta, tb) = match b.kind {
            BinaryKind::Add | BinaryKind::Sub => {
                (table(&|q| shifted(q, b.a_zero_point, b.a_multiplier)), table(&|q| shifted(q, b.b_zero_point, b.b_multiplier)))
            }
            BinaryKind::Mul => (table(&|q| q - b.a_zero_point), table(&|q| q - b.b_zero_point)),
        };
        let e = Epilogue {
            multipliers: vec![b.output_multiplier],
            output_zero_point: b.output_zero_point,
            clamp_min: b.clamp_min,
            clamp_max: b.clamp_max,
        };
        let requant = Requant::new(&e, &[], &[0], 0);
        let combine = Combine::Arith { kind: b.kind, a: ta, b: tb, vector: requant.vector_constants(), requant };
        BinaryPlan::new(combine, sa, sb, so)
    }

    pub(crate) fn extremum(e: Extremum, sa: &[u32], sb: &[u32], so: &[u32]) -> BinaryPlan {
        BinaryPlan::new(Combine::Extremum(e), sa, sb, so)
    }

    fn new(combine: Combine, sa: &[u32], sb: &[u32], so: &[u32]) -> BinaryPlan {
        let (ta, tb) = (broadcast_strides(sa, so), broadcast_strides(sb, so));
        // merge the longest run of trailing axes over which each operand either steps
        // contiguously or repeats one element into one row
        let (mut a_mode, mut b_mode) = (None, None);
        let (mut merged, mut row) = (0, 1usize);
        for d in (0..so.len()).rev() {
            let fits = |t: &[usize], mode: &mut Option<bool>| {
                if so[d] == 1 {
                    return true;
                }
                let steps = match t[d] {
                    0 => false,
                    s if s == row => true,
                    _ => return false,
                };
                *mode.get_or_insert(steps) == steps
            };
            if !(fits(&ta, &mut a_mode) && fits(&tb, &mut b_mode)) {
                break;
            }
            merged += 1;
            row *= so[d] as usize;
        }
        let lead = so.len() - merged;
        let (mut a_rows, mut b_rows) = (vec![], vec![]);
        if row > 0 {
            for_each_offset(&so[..lead], [&ta[..lead], &tb[..lead]], |[i, j]| {
                a_rows.push(i);
                b_rows.push(j);
            });
        }
        BinaryPlan { combine, row, a_rows, b_rows, a_steps: a_mode.unwrap_or(true), b_steps: b_mode.unwrap_or(true) }
    }

    pub(crate) fn packed_bytes(&self) -> usize {
        (self.a_rows.len() + self.b_rows.len()) * 8 + 2048
    }

    pub(crate) fn run(&self, kernel: Kernel, a: &[i8], b: &[i8]) -> Value {
        kernel.run(
            #[inline(always)]
            || self.run_on(kernel, a, b),
        )
    }

    #[inline(always)]
    fn run_on(&self, kernel: Kernel, a: &[i8], b: &[i8]) -> Value {
        let n = self.row;
        let mut out = vec![0i8; self.a_rows.len() * n];
        for ((&ia, &ib), dst) in self.a_rows.iter().zip(&self.b_rows).zip(out.chunks_exact_mut(n.max(1))) {
            let ra = if self.a_steps { &a[ia..ia + n] } else { &a[ia..ia + 1] };
            let rb = if self.b_steps { &b[ib..ib + n] } else { &b[ib..ib + 1] };
            match (self.a_steps, self.b_steps) {
                (true, true) => self.row_of(kernel, dst, |i| (ra[i], rb[i])),
                (true, false) => self.row_of(kernel, dst, |i| (ra[i], rb[0])),
                (false, true) => self.row_of(kernel, dst, |i| (ra[0], rb[i])),
                (false, false) => self.row_of(kernel, dst, |_| (ra[0], rb[0])),
            }
        }
        Value::I8(out)
    }

    /// `dst[i] = combine(pair(i))` over one output row.
    #[inline(always)]
    fn row_of(&self, kernel: Kernel, dst: &mut [i8], pair: impl Fn(usize) -> (i8, i8)) {
        match &self.combine {
            Combine::Extremum(Extremum::Max) => dst.iter_mut().enumerate().for_each(|(i, d)| *d = pair(i).0.max(pair(i).1)),
            Combine::Extremum(Extremum::Min) => dst.iter_mut().enumerate().for_each(|(i, d)| *d = pair(i).0.min(pair(i).1)),
            Combine::Arith { kind, a, b, requant, vector } => {
                let (a, b): (&[i32; 256], &[i32; 256]) = (a, b);
                let code = |q: i8| (q as u8 ^ 0x80) as usize;
                let apply = |sums: &[i32; 16], out: &mut [i8]| requant.apply16(vector.as_ref(), kernel, Lanes16::Channel(0), sums, out);
                match kind {
                    BinaryKind::Add => sums_of(dst, &pair, |x, y| a[code(x)] + b[code(y)], apply),
                    BinaryKind::Sub => sums_of(dst, &pair, |x, y| a[code(x)] - b[code(y)], apply),
                    BinaryKind::Mul => sums_of(dst, &pair, |x, y| a[code(x)] * b[code(y)], apply),
                }
            }
        }
    }
}

/// `dst = apply(sum(pair(i)))`, 16 elements at a time.
#[inline(always)]
fn sums_of(dst: &mut [i8], pair: impl Fn(usize) -> (i8, i8), sum: impl Fn(i8, i8) -> i32, apply: impl Fn(&[i32; 16], &mut [i8])) {
    let mut sums = [0i32; 16];
    for (c, chunk) in dst.chunks_mut(16).enumerate() {
        for (l, s) in sums.iter_mut().enumerate().take(chunk.len()) {
            let (x, y) = pair(c * 16 + l);
            *s = sum(x, y);
        }
        apply(&sums, chunk);
    }
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Binary`] (`solidml_spec::for_each_op!`).
    pub(crate) fn binary(cx: &super::NodeCx<'_>, b: &solidml_spec::Binary) -> super::CompileResult {
        let (sa, sb, so) = cx.binary_shapes()?;
        Ok(super::Plan::Binary(BinaryPlan::binary(b, sa, sb, so)))
    }

    /// The node entry of [`solidml_spec::Op::Extremum`] (`solidml_spec::for_each_op!`).
    pub(crate) fn extremum(cx: &super::NodeCx<'_>, e: &solidml_spec::Extremum) -> super::CompileResult {
        let (sa, sb, so) = cx.binary_shapes()?;
        Ok(super::Plan::Binary(BinaryPlan::extremum(*e, sa, sb, so)))
    }
}
