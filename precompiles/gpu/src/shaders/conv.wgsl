// conv.wgsl — N-d Conv (docs/spec.md#op-conv). `main`: one thread per output element
// [n, co, o…], when its reduction (klen · Cg_in MACs) is at most one chunk. Longer reductions
// run in two passes over batches of outputs, as lavapipe ends an invocation's loops after about
// 65,535 iterations in all (a chunk of L reduction indices costs at most L · (s + 2) of them;
// ops/conv.rs picks L ≥ 2,048 and at most as many chunks as L):
//   partial: one thread per (output of the batch, chunk of L reduction indices) → scratch[t]
//   combine: one thread per output of the batch sums its partials, adds the bias, requantizes.
//
// params: 0 total, 1 s (spatial rank), 2 C_in, 3 C_out, 4 Cg_in, 5 Cg_out, 6 in_plane,
//         7 out_plane, 8 klen (taps), 9 kw, 10 nmult, 11 mult_off, 12 w_off, 13 input zp,
//         14 output zp, 15 clamp_min, 16 clamp_max, 17 chunks per output, 18 chunk length L
//         (a multiple of 4), 19 first output of the batch, 20 batch outputs,
//         21 + 6d: in_dim, out_dim, kernel, stride, dilation, pad_begin of spatial axis d
// data:   folded bias [C_out] (bias − zp·Σw, as dense.wgsl), multipliers at mult_off, weights at
//         w_off: per output channel kw words packing the reduction in tap-major order
//         (t · Cg_in + ci), zero-padded. Taps outside the input read the zero point, which the
//         folded bias cancels: they contribute 0, as the spec's skipped taps.

// The accumulator of output i over the reduction indices [r0, r1) (r = t · Cg_in + ci, tap-major;
// r0 a multiple of 4, r1 a multiple of 4 or the end), without the bias.
fn accumulate(i: u32, r0: u32, r1: u32) -> i32 {
    let s = p_u32(1u);
    let cin = p_u32(2u);
    let cout = p_u32(3u);
    let cin_g = p_u32(4u);
    let cout_g = p_u32(5u);
    let in_plane = p_u32(6u);
    let out_plane = p_u32(7u);
    let kw = p_u32(9u);
    let zp = p_i32(13u);
    let o = i % out_plane;
    let co = (i / out_plane) % cout;
    let n = i / (out_plane * cout);
    let g = co / cout_g;
    var opos: array<i32, 8>;
    var rem = o;
    for (var d = s; d > 0u; d--) {
        let od = p_u32(21u + 6u * (d - 1u) + 1u);
        opos[d - 1u] = i32(rem % od);
        rem = rem / od;
    }
    var acc = 0;
    var xv = vec4<i32>(0, 0, 0, 0);
    var lane = 0u;
    var wi = p_u32(12u) + co * kw + r0 / 4u;
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
            let b = 21u + 6u * (d - 1u);
            let h = p_u32(b);
            let kd = rt % p_u32(b + 2u);
            rt = rt / p_u32(b + 2u);
            let pos = opos[d - 1u] * p_i32(b + 3u) - p_i32(b + 5u) + i32(kd) * p_i32(b + 4u);
            if (pos < 0 || pos >= i32(h)) {
                inside = false;
            } else {
                off += u32(pos) * st;
            }
            st = st * h;
        }
        for (var ci = ci0; ci < ci1; ci++) {
            var x = zp;
            if (inside) {
                x = in0_i32(xbase + ci * in_plane + off);
            }
            xv[lane] = x;
            lane++;
            if (lane == 4u) {
                acc += dot4_wx(data[wi], xv);
                wi++;
                lane = 0u;
            }
        }
        r += ci1 - ci0;
    }
    if (lane > 0u) {
        // only at the end of the reduction: the padded weight lanes are 0, so the stale lanes of
        // xv contribute nothing
        acc += dot4_wx(data[wi], xv);
    }
    return acc;
}

fn write_out(i: u32, acc: i32) {
    let co = (i / p_u32(7u)) % p_u32(3u);
    write_i32(i, epilogue_at(acc + data_i32(co), co, p_u32(10u), p_u32(11u), p_i32(14u), p_i32(15u), p_i32(16u)));
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
    let chunks = p_u32(17u);
    if (t >= p_u32(20u) * chunks) {
        return;
    }
    let len = p_u32(18u);
    let r0 = (t % chunks) * len;
    scratch[t] = bitcast<u32>(accumulate(p_u32(19u) + t / chunks, r0, min(r0 + len, p_u32(8u) * p_u32(4u))));
}

@compute @workgroup_size(64)
fn combine(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_index(gid, nwg);
    if (t >= p_u32(20u)) {
        return;
    }
    let chunks = p_u32(17u);
    // i32 sums wrap, exactly: the true accumulator fits in i32
    var acc = 0;
    for (var c = 0u; c < chunks; c++) {
        acc += bitcast<i32>(scratch[t * chunks + c]);
    }
    write_out(p_u32(19u) + t, acc);
}
