// int_lut.wgsl — IntLut: out[i] = table[in[i] + 128], int8 codes to i64 values
// (docs/spec.md#op-intlut).
//
// params: 0 total
// data:   the 256 table entries, i64 as (lo, hi) word pairs

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    let k = u32(in0_i32(i) + 128);
    write_i64(i, vec2<u32>(data[2u * k], data[2u * k + 1u]));
}
