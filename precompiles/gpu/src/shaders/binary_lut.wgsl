// binary_lut.wgsl — BinaryLut: out = table[(a + 128)·256 + (b + 128)] with broadcasting
// (docs/spec.md#op-binarylut).
//
// params: 0 total, 1 broadcast block
// data:   the 65536-entry table, one i32 per entry

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    let offs = broadcast_offsets(i, 1u);
    let a = u32(in0_i32(offs.x) + 128);
    let b = u32(in1_i32(offs.y) + 128);
    out_buf[i] = data[a * 256u + b];
}
