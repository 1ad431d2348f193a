//! Element-wise binary ops with numpy broadcasting (spec §Add/Sub/Mul, §Max/Min).
//!
//! * Add/Sub (TFLite's scheme): `a' = requantize((qa − za) · 2^left_shift, Ma)`,
//!   `b' = requantize((qb − zb) · 2^left_shift, Mb)`,
//!   `out = clamp(requantize(a' ± b', Mo) + zo)`.
//! * Mul: `out = clamp(requantize((qa − za) · (qb − zb), Mo) + zo)`.
//! * Max/Min: both inputs already carry the output's quantization: `max(qa, qb)`.

use solidml_spec::{
    Binary, BinaryKind, Extremum, IntBinaryKind, IntFault,
    arith::{clamp_i8, requantize},
};

use solidml_exec::Value;
use solidml_exec::index::{broadcast_strides, for_each_offset};

/// Binary (spec §Add/Sub/Mul) of one pair of codes `qa`, `qb`: the output code.
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

/// Binary (spec §Add/Sub/Mul) of int8 `a` (shape `sa`) and `bv` (shape `sb`), broadcast (numpy
/// rules) to the output shape `so`: [`binary_scalar`] element by element, row-major.
pub fn binary(b: &Binary, sa: &[u32], sb: &[u32], so: &[u32], a: &[i8], bv: &[i8]) -> Vec<i8> {
    broadcast(sa, sb, so, a, bv, |x, y| binary_scalar(b, x, y))
}

/// BinaryLut (spec §BinaryLut): `out = table[(a + 128) · 256 + (b + 128)]`.
pub fn binary_lut(table: &[i8], sa: &[u32], sb: &[u32], so: &[u32], a: &[i8], b: &[i8]) -> Vec<i8> {
    broadcast(sa, sb, so, a, b, |x, y| table[(x as i32 + 128) as usize * 256 + (y as i32 + 128) as usize])
}

/// IntBinary (spec §IntBinary): exact i64 arithmetic ([`IntBinaryKind::apply`]); the first
/// element in row-major order without an i64 result is a run-time error (overflow, or a
/// division by zero), reported by its operand `a`.
pub fn int_binary(
    node: &str,
    kind: IntBinaryKind,
    sa: &[u32],
    sb: &[u32],
    so: &[u32],
    a: &[i64],
    b: &[i64],
) -> Result<Vec<i64>, solidml_exec::ExecError> {
    let (ta, tb) = (broadcast_strides(sa, so), broadcast_strides(sb, so));
    let mut out = Vec::with_capacity(so.iter().map(|&d| d as usize).product());
    let mut fault = None;
    for_each_offset(so, [&ta, &tb], |[i, j]| {
        out.push(kind.apply(a[i], b[j]).unwrap_or_else(|f| {
            fault.get_or_insert((f, a[i]));
            0
        }));
    });
    let node = node.to_string();
    match fault {
        Some((IntFault::Overflow, value)) => Err(solidml_exec::ExecError::Overflow { node, value }),
        Some((IntFault::DivisionByZero, value)) => Err(solidml_exec::ExecError::DivisionByZero { node, value }),
        None => Ok(out),
    }
}

