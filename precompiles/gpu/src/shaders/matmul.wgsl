// matmul.wgsl — MatMul of two run-time int8 tensors (docs/spec.md#op-matmul), batch axes
// broadcast. acc = Σ_k (a − za)(b − zb) = Σab − zb·Σa − za·Σb + K·za·zb, with Σab through
// dot4_vv on raw int8 codes; exact because the true acc fits in i32 and i32 arithmetic wraps.
//
// params: 0 total, 1 M, 2 K, 3 N, 4 za, 5 zb, 6 multiplier, 7 shift, 8 output zp,
//         9 batch broadcast block (rank, batch dims, a's and b's batch strides in matrices)

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    let m = p_u32(1u);
    let k = p_u32(2u);
    let n = p_u32(3u);
    let za = p_i32(4u);
    let zb = p_i32(5u);
    let c = i % n;
    let r = (i / n) % m;
    let b = i / (n * m);
    let offs = broadcast_offsets(b, 9u);
    let ab = offs.x * m * k + r * k;
    let bb = offs.y * k * n + c;
    var sab = 0;
    var sa = 0;
    var sb = 0;
    let full = k / 4u;
    for (var q = 0u; q < full; q++) {
        let kk = 4u * q;
        let av = vec4<i32>(in0_i32(ab + kk), in0_i32(ab + kk + 1u), in0_i32(ab + kk + 2u), in0_i32(ab + kk + 3u));
        let bv = vec4<i32>(in1_i32(bb + kk * n), in1_i32(bb + (kk + 1u) * n), in1_i32(bb + (kk + 2u) * n), in1_i32(bb + (kk + 3u) * n));
        sab += dot4_vv(av, bv);
        sa += av.x + av.y + av.z + av.w;
        sb += bv.x + bv.y + bv.z + bv.w;
    }
    for (var kk = 4u * full; kk < k; kk++) {
        let a = in0_i32(ab + kk);
        let bv = in1_i32(bb + kk * n);
        sab += a * bv;
        sa += a;
        sb += bv;
    }
    let acc = sab - zb * sa - za * sb + i32(k) * za * zb;
    write_i32(i, requantize_clamp(acc, p_i32(6u), p_i32(7u), p_i32(8u), -128, 127));
}
