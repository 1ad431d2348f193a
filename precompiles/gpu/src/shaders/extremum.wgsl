// extremum.wgsl — element-wise Max / Min of two int8 tensors with broadcasting
// (docs/spec.md#op-max).
//
// params: 0 total, 1 is_min, 2 broadcast block

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    let offs = broadcast_offsets(i, 2u);
    let a = in0_i32(offs.x);
    let b = in1_i32(offs.y);
    write_i32(i, select(max(a, b), min(a, b), p_u32(1u) == 1u));
}
