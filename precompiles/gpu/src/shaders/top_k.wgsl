// top_k.wgsl — TopK along an axis (docs/spec.md#op-topk): each lane's elements in the order
// "greater first" (smaller first when not largest), equal values by increasing index; the first
// k of that order, as values (int8 or i64, copied) or as indices (i64).
//
// A bitonic sort of each lane's indices in scratch (ops/top_k.rs): the lane is padded to P, a
// power of two, with indices ≥ dim that sort after every element; then
//   init:     one thread per (lane, slot): scratch[lane · P + s] = s
//   exchange: one thread per (lane, slot), one dispatch per (block, distance) of the network:
//             slot s and its partner s ^ distance swap when out of order for the block's
//             direction (ascending where s & block = 0)
//   main:     one thread per output element: the index in slot r of its lane, or the value there
// No invocation loops (lavapipe ends an invocation's loops after about 65,535 iterations).
//
// params: 0 lanes · P, 1 P, 2 dim, 3 inner, 4 k, 5 largest, 6 words per input element,
//         7 output is values, 8 output length, 9 block, 10 distance

// The value of element j of lane l (lane l = o · inner + i) as a signed 64-bit value.
fn value_at(l: u32, j: u32) -> vec2<u32> {
    let inner = p_u32(3u);
    let at = ((l / inner) * p_u32(2u) + j) * inner + l % inner;
    if (p_u32(6u) == 2u) {
        return in0_i64(at);
    }
    return i64_from_i32(in0_i32(at));
}

// Whether element a comes before element b in lane l (a ≠ b; indices ≥ dim come last).
fn before(l: u32, a: u32, b: u32) -> bool {
    let dim = p_u32(2u);
    if (a >= dim || b >= dim) {
        return a < b;
    }
    let va = value_at(l, a);
    let vb = value_at(l, b);
    let better = select(i64_lt(va, vb), i64_lt(vb, va), p_u32(5u) == 1u);
    let equal = va.x == vb.x && va.y == vb.y;
    return better || (equal && a < b);
}

@compute @workgroup_size(64)
fn init(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_index(gid, nwg);
    if (t >= p_u32(0u)) {
        return;
    }
    scratch[t] = t % p_u32(1u);
}

@compute @workgroup_size(64)
fn exchange(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_index(gid, nwg);
    if (t >= p_u32(0u)) {
        return;
    }
    let big = p_u32(1u);
    let s = t % big;
    let partner = s ^ p_u32(10u);
    if (partner <= s) {
        return;
    }
    let base = t - s;
    let a = scratch[base + s];
    let b = scratch[base + partner];
    let ascending = (s & p_u32(9u)) == 0u;
    let l = t / big;
    if ((ascending && before(l, b, a)) || (!ascending && before(l, a, b))) {
        scratch[base + s] = b;
        scratch[base + partner] = a;
    }
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let p = thread_index(gid, nwg);
    if (p >= p_u32(8u)) {
        return;
    }
    let inner = p_u32(3u);
    let k = p_u32(4u);
    let o = p / (k * inner);
    let i = p % inner;
    let r = (p / inner) % k;
    let l = o * inner + i;
    let j = scratch[l * p_u32(1u) + r];
    if (p_u32(7u) == 0u) {
        write_i64(p, vec2<u32>(j, 0u));
        return;
    }
    let words = p_u32(6u);
    let src = (o * p_u32(2u) + j) * inner + i;
    for (var w = 0u; w < words; w++) {
        out_buf[words * p + w] = in0[words * src + w];
    }
}
