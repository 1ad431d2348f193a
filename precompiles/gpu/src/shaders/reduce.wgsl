// reduce.wgsl — Reduce Sum / Mean / Max / Min over a set of axes (docs/spec.md#op-reduce).
// One thread per output element walks its reduced elements.
//
// params: 0 total (outputs), 1 kind (0 Sum, 1 Mean, 2 Max, 3 Min), 2 input zp, 3 multiplier,
//         4 shift, 5 output zp, 6 count (reduced elements per output), 7 rank,
//         8 + 3d: dim, reduced (0/1), stride of input axis d

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    let kind = p_u32(1u);
    let zp = p_i32(2u);
    let count = p_u32(6u);
    let rank = p_u32(7u);
    // the kept coordinates of output i
    var rem = i;
    var base = 0u;
    for (var d = rank; d > 0u; d--) {
        let b = 8u + 3u * (d - 1u);
        if (p_u32(b + 1u) == 0u) {
            let n = p_u32(b);
            base += (rem % n) * p_u32(b + 2u);
            rem = rem / n;
        }
    }
    var sum = 0;
    var mx = -2147483647;
    var mn = 2147483647;
    for (var r = 0u; r < count; r++) {
        var rr = r;
        var off = base;
        for (var d = rank; d > 0u; d--) {
            let b = 8u + 3u * (d - 1u);
            if (p_u32(b + 1u) == 1u) {
                let n = p_u32(b);
                off += (rr % n) * p_u32(b + 2u);
                rr = rr / n;
            }
        }
        let v = in0_i32(off) - zp;
        sum += v;
        mx = max(mx, v);
        mn = min(mn, v);
    }
    var v = sum;
    if (kind == 1u) {
        v = div_round_half_away_i32(sum, i32(count));
    } else if (kind == 2u) {
        v = mx;
    } else if (kind == 3u) {
        v = mn;
    }
    write_i32(i, requantize_clamp(v, p_i32(3u), p_i32(4u), p_i32(5u), -128, 127));
}
