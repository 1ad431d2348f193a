// lut.wgsl — Lut: out = table[c][in + 128], c the index along the table axis
// (docs/spec.md#op-lut).
//
// params: 0 total, 1 dim (tables; 1 without an axis), 2 inner (elements per step of the axis)
// data:   256 · dim entries, one i32 each

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    let c = (i / p_u32(2u)) % p_u32(1u);
    out_buf[i] = data[256u * c + u32(in0_i32(i) + 128)];
}