/// Extremum (spec §Max/Min) of int8 `a` (shape `sa`) and `b` (shape `sb`), broadcast to `so`:
/// the larger (Max) or smaller (Min) code, both inputs being at the output's quantization.
pub fn extremum(e: Extremum, sa: &[u32], sb: &[u32], so: &[u32], a: &[i8], b: &[i8]) -> Vec<i8> {
    match e {
        Extremum::Max => broadcast(sa, sb, so, a, b, |x, y| x.max(y)),
        Extremum::Min => broadcast(sa, sb, so, a, b, |x, y| x.min(y)),
    }
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Binary`] (`solidml_spec::for_each_op!`).
    pub fn binary(n: &super::NodeArgs<'_>, op: &solidml_spec::Binary) -> super::NodeResult {
        Ok(Value::I8(binary(op, n.input_shape(0), n.input_shape(1), n.output_shape(), n.args[0].as_i8(), n.args[1].as_i8())))
    }

    /// The node entry of [`solidml_spec::Op::Extremum`] (`solidml_spec::for_each_op!`).
    pub fn extremum(n: &super::NodeArgs<'_>, op: &solidml_spec::Extremum) -> super::NodeResult {
        Ok(Value::I8(extremum(*op, n.input_shape(0), n.input_shape(1), n.output_shape(), n.args[0].as_i8(), n.args[1].as_i8())))
    }

    /// The node entry of [`solidml_spec::Op::BinaryLut`] (`solidml_spec::for_each_op!`).
    pub fn binary_lut(n: &super::NodeArgs<'_>, table: &[i8]) -> super::NodeResult {
        Ok(Value::I8(binary_lut(table, n.input_shape(0), n.input_shape(1), n.output_shape(), n.args[0].as_i8(), n.args[1].as_i8())))
    }

    /// The node entry of [`solidml_spec::Op::IntBinary`] (`solidml_spec::for_each_op!`).
    pub fn int_binary(n: &super::NodeArgs<'_>, kind: &solidml_spec::IntBinaryKind) -> super::NodeResult {
        let (a, b) = (n.args[0].as_i64(), n.args[1].as_i64());
        Ok(Value::I64(int_binary(&n.node.name, *kind, n.input_shape(0), n.input_shape(1), n.output_shape(), a, b)?))
    }
}

#[cfg(test)]
mod tests {
    use solidml_spec::{
        Binary, BinaryKind, Extremum,
        arith::{Multiplier, requantize},
    };

    use super::{binary, binary_lut, extremum};
    use crate::ops::tests::{Rng, numel, ravel, unravel};

    fn op(kind: BinaryKind, zps: [i32; 3], left_shift: u32, ma: f64, mb: f64, mo: f64) -> Binary {
        let m = Multiplier::from_real;
        let [a_zero_point, b_zero_point, output_zero_point] = zps;
        Binary {
            kind,
            a_zero_point,
            b_zero_point,
            left_shift,
            a_multiplier: m(ma),
            b_multiplier: m(mb),
            output_multiplier: m(mo),
            output_zero_point,
            clamp_min: -128,
            clamp_max: 127,
        }
    }

    #[test]
    fn add_and_sub_with_real_scales_and_broadcasting() {
        // s_a = 0.5, s_b = 0.25, s_out = 1 (TFLite): left_shift = 20, twice_max = 2·max(s_a, s_b) = 1,
        // M_a = s_a / twice_max = 0.5, M_b = 0.25, M_out = twice_max / (2^20 · s_out) = 2^−20.
        // zp = (1, −2, 5). a [2, 1] = [3, −1] → real [1, −1]; b [3] = [−2, 0, 1] → real [0, 0.5, 0.75].
        // a + b = [[1, 1.5, 1.75], [−1, −0.5, −0.25]] → half away [[1, 2, 2], [−1, −1, 0]] + 5.
        // a − b = [[1, 0.5, 0.25], [−1, −1.5, −1.75]] → [[1, 1, 0], [−1, −2, −2]] + 5.
        let (a, b) = ([3, -1], [-2, 0, 1]);
        let add = op(BinaryKind::Add, [1, -2, 5], 20, 0.5, 0.25, 2f64.powi(-20));
        assert_eq!(binary(&add, &[2, 1], &[3], &[2, 3], &a, &b), vec![6, 7, 7, 4, 4, 5]);
        let sub = Binary { kind: BinaryKind::Sub, ..add.clone() };
        assert_eq!(binary(&sub, &[2, 1], &[3], &[2, 3], &a, &b), vec![6, 6, 5, 4, 3, 3]);
        // clamp bounds apply last
        let clamped = Binary { clamp_min: 4, clamp_max: 6, ..add };
        assert_eq!(binary(&clamped, &[2, 1], &[3], &[2, 3], &a, &b), vec![6, 6, 6, 4, 4, 5]);
    }

    #[test]
    fn mul_saturates_to_int8() {
        // M_out = s_a·s_b/s_out = 1. (3 − 1)·(4 − 1) = 6 → 6 + 2 = 8;
        // (127 − (−128))·(−128 − 127) = −65025 → clamp −128; (−1 − 1)·(−2 − 1) = 6 → 8.
        let mul = op(BinaryKind::Mul, [1, 1, 2], 0, 0.0, 0.0, 1.0);
        assert_eq!(binary(&mul, &[3], &[3], &[3], &[3, 127, -1], &[4, 1, -2]), vec![8, 2, 8]);
        let mul = Binary { a_zero_point: -128, b_zero_point: 127, ..mul };
        assert_eq!(binary(&mul, &[1], &[], &[1], &[127], &[-128]), vec![-128]);
    }

    #[test]
    fn max_min_broadcast() {
        // a [2, 1, 3], b [2, 1] → [2, 2, 3]; out[i][j][k] = max(a[i][0][k], b[j][0]).
        let a = [1, 5, -3, 0, 0, 127];
        let b = [2, -128];
        let max = [2, 5, 2, 1, 5, -3, 2, 2, 127, 0, 0, 127];
        let min = [1, 2, -3, -128, -128, -128, 0, 0, 2, -128, -128, -128];
        assert_eq!(extremum(Extremum::Max, &[2, 1, 3], &[2, 1], &[2, 2, 3], &a, &b), max);
        assert_eq!(extremum(Extremum::Min, &[2, 1, 3], &[2, 1], &[2, 2, 3], &a, &b), min);
    }

    /// Reads `x` (shape `s`, right-aligned against `out`) at the output multi-index `idx`.
    fn at(x: &[i8], s: &[u32], idx: &[usize]) -> i8 {
        let lead = idx.len() - s.len();
        let own: Vec<usize> = s.iter().enumerate().map(|(k, &d)| if d == 1 { 0 } else { idx[lead + k] }).collect();
        x[ravel(&own, s)]
    }

    #[test]
    fn random_broadcast_ops_match_the_formula() {
        let mut rng = Rng::new(3);
        for case in 0..60 {
            let out = rng.shape(0, 4, 4);
            let operand = |rng: &mut Rng| -> Vec<u32> {
                let rank = rng.range(0, out.len() as i64) as usize;
                out[out.len() - rank..].iter().map(|&d| if rng.one_in(3) { 1 } else { d }).collect()
            };
            let (sa, sb) = (operand(&mut rng), operand(&mut rng));
            // broadcast output of the two operands (dims that both set to 1 stay 1)
            let dim = |s: &[u32], k: usize| (k + s.len()).checked_sub(out.len()).map_or(1, |i| s[i]);
            let so: Vec<u32> = (0..out.len()).map(|k| dim(&sa, k).max(dim(&sb, k))).collect();
            let (a, b) = (rng.i8s(numel(&sa)), rng.i8s(numel(&sb)));
            let kind = [BinaryKind::Add, BinaryKind::Sub, BinaryKind::Mul][case % 3];
            let (clamp_min, clamp_max) = rng.clamp();
            let m_in = |rng: &mut Rng| Multiplier::from_real((rng.range(1, (1 << 20) - 1) as f64) / (1 << 20) as f64); // (0, 1)
            let p = Binary {
                kind,
                a_zero_point: rng.zero_point(),
                b_zero_point: rng.zero_point(),
                left_shift: rng.range(0, 20) as u32,
                a_multiplier: m_in(&mut rng),
                b_multiplier: m_in(&mut rng),
                output_multiplier: rng.multiplier(),
                output_zero_point: rng.zero_point(),
                clamp_min,
                clamp_max,
            };
            let f = |qa: i8, qb: i8| -> i8 {
                let (xa, xb) = (qa as i64 - p.a_zero_point as i64, qb as i64 - p.b_zero_point as i64);
                let acc = match kind {
                    BinaryKind::Mul => xa * xb,
                    _ => {
                        let ra = requantize((xa * (1 << p.left_shift)) as i32, p.a_multiplier) as i64;
                        let rb = requantize((xb * (1 << p.left_shift)) as i32, p.b_multiplier) as i64;
                        if kind == BinaryKind::Add { ra + rb } else { ra - rb }
                    }
                };
                (requantize(acc as i32, p.output_multiplier) as i64 + p.output_zero_point as i64).clamp(clamp_min as i64, clamp_max as i64)
                    as i8
            };
            let idx = |i: usize| unravel(i, &so);
            let want: Vec<i8> = (0..numel(&so)).map(|i| f(at(&a, &sa, &idx(i)), at(&b, &sb, &idx(i)))).collect();
            assert_eq!(binary(&p, &sa, &sb, &so, &a, &b), want, "{p:?} {sa:?} {sb:?}");
            let max: Vec<i8> = (0..numel(&so)).map(|i| at(&a, &sa, &idx(i)).max(at(&b, &sb, &idx(i)))).collect();
            let min: Vec<i8> = (0..numel(&so)).map(|i| at(&a, &sa, &idx(i)).min(at(&b, &sb, &idx(i)))).collect();
            assert_eq!(extremum(Extremum::Max, &sa, &sb, &so, &a, &b), max);
            assert_eq!(extremum(Extremum::Min, &sa, &sb, &so, &a, &b), min);
        }
    }

    /// `table[(a + 128)·256 + (b + 128)] = f(a, b)` over all 65536 pairs.
    fn tabulate(f: impl Fn(i8, i8) -> i8) -> Vec<i8> {
        (-128..=127).flat_map(|a| (-128..=127).map(move |b| (a, b))).map(|(a, b)| f(a, b)).collect()
    }

    #[test]
    fn binary_lut_projections_and_corners() {
        // Projection tables: table = a gives a broadcast to the output, table = b gives b.
        // a [2, 1] = [3, −128], b [3] = [−1, 0, 127] → [2, 3]:
        //   first = [[3, 3, 3], [−128, −128, −128]], second = [[−1, 0, 127], [−1, 0, 127]].
        let (a, b) = ([3, -128], [-1, 0, 127]);
        let first = tabulate(|x, _| x);
        let second = tabulate(|_, y| y);
        assert_eq!(binary_lut(&first, &[2, 1], &[3], &[2, 3], &a, &b), vec![3, 3, 3, -128, -128, -128]);
        assert_eq!(binary_lut(&second, &[2, 1], &[3], &[2, 3], &a, &b), vec![-1, 0, 127, -1, 0, 127]);
        // Saturating add: [[2, 3, 127], [−128, −128, −1]].
        let add = tabulate(|x, y| x.saturating_add(y));
        assert_eq!(binary_lut(&add, &[2, 1], &[3], &[2, 3], &a, &b), vec![2, 3, 127, -128, -128, -1]);
        // Index layout: (a, b) = (−128, −128) → 0, (−128, 127) → 255, (127, −128) → 65280,
        // (127, 127) → 65535, (0, 0) → 128·256 + 128; a table marking those entries shows each
        // is read where the formula says.
        let mut marks = vec![0i8; 65536];
        for (i, v) in [(0, 1), (255, 2), (65280, 3), (65535, 4), (128 * 256 + 128, 5)] {
            marks[i] = v;
        }
        let (a, b) = ([-128, -128, 127, 127, 0], [-128, 127, -128, 127, 0]);
        assert_eq!(binary_lut(&marks, &[5], &[5], &[5], &a, &b), vec![1, 2, 3, 4, 5]);
        // Scalar operands (rank 0) broadcast too.
        assert_eq!(binary_lut(&marks, &[], &[], &[], &[0], &[0]), vec![5]);
    }

    #[test]
    fn random_binary_luts_match_the_formula() {
        let mut rng = Rng::new(17);
        for case in 0..50 {
            let out = rng.shape(0, 4, 4);
            let operand = |rng: &mut Rng| -> Vec<u32> {
                let rank = rng.range(0, out.len() as i64) as usize;
                out[out.len() - rank..].iter().map(|&d| if rng.one_in(3) { 1 } else { d }).collect()
            };
            let (sa, sb) = (operand(&mut rng), operand(&mut rng));
            let dim = |s: &[u32], k: usize| (k + s.len()).checked_sub(out.len()).map_or(1, |i| s[i]);
            let so: Vec<u32> = (0..out.len()).map(|k| dim(&sa, k).max(dim(&sb, k))).collect();
            let (a, b) = (rng.i8s(numel(&sa)), rng.i8s(numel(&sb)));
            let idx = |i: usize| unravel(i, &so);
            if case % 2 == 0 {
                // an arbitrary table
                let table = rng.i8s(65536);
                let want: Vec<i8> = (0..numel(&so))
                    .map(|i| table[(at(&a, &sa, &idx(i)) as i32 + 128) as usize * 256 + (at(&b, &sb, &idx(i)) as i32 + 128) as usize])
                    .collect();
                assert_eq!(binary_lut(&table, &sa, &sb, &so, &a, &b), want, "{sa:?} {sb:?}");
            } else {
                // a tabulated Mul is the Mul op itself
                let (clamp_min, clamp_max) = rng.clamp();
                let p = Binary {
                    kind: BinaryKind::Mul,
                    a_zero_point: rng.zero_point(),
                    b_zero_point: rng.zero_point(),
                    left_shift: 0,
                    a_multiplier: Multiplier::from_real(0.0),
                    b_multiplier: Multiplier::from_real(0.0),
                    output_multiplier: rng.multiplier(),
                    output_zero_point: rng.zero_point(),
                    clamp_min,
                    clamp_max,
                };
                let table = tabulate(|x, y| binary(&p, &[], &[], &[], &[x], &[y])[0]);
                assert_eq!(binary_lut(&table, &sa, &sb, &so, &a, &b), binary(&p, &sa, &sb, &so, &a, &b), "{p:?} {sa:?} {sb:?}");
            }
        }
    }
}

#[cfg(test)]
mod int_binary_tests {
    use solidml_spec::IntBinaryKind::{self, *};

    use super::int_binary;
    use solidml_exec::ExecError;

    fn one(kind: IntBinaryKind, a: i64, b: i64) -> Result<i64, ExecError> {
        int_binary("n", kind, &[1], &[1], &[1], &[a], &[b]).map(|v| v[0])
    }

    #[test]
    fn exact_with_broadcasting_and_overflow_is_an_error() {
        // [2, 2] op [2]: rows broadcast
        let a = [1, 2, 3, 4];
        assert_eq!(int_binary("n", Add, &[2, 2], &[2], &[2, 2], &a, &[10, -20]).unwrap(), vec![11, -18, 13, -16]);
        assert_eq!(int_binary("n", Sub, &[2, 2], &[2], &[2, 2], &a, &[10, -20]).unwrap(), vec![-9, 22, -7, 24]);
        assert_eq!(int_binary("n", Mul, &[2, 2], &[2], &[2, 2], &a, &[1 << 40, -3]).unwrap(), vec![1 << 40, -6, 3 << 40, -12]);
        assert_eq!(int_binary("n", Max, &[2, 2], &[2], &[2, 2], &a, &[2, -20]).unwrap(), vec![2, 2, 3, 4]);
        assert_eq!(int_binary("n", Min, &[2, 2], &[2], &[2, 2], &a, &[2, -20]).unwrap(), vec![1, -20, 2, -20]);
        assert_eq!(int_binary("n", And, &[3], &[3], &[3], &[-8, 12, i64::MIN], &[7, -3, -1]).unwrap(), vec![0, 12, i64::MIN]);
        assert_eq!(int_binary("n", Or, &[3], &[3], &[3], &[-8, 12, i64::MIN], &[7, -3, -1]).unwrap(), vec![-1, -3, -1]);
        assert_eq!(int_binary("n", Xor, &[3], &[3], &[3], &[-8, 12, i64::MIN], &[7, -3, -1]).unwrap(), vec![-1, -15, i64::MAX]);
        let err = one(Mul, i64::MAX, 2).unwrap_err();
        assert!(matches!(err, ExecError::Overflow { value: i64::MAX, .. }), "{err}");
        assert!(one(Add, i64::MIN, -1).is_err());
    }

    #[test]
    fn division_truncates_and_the_remainders_take_their_signs() {
        for (a, b, div, rem, modulo) in
            [(7, 2, 3, 1, 1), (-7, 2, -3, -1, 1), (7, -2, -3, 1, -1), (-7, -2, 3, -1, -1), (6, 3, 2, 0, 0), (-6, 3, -2, 0, 0)]
        {
            assert_eq!((one(Div, a, b).unwrap(), one(Rem, a, b).unwrap(), one(Mod, a, b).unwrap()), (div, rem, modulo), "{a} {b}");
        }
        // the one quotient outside i64; its remainders are 0
        assert!(matches!(one(Div, i64::MIN, -1), Err(ExecError::Overflow { value: i64::MIN, .. })));
        assert_eq!((one(Rem, i64::MIN, -1).unwrap(), one(Mod, i64::MIN, -1).unwrap()), (0, 0));
        assert_eq!(one(Mod, i64::MIN, i64::MAX).unwrap(), i64::MAX - 1);
        for k in [Div, Mod, Rem] {
            let err = one(k, -5, 0).unwrap_err();
            assert!(matches!(err, ExecError::DivisionByZero { value: -5, .. }), "{err}");
            assert_eq!(err.to_string(), "node `n`: division by zero (operand -5)");
        }
        // the first failing element is reported, whatever its fault
        let err = int_binary("n", Div, &[3], &[3], &[3], &[1, i64::MIN, 4], &[1, -1, 0]).unwrap_err();
        assert!(matches!(err, ExecError::Overflow { value: i64::MIN, .. }), "{err}");
    }
}
