// binary.wgsl — quantized Add / Sub / Mul with numpy broadcasting (docs/spec.md#op-add).
//
// params: 0 total, 1 kind (0 Add, 1 Sub, 2 Mul), 2 a_zp, 3 b_zp, 4 left_shift,
//         5 a_multiplier, 6 a_shift, 7 b_multiplier, 8 b_shift, 9 out_multiplier, 10 out_shift,
//         11 output zp, 12 clamp_min, 13 clamp_max, 14 broadcast block

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    let offs = broadcast_offsets(i, 14u);
    let xa = in0_i32(offs.x) - p_i32(2u);
    let xb = in1_i32(offs.y) - p_i32(3u);
    let kind = p_u32(1u);
    var acc: i32;
    if (kind == 2u) {
        acc = xa * xb;
    } else {
        let ls = p_u32(4u);
        let a = requantize(xa << ls, p_i32(5u), p_i32(6u));
        let b = requantize(xb << ls, p_i32(7u), p_i32(8u));
        acc = select(a + b, a - b, kind == 1u);
    }
    write_i32(i, requantize_clamp(acc, p_i32(9u), p_i32(10u), p_i32(11u), p_i32(12u), p_i32(13u)));
}
