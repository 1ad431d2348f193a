// conv_transpose.wgsl — N-d ConvTranspose (docs/spec.md#op-convtranspose), gather form: each
// output element [n, co, o…] sums the input positions whose taps land on it, over the reduction
// indices r = t · Cg_in + ci (tap-major). `main`: one thread per output, when the reduction is
// at most one chunk. Longer reductions in two passes over batches of outputs, as lavapipe ends
// an invocation's loops after about 65,535 iterations in all (a chunk of L reduction indices
// costs at most L · (s + 2) of them; ops/conv_transpose.rs picks L ≥ 2,048 and at most as many
// chunks as L):
//   partial: one thread per (output of the batch, chunk of L reduction indices) → scratch[t]
//   combine: one thread per output of the batch sums its partials, adds the bias, requantizes.
//
// params: 0 total, 1 s, 2 C_in, 3 C_out, 4 Cg_in, 5 Cg_out, 6 in_plane, 7 out_plane, 8 klen,
//         9 nmult, 10 mult_off, 11 w_off, 12 input zp, 13 output zp, 14 clamp_min, 15 clamp_max,
//         16 chunks per output, 17 chunk length L, 18 first output of the batch,
//         19 batch outputs,
//         20 + 6d: in_dim, out_dim, kernel, stride, dilation, pad_begin of spatial axis d
// data:   bias [C_out], multipliers at mult_off, weights at w_off (one i32 per weight,
//         [C_out, Cg_in, taps] as in the model).

// The accumulator of output i over reduction indices [r0, r1), without the bias.
fn accumulate(i: u32, r0: u32, r1: u32) -> i32 {
    let s = p_u32(1u);
    let cin = p_u32(2u);
    let cout = p_u32(3u);
    let cin_g = p_u32(4u);
    let cout_g = p_u32(5u);
    let in_plane = p_u32(6u);
    let out_plane = p_u32(7u);
    let klen = p_u32(8u);
    let w_off = p_u32(11u);
    let zp = p_i32(12u);
    let o = i % out_plane;
    let co = (i / out_plane) % cout;
    let n = i / (out_plane * cout);
    let g = co / cout_g;
    var opos: array<i32, 8>;
    var rem = o;
    for (var d = s; d > 0u; d--) {
        let od = p_u32(20u + 6u * (d - 1u) + 1u);
        opos[d - 1u] = i32(rem % od);
        rem = rem / od;
    }
    var acc = 0;
    let xbase = (n * cin + g * cin_g) * in_plane;
    var r = r0;
    while (r < r1) {
        let t = r / cin_g;
        let ci0 = r % cin_g;
        let ci1 = min(cin_g, ci0 + (r1 - r));
        var rt = t;
        var off = 0u;
        var inside = true;
        var st = 1u;
        for (var d = s; d > 0u; d--) {
            let b = 20u + 6u * (d - 1u);
            let h = p_u32(b);
            let kd = rt % p_u32(b + 2u);
            rt = rt / p_u32(b + 2u);
            let num = opos[d - 1u] + p_i32(b + 5u) - i32(kd) * p_i32(b + 4u);
            let stride = p_i32(b + 3u);
            if (num < 0 || num % stride != 0 || num / stride >= i32(h)) {
                inside = false;
            } else {
                off += u32(num / stride) * st;
            }
            st = st * h;
        }
        if (inside) {
            for (var ci = ci0; ci < ci1; ci++) {
                let w = data_i32(w_off + (co * cin_g + ci) * klen + t);
                acc += w * (in0_i32(xbase + ci * in_plane + off) - zp);
            }
        }
        r += ci1 - ci0;
    }
    return acc;
}

fn write_out(i: u32, acc: i32) {
    let co = (i / p_u32(7u)) % p_u32(3u);
    write_i32(i, epilogue_at(acc + data_i32(co), co, p_u32(9u), p_u32(10u), p_i32(13u), p_i32(14u), p_i32(15u)));
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    write_out(i, accumulate(i, 0u, p_u32(8u) * p_u32(4u)));
}

@compute @workgroup_size(64)
fn partial(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_index(gid, nwg);
    let chunks = p_u32(16u);
    if (t >= p_u32(19u) * chunks) {
        return;
    }
    let len = p_u32(17u);
    let r0 = (t % chunks) * len;
    scratch[t] = bitcast<u32>(accumulate(p_u32(18u) + t / chunks, r0, min(r0 + len, p_u32(8u) * p_u32(4u))));
}

@compute @workgroup_size(64)
fn combine(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_index(gid, nwg);
    if (t >= p_u32(19u)) {
        return;
    }
    let chunks = p_u32(16u);
    // exact: each partial and the true accumulator fit in i32 (the accumulator bound)
    var acc = 0;
    for (var c = 0u; c < chunks; c++) {
        acc += bitcast<i32>(scratch[t * chunks + c]);
    }
    write_out(p_u32(18u) + t, acc);
}
