//! Dense layers as straight-line Yul with the weights in the code.
//!
//! The `N` output features are split into groups of `L` lanes of `W` bits in one 256-bit word
//! (`W` the smallest of 16, 24, 32 that holds the layer's accumulator bound with its sign, so
//! `L = ⌊256 / W⌋`). For each group the accumulator starts at the packed biases and, for each
//! input `k`, gains `COLUMN_k · (x_k − zp)`, where `COLUMN_k = Σ_j w[j, k] · 2^(W·j)` (mod
//! 2^256) is a PUSH32 constant: one MUL serves `L` MACs, and two's-complement arithmetic mod
//! 2^256 keeps every lane exact because no lane ever leaves `(−2^(W−1), 2^(W−1))`. Lanes come
//! out low first: `v = signextend(W/8 − 1, acc)`, then `acc = sar(W, acc − v)`, and each goes
//! through the spec's epilogue (gemmlowp requantization, zero point, clamp) as Yul.

use std::fmt::Write;

use solidml_spec::Dense;

/// A 256-bit two's-complement word as a Yul hex literal.
fn word(limbs: [u64; 4]) -> String {
    format!("0x{:016x}{:016x}{:016x}{:016x}", limbs[3], limbs[2], limbs[1], limbs[0])
}

/// `Σ_j v_j · 2^(w·j)` mod 2^256 for signed lane values.
fn pack(values: &[i64], w: u32) -> [u64; 4] {
    let mut acc = [0u64; 4];
    for (j, &v) in values.iter().enumerate() {
        // v · 2^(w·j) as a 256-bit two's-complement number, added mod 2^256
        let shift = w as usize * j;
        let mut term = [0u64; 4];
        let ext = if v < 0 { u64::MAX } else { 0 };
        let limbs = [v as u64, ext, ext, ext];
        for i in 0..4 {
            // bit position of limb i after the shift
            let (q, r) = (shift / 64, shift % 64);
            if i + q < 4 {
                term[i + q] |= limbs[i] << r;
                if r > 0 && i + q + 1 < 4 {
                    term[i + q + 1] |= limbs[i] >> (64 - r);
                }
            }
        }
        // sign-extend the shifted value above its top (limbs beyond index 0 carry the sign)
        let mut carry = 0u128;
        for i in 0..4 {
            let s = acc[i] as u128 + term[i] as u128 + carry;
            acc[i] = s as u64;
            carry = s >> 64;
        }
    }
    acc
}

fn yul_int(v: i64) -> String {
    if v < 0 { format!("sub(0, {})", v.unsigned_abs()) } else { v.to_string() }
}

