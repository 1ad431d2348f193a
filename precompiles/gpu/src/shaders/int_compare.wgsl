// int_compare.wgsl — IntCompare: two i64 tensors (u32 pairs) with broadcasting compared signed;
// out = true_code where `a kind b` holds, else false_code (docs/spec.md#op-intcompare).
//
// params: 0 total, 1 kind (0 Equal, 1 Less, 2 Greater), 2 true_code, 3 false_code (i32),
//         4 broadcast block

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    let offs = broadcast_offsets(i, 4u);
    let a = in0_i64(offs.x);
    let b = in1_i64(offs.y);
    let kind = p_u32(1u);
    var holds: bool;
    if (kind == 0u) {
        holds = a.x == b.x && a.y == b.y;
    } else if (kind == 1u) {
        holds = i64_lt(a, b);
    } else {
        holds = i64_lt(b, a);
    }
    out_buf[i] = select(p_u32(3u), p_u32(2u), holds);
}
