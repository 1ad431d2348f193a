//! Element-wise binary ops with numpy broadcasting (spec §Add/Sub/Mul, §Max/Min).
//!
//! * Add/Sub (TFLite's scheme): `a' = requantize((qa − za) · 2^left_shift, Ma)`,
//!   `b' = requantize((qb − zb) · 2^left_shift, Mb)`,
//!   `out = clamp(requantize(a' ± b', Mo) + zo)`.
//! * Mul: `out = clamp(requantize((qa − za) · (qb − zb), Mo) + zo)`.
//! * Max/Min: both inputs already carry the output's quantization: `max(qa, qb)`.

use solidml_spec::{
    Binary, BinaryKind, Extremum,
    arith::{clamp_i8, requantize},
};

use crate::index::{broadcast_strides, for_each_offset};

pub fn binary_scalar(b: &Binary, qa: i8, qb: i8) -> i8 {
    let (xa, xb) = (qa as i32 - b.a_zero_point, qb as i32 - b.b_zero_point);
    let acc = match b.kind {
        BinaryKind::Add | BinaryKind::Sub => {
            let a = requantize(xa << b.left_shift, b.a_multiplier);
            let bb = requantize(xb << b.left_shift, b.b_multiplier);
            if b.kind == BinaryKind::Add { a + bb } else { a - bb }
        }
        BinaryKind::Mul => xa * xb,
    };
    clamp_i8(requantize(acc, b.output_multiplier).saturating_add(b.output_zero_point), b.clamp_min, b.clamp_max)
}

fn broadcast(sa: &[u32], sb: &[u32], so: &[u32], a: &[i8], b: &[i8], f: impl Fn(i8, i8) -> i8) -> Vec<i8> {
    let (ta, tb) = (broadcast_strides(sa, so), broadcast_strides(sb, so));
    let mut out = Vec::with_capacity(so.iter().map(|&d| d as usize).product());
    for_each_offset(so, [&ta, &tb], |[i, j]| out.push(f(a[i], b[j])));
    out
}

pub fn binary(b: &Binary, sa: &[u32], sb: &[u32], so: &[u32], a: &[i8], bv: &[i8]) -> Vec<i8> {
    broadcast(sa, sb, so, a, bv, |x, y| binary_scalar(b, x, y))
}

pub fn extremum(e: Extremum, sa: &[u32], sb: &[u32], so: &[u32], a: &[i8], b: &[i8]) -> Vec<i8> {
    match e {
        Extremum::Max => broadcast(sa, sb, so, a, b, |x, y| x.max(y)),
        Extremum::Min => broadcast(sa, sb, so, a, b, |x, y| x.min(y)),
    }
}