/// The layer contract: `run(bytes)` for `rows` rows of `in_features` int8 codes.
pub fn contract(name: &str, d: &Dense, rows: u32) -> Result<String, String> {
    let (k_in, n_out) = (d.in_features as usize, d.out_features as usize);
    // accumulator bound per output (the validator's): Σ|w|·255 + |bias|
    let bound: i64 = (0..n_out).map(|n| d.weights[n * k_in..(n + 1) * k_in].iter().map(|&w| (w as i64).abs() * 255).sum::<i64>() + (d.bias[n] as i64).abs()).max().unwrap_or(0);
    let w = [16u32, 24, 32].into_iter().find(|&w| bound < 1i64 << (w - 1)).ok_or("accumulator bound exceeds 32 bits")?;
    let lanes = (256 / w) as usize;
    let mut y = String::new();
    let _ = writeln!(y, "            for {{ let r := 0 }} lt(r, {rows}) {{ r := add(r, 1) }} {{");
    let _ = writeln!(y, "                let src := add(x.offset, mul(r, {k_in}))");
    let _ = writeln!(y, "                let dst := add(add(y, 32), mul(r, {n_out}))");
    let _ = writeln!(y, "                for {{ let k := 0 }} lt(k, {k_in}) {{ k := add(k, 1) }} {{");
    let _ = writeln!(y, "                    mstore(add(xs, shl(5, k)), sub(signextend(0, byte(0, calldataload(add(src, k)))), {}))", yul_int(d.input_zero_point as i64));
    let _ = writeln!(y, "                }}");
    for g in 0..n_out.div_ceil(lanes) {
        let outs: Vec<usize> = (g * lanes..((g + 1) * lanes).min(n_out)).collect();
        let bias: Vec<i64> = outs.iter().map(|&n| d.bias[n] as i64).collect();
        let _ = writeln!(y, "                {{");
        let _ = writeln!(y, "                    let acc := {}", word(pack(&bias, w)));
        for k in 0..k_in {
            let col: Vec<i64> = outs.iter().map(|&n| d.weights[n * k_in + k] as i64).collect();
            if col.iter().all(|&c| c == 0) {
                continue;
            }
            let _ = writeln!(y, "                    acc := add(acc, mul({}, mload(add(xs, {}))))", word(pack(&col, w)), k * 32);
        }
        for &n in &outs {
            let m = if d.epilogue.multipliers.len() == 1 { d.epilogue.multipliers[0] } else { d.epilogue.multipliers[n] };
            let _ = writeln!(y, "                    {{");
            let _ = writeln!(y, "                        let v := signextend({}, acc)", w / 8 - 1);
            let _ = writeln!(y, "                        acc := sar({w}, sub(acc, v))");
            let _ = writeln!(
                y,
                "                        mstore8(add(dst, {n}), epilogue(v, {}, {}, {}, {}, {}))",
                m.multiplier,
                yul_int(m.shift as i64),
                yul_int(d.epilogue.output_zero_point as i64),
                yul_int(d.epilogue.clamp_min as i64),
                yul_int(d.epilogue.clamp_max as i64)
            );
            let _ = writeln!(y, "                    }}");
        }
        let _ = writeln!(y, "                }}");
    }
    let _ = writeln!(y, "            }}");
    Ok(format!(
        r#"// SPDX-License-Identifier: MIT
// Generated by `solidml compile`. Do not edit.
pragma solidity ^0.8.27;

/// Dense layer {k_in} → {n_out} ({rows} row(s)), weights in the code as packed {w}-bit lanes
/// ({lanes} MACs per MUL), spec §Dense with the gemmlowp epilogue.
contract {name} {{
    error InputLength(uint256 expected, uint256 got);

    function run(bytes calldata x) external pure returns (bytes memory y) {{
        if (x.length != {in_len}) revert InputLength({in_len}, x.length);
        y = new bytes({out_len});
        assembly ("memory-safe") {{
            // spec arith: SaturatingRoundingDoublingHighMul, RoundingDivideByPOT, requantize
            function srdhm(a, b) -> r {{
                if and(eq(a, sub(0, 0x80000000)), eq(b, sub(0, 0x80000000))) {{
                    r := 0x7fffffff
                    leave
                }}
                let ab := mul(a, b)
                let nudge := 0x40000000
                if slt(ab, 0) {{ nudge := sub(1, 0x40000000) }}
                r := sdiv(add(ab, nudge), 0x80000000)
            }}
            function rdbpot(v, e) -> r {{
                let mask := sub(shl(e, 1), 1)
                let threshold := add(shr(1, mask), slt(v, 0))
                r := add(sar(e, v), gt(and(v, mask), threshold))
            }}
            function epilogue(acc, m, shift, zp, lo, hi) -> out {{
                let v := acc
                let right := 0
                switch sgt(shift, 0)
                case 1 {{
                    v := shl(shift, acc)
                    if slt(v, sub(0, 0x80000000)) {{ v := sub(0, 0x80000000) }}
                    if sgt(v, 0x7fffffff) {{ v := 0x7fffffff }}
                }}
                default {{ right := sub(0, shift) }}
                out := add(rdbpot(srdhm(v, m), right), zp)
                if slt(out, lo) {{ out := lo }}
                if sgt(out, hi) {{ out := hi }}
            }}
            let xs := mload(0x40)
            mstore(0x40, add(xs, {xs_bytes}))
{y}        }}
    }}
}}
"#,
        in_len = rows as usize * k_in,
        out_len = rows as usize * n_out,
        xs_bytes = k_in * 32,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_pack_signed_values() {
        // [1, −1] in 32-bit lanes: 1 + (−1)·2^32 = −(2^32 − 1) mod 2^256
        let p = pack(&[1, -1], 32);
        assert_eq!(p, [0xffff_ffff_0000_0001, u64::MAX, u64::MAX, u64::MAX]);
        assert_eq!(pack(&[-2], 24), [u64::MAX - 1, u64::MAX, u64::MAX, u64::MAX]);
        assert_eq!(pack(&[5, 7, 0, 1], 16), [0x0001_0000_0007_0005, 0, 0, 0]);
        // a lane crossing a 64-bit limb boundary
        assert_eq!(pack(&[0, 0, 1], 24), [1 << 48, 0, 0, 0]);
        assert_eq!(pack(&[0, 0, 0, 1], 24), [0, 1 << 8, 0, 0]);
    }
}
