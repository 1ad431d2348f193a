//! MatMul of two run-time tensors (spec §MatMul): for each broadcast batch index,
//! `acc[m, n] = Σ_k (a[m, k] − za) · (b[k, n] − zb)`,
//! `out = clamp(requantize(acc, M) + zp_out)`.

use solidml_spec::{
    MatMul,
    arith::{clamp_i8, requantize},
};

use crate::index::{broadcast_strides, for_each_offset};

pub fn matmul(mm: &MatMul, sa: &[u32], sb: &[u32], so: &[u32], a: &[i8], b: &[i8]) -> Vec<i8> {
    let (m, k, n) = (sa[sa.len() - 2] as usize, sa[sa.len() - 1] as usize, sb[sb.len() - 1] as usize);
    let batch = &so[..so.len() - 2];
    // batch offsets in units of whole matrices
    let (ta, tb) = (broadcast_strides(&sa[..sa.len() - 2], batch), broadcast_strides(&sb[..sb.len() - 2], batch));
    let mut out = Vec::with_capacity(so.iter().map(|&d| d as usize).product());
    for_each_offset(batch, [&ta, &tb], |[ia, ib]| {
        let (ma, mb) = (&a[ia * m * k..(ia + 1) * m * k], &b[ib * k * n..(ib + 1) * k * n]);
        for r in 0..m {
            for c in 0..n {
                let mut acc = 0i32;
                for j in 0..k {
                    acc += (ma[r * k + j] as i32 - mm.a_zero_point) * (mb[j * n + c] as i32 - mm.b_zero_point);
                }
                out.push(clamp_i8(requantize(acc, mm.multiplier).saturating_add(mm.output_zero_point), -128, 127));
            }
        }
    });
    out
}
