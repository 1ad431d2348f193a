// arith_test.wgsl — test-only entry points exposing the arith.wgsl primitives element-wise
// (unit tests in src/tests.rs compare them with solidml_spec::arith). params: 0 count.

@compute @workgroup_size(64)
fn srdhm_test(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) { return; }
    write_i32(i, srdhm(in0_i32(i), in1_i32(i)));
}

// in1[i] = exponent
@compute @workgroup_size(64)
fn rdbpot_test(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) { return; }
    write_i32(i, rdbpot(in0_i32(i), in1[i]));
}

// in1 = (multiplier, shift) pairs
@compute @workgroup_size(64)
fn requantize_test(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) { return; }
    write_i32(i, requantize(in0_i32(i), in1_i32(2u * i), in1_i32(2u * i + 1u)));
}

// in0, in1 = i64 pairs (b > 0); out = div_round_half_away as i64 pairs
@compute @workgroup_size(64)
fn div_test(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) { return; }
    write_i64(i, i64_div_round_half_away(in0_i64(i), in1_i64(i)));
}

// in0 = u64 pairs; out = isqrt
@compute @workgroup_size(64)
fn isqrt_test(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) { return; }
    out_buf[i] = isqrt_u64(in0_i64(i));
}

// in0, in1 = i32; out = (div_round_half_away_i32, sat_add) pairs
@compute @workgroup_size(64)
fn i32_test(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) { return; }
    let a = in0_i32(i);
    let b = in1_i32(i);
    out_buf[2u * i] = bitcast<u32>(div_round_half_away_i32(a, max(b, 1)));
    out_buf[2u * i + 1u] = bitcast<u32>(sat_add(a, b));
}
