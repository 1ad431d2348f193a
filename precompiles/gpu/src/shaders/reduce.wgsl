// reduce.wgsl — Reduce Sum / Mean / Max / Min over a set of axes (docs/spec.md#op-reduce).
// `main`: one thread per output element walks its reduced elements (count ≤ 1,024).
// Longer reductions (count ≤ 8,421,504: the sum fits in i32) run in two passes so that no
// invocation walks more than 1,024 elements (lavapipe ends an invocation's loops after about
// 65,535 iterations in all; each element costs 1 + rank ≤ 9 of them):
//   partial: one thread per (output, chunk of 1,024 reduced elements) → scratch[o·chunks + c]
//   combine: one thread per output folds its ≤ 8,225 partials (sums exact), then requantizes.
//
// params: 0 total (outputs), 1 kind (0 Sum, 1 Mean, 2 Max, 3 Min), 2 input zp, 3 multiplier,
//         4 shift, 5 output zp, 6 count (reduced elements per output), 7 rank, 8 chunks,
//         9 chunk length, 10 + 3d: dim, reduced (0/1), stride of input axis d

// The input offset of the first reduced element of output i.
fn out_base(i: u32) -> u32 {
    let rank = p_u32(7u);
    var rem = i;
    var base = 0u;
    for (var d = rank; d > 0u; d--) {
        let b = 10u + 3u * (d - 1u);
        if (p_u32(b + 1u) == 0u) {
            let n = p_u32(b);
            base += (rem % n) * p_u32(b + 2u);
            rem = rem / n;
        }
    }
    return base;
}

// Sum, max and min of (x − zp) over reduced elements [start, end) of the output at `base`.
fn walk(base: u32, start: u32, end: u32) -> vec3<i32> {
    let rank = p_u32(7u);
    let zp = p_i32(2u);
    var sum = 0;
    var mx = -2147483647;
    var mn = 2147483647;
    for (var r = start; r < end; r++) {
        var rr = r;
        var off = base;
        for (var d = rank; d > 0u; d--) {
            let b = 10u + 3u * (d - 1u);
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
    return vec3<i32>(sum, mx, mn);
}

// The value of `kind` from (sum, max, min), requantized, written to output i.
fn finish(i: u32, acc: vec3<i32>) {
    let kind = p_u32(1u);
    var v = acc.x;
    if (kind == 1u) {
        v = div_round_half_away_i32(acc.x, i32(p_u32(6u)));
    } else if (kind == 2u) {
        v = acc.y;
    } else if (kind == 3u) {
        v = acc.z;
    }
    write_i32(i, requantize_clamp(v, p_i32(3u), p_i32(4u), p_i32(5u), -128, 127));
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    finish(i, walk(out_base(i), 0u, p_u32(6u)));
}

@compute @workgroup_size(64)
fn partial(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_index(gid, nwg);
    let chunks = p_u32(8u);
    if (t >= p_u32(0u) * chunks) {
        return;
    }
    let i = t / chunks;
    let c = t % chunks;
    let len = p_u32(9u);
    let start = c * len;
    let acc = walk(out_base(i), start, min(start + len, p_u32(6u)));
    // the one the kind needs: the sum (Sum, Mean), the max or the min
    let kind = p_u32(1u);
    var v = acc.x;
    if (kind == 2u) {
        v = acc.y;
    } else if (kind == 3u) {
        v = acc.z;
    }
    scratch[t] = bitcast<u32>(v);
}

@compute @workgroup_size(64)
fn combine(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    let chunks = p_u32(8u);
    var sum = 0;
    var mx = -2147483647;
    var mn = 2147483647;
    for (var c = 0u; c < chunks; c++) {
        let v = bitcast<i32>(scratch[i * chunks + c]);
        sum += v;
        mx = max(mx, v);
        mn = min(mn, v);
    }
    finish(i, vec3<i32>(sum, mx, mn));
}
