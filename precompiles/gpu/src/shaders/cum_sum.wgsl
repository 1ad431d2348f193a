// cum_sum.wgsl — CumSum along an axis (docs/spec.md#op-cumsum). One thread per lane:
// r_j = Σ_{i ∈ prefix(j)} (q_i − zp_in) (i ≤ j, or i < j when exclusive; mirrored when
// reverse), out_j = clamp(requantize(r_j, M) + zp_out). |r_j| ≤ 255 · dim fits in i32
// (validation bounds dim).
//
// params: 0 lanes (outer·inner), 1 dim, 2 inner, 3 exclusive, 4 reverse, 5 input zp,
//         6 multiplier, 7 shift, 8 output zp

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let l = thread_index(gid, nwg);
    if (l >= p_u32(0u)) {
        return;
    }
    let dim = p_u32(1u);
    let inner = p_u32(2u);
    let exclusive = p_u32(3u) == 1u;
    let reverse = p_u32(4u) == 1u;
    let zp = p_i32(5u);
    let base = (l / inner) * dim * inner + l % inner;
    var sum = 0;
    for (var k = 0u; k < dim; k++) {
        var j = k;
        if (reverse) {
            j = dim - 1u - k;
        }
        let at = base + j * inner;
        let v = in0_i32(at) - zp;
        if (!exclusive) {
            sum += v;
        }
        write_i32(at, requantize_clamp(sum, p_i32(6u), p_i32(7u), p_i32(8u), -128, 127));
        if (exclusive) {
            sum += v;
        }
    }
}
