// dense.wgsl — Dense (docs/spec.md#op-dense): y[r, j] = epilogue(bias[j] + Σ_k w[j,k]·(x[r,k] − zp), j).
//
// params: 0 threads (= ⌈rows/4⌉·N), 1 K, 2 N, 3 kw (= ⌈K/4⌉), 4 nmult, 5 mult_off, 6 w_off,
//         7 output zero point, 8 clamp_min, 9 clamp_max, 10 rows, 11 chunks, 12 chunk words,
//         13 partials' offset in scratch
// data:   [0, N) folded bias  bias[j] − zp·Σ_k w[j,k]  (so raw int8 codes feed the dot products;
//         exact: the true accumulator fits in i32 and i32 arithmetic wraps),
//         multipliers at mult_off, weights at w_off packed four int8 lanes to a word and
//         stored column-major: word c of output j at w_off + c·N + j (neighbouring threads read
//         neighbouring words), zero-padded past K.
// scratch: the input packed four int8 codes to a word, row r at r·kw (zero-padded past K),
//         written by `pack` (one thread per word) before `main` runs.
// `main`: one thread computes column j for 4 consecutive rows (each weight word feeds 4 dot
// products) with dot4_ww (dot4I8Packed, or the exact fallback), when kw ≤ 1,024 words
// (K ≤ 4,096). Longer rows in chunks of params[12] ≥ 1,024 words (ops/dense.rs: at most
// max(1,024, 2·√kw) words and as many chunks), as lavapipe ends an invocation's loops after
// about 65,535 iterations in all:
//   partial: one thread per (thread of main, chunk): its 4 partial dot products
//            → scratch[params[13] + 4t..]
//   combine: one thread per thread of main: sums its partials (i32 wrapping sums are exact: the
//            true accumulator fits in i32), adds the bias, writes the 4 outputs.

@compute @workgroup_size(64)
fn pack(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    let k = p_u32(1u);
    let kw = p_u32(3u);
    if (i >= p_u32(10u) * kw) {
        return;
    }
    let r = i / kw;
    let k0 = 4u * (i % kw);
    var w = 0u;
    for (var t = 0u; t < 4u; t++) {
        if (k0 + t < k) {
            w = w | ((in0[r * k + k0 + t] & 0xffu) << (8u * t));
        }
    }
    scratch[i] = w;
}

// The 4 rows' dot products of thread i (column j, rows r0‥r0+3) over packed words [c0, c1).
fn accumulate(i: u32, c0: u32, c1: u32) -> vec4<i32> {
    let n = p_u32(2u);
    let kw = p_u32(3u);
    let rows = p_u32(10u);
    let j = i % n;
    let r0 = (i / n) * 4u;
    // rows past the end re-read the last row (their results are not written)
    let last = rows - 1u;
    let x0 = min(r0, last) * kw;
    let x1 = min(r0 + 1u, last) * kw;
    let x2 = min(r0 + 2u, last) * kw;
    let x3 = min(r0 + 3u, last) * kw;
    var a = vec4<i32>(0, 0, 0, 0);
    let w_off = p_u32(6u);
    for (var c = c0; c < c1; c++) {
        let w = data[w_off + c * n + j];
        a.x += dot4_ww(w, scratch[x0 + c]);
        a.y += dot4_ww(w, scratch[x1 + c]);
        a.z += dot4_ww(w, scratch[x2 + c]);
        a.w += dot4_ww(w, scratch[x3 + c]);
    }
    return a;
}

// Thread i's 4 outputs from their accumulators (without the bias).
fn write_rows(i: u32, acc: vec4<i32>) {
    let n = p_u32(2u);
    let rows = p_u32(10u);
    let j = i % n;
    let r0 = (i / n) * 4u;
    let a = acc + vec4<i32>(data_i32(j));
    let nm = p_u32(4u);
    let mo = p_u32(5u);
    let zp = p_i32(7u);
    let lo = p_i32(8u);
    let hi = p_i32(9u);
    write_i32(r0 * n + j, epilogue_at(a.x, j, nm, mo, zp, lo, hi));
    if (r0 + 1u < rows) {
        write_i32((r0 + 1u) * n + j, epilogue_at(a.y, j, nm, mo, zp, lo, hi));
    }
    if (r0 + 2u < rows) {
        write_i32((r0 + 2u) * n + j, epilogue_at(a.z, j, nm, mo, zp, lo, hi));
    }
    if (r0 + 3u < rows) {
        write_i32((r0 + 3u) * n + j, epilogue_at(a.w, j, nm, mo, zp, lo, hi));
    }
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    write_rows(i, accumulate(i, 0u, p_u32(3u)));
}

@compute @workgroup_size(64)
fn partial(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_index(gid, nwg);
    let chunks = p_u32(11u);
    if (t >= p_u32(0u) * chunks) {
        return;
    }
    let c0 = (t % chunks) * p_u32(12u);
    let a = accumulate(t / chunks, c0, min(c0 + p_u32(12u), p_u32(3u)));
    let at = p_u32(13u) + 4u * t;
    scratch[at] = bitcast<u32>(a.x);
    scratch[at + 1u] = bitcast<u32>(a.y);
    scratch[at + 2u] = bitcast<u32>(a.z);
    scratch[at + 3u] = bitcast<u32>(a.w);
}

@compute @workgroup_size(64)
fn combine(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    let chunks = p_u32(11u);
    var a = vec4<i32>(0, 0, 0, 0);
    for (var c = 0u; c < chunks; c++) {
        let at = p_u32(13u) + 4u * (i * chunks + c);
        a += vec4<i32>(bitcast<i32>(scratch[at]), bitcast<i32>(scratch[at + 1u]), bitcast<i32>(scratch[at + 2u]), bitcast<i32>(scratch[at + 3u]));
    }
    write_rows(i, a);
}
