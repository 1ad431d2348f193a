// conv_transpose.wgsl — N-d ConvTranspose (docs/spec.md#op-convtranspose), gather form: one
// thread per output element [n, co, o…] sums the input positions whose taps land on it.
//
// params: 0 total, 1 s, 2 C_in, 3 C_out, 4 Cg_in, 5 Cg_out, 6 in_plane, 7 out_plane, 8 klen,
//         9 nmult, 10 mult_off, 11 w_off, 12 input zp, 13 output zp, 14 clamp_min, 15 clamp_max,
//         16 + 6d: in_dim, out_dim, kernel, stride, dilation, pad_begin of spatial axis d
// data:   bias [C_out], multipliers at mult_off, weights at w_off (one i32 per weight,
//         [C_out, Cg_in, taps] as in the model).

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
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
        let od = p_u32(16u + 6u * (d - 1u) + 1u);
        opos[d - 1u] = i32(rem % od);
        rem = rem / od;
    }
    var acc = data_i32(co);
    let xbase = (n * cin + g * cin_g) * in_plane;
    for (var t = 0u; t < klen; t++) {
        var rt = t;
        var off = 0u;
        var inside = true;
        var st = 1u;
        for (var d = s; d > 0u; d--) {
            let b = 16u + 6u * (d - 1u);
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
            for (var ci = 0u; ci < cin_g; ci++) {
                let w = data_i32(w_off + (co * cin_g + ci) * klen + t);
                acc += w * (in0_i32(xbase + ci * in_plane + off) - zp);
            }
        }
    }
    write_i32(i, epilogue_at(acc, co, p_u32(9u), p_u32(10u), p_i32(13u), p_i32(14u), p_i32(15u)));
}
