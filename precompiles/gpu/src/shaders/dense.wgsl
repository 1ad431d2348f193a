// dense.wgsl — Dense (docs/spec.md#op-dense): y[r, j] = epilogue(bias[j] + Σ_k w[j,k]·(x[r,k] − zp), j).
//
// params: 0 threads (= ⌈rows/4⌉·N), 1 K, 2 N, 3 kw (= ⌈K/4⌉), 4 nmult, 5 mult_off, 6 w_off,
//         7 output zero point, 8 clamp_min, 9 clamp_max, 10 rows
// data:   [0, N) folded bias  bias[j] − zp·Σ_k w[j,k]  (so raw int8 codes feed the dot products;
//         exact: the true accumulator fits in i32 and i32 arithmetic wraps),
//         multipliers at mult_off, weights at w_off packed four int8 lanes to a word and
//         stored column-major: word c of output j at w_off + c·N + j (neighbouring threads read
//         neighbouring words), zero-padded past K.
// scratch: the input packed four int8 codes to a word, row r at r·kw (zero-padded past K),
//         written by `pack` (one thread per word) before `main` runs.
// `main`: one thread computes column j for 4 consecutive rows (each weight word feeds 4 dot
// products) with dot4_ww (dot4I8Packed, or the exact fallback).

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

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
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
    let b = data_i32(j);
    var a0 = b;
    var a1 = b;
    var a2 = b;
    var a3 = b;
    let w_off = p_u32(6u);
    for (var c = 0u; c < kw; c++) {
        let w = data[w_off + c * n + j];
        a0 += dot4_ww(w, scratch[x0 + c]);
        a1 += dot4_ww(w, scratch[x1 + c]);
        a2 += dot4_ww(w, scratch[x2 + c]);
        a3 += dot4_ww(w, scratch[x3 + c]);
    }
    let nm = p_u32(4u);
    let mo = p_u32(5u);
    let zp = p_i32(7u);
    let lo = p_i32(8u);
    let hi = p_i32(9u);
    write_i32(r0 * n + j, epilogue_at(a0, j, nm, mo, zp, lo, hi));
    if (r0 + 1u < rows) {
        write_i32((r0 + 1u) * n + j, epilogue_at(a1, j, nm, mo, zp, lo, hi));
    }
    if (r0 + 2u < rows) {
        write_i32((r0 + 2u) * n + j, epilogue_at(a2, j, nm, mo, zp, lo, hi));
    }
    if (r0 + 3u < rows) {
        write_i32((r0 + 3u) * n + j, epilogue_at(a3, j, nm, mo, zp, lo, hi));
    }
}


