// take.wgsl — Take: out[i] = table[in[i]] for i64 indices (docs/spec.md#op-take); an index
// outside 0..len(table) is a run-time error (first failing element in the status slot).
//
// params: 0 total, 1 table length, 2 status slot
// data:   the table, i64 as (lo, hi) word pairs

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    let x = in0_i64(i);
    if (x.y != 0u || x.x >= p_u32(1u)) {
        fail(p_u32(2u), i);
        write_i64(i, vec2<u32>(0u, 0u));
        return;
    }
    write_i64(i, vec2<u32>(data[2u * x.x], data[2u * x.x + 1u]));
}

@compute @workgroup_size(1)
fn report() {
    let slot = p_u32(2u);
    let e = failed_at(slot);
    if (e != NONE) {
        set_fail_value(slot, in0_i64(e));
    }
}
