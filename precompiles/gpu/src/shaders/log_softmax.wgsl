// log_softmax.wgsl — LogSoftmax along an axis (docs/spec.md#op-logsoftmax). One thread per
// lane: S = Σ exp_table[m − q_j] (≤ 2^30), k = ⌊log2 S⌋, L = (k − 16)·LN2_Q16 +
// ln_table[(S >> (k − 8)) − 256], out_j = clamp(requantize((q_j − m)·scale_q16 − L) + zp).
//
// params: 0 lanes, 1 dim, 2 inner, 3 input_scale_q16, 4 multiplier, 5 shift, 6 output zp
// data:   exp_table [256] then ln_table [256]

const LN2_Q16: i32 = 45426;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let l = thread_index(gid, nwg);
    if (l >= p_u32(0u)) {
        return;
    }
    let dim = p_u32(1u);
    let inner = p_u32(2u);
    let base = (l / inner) * dim * inner + l % inner;
    var m = -128;
    for (var j = 0u; j < dim; j++) {
        m = max(m, in0_i32(base + j * inner));
    }
    var sum = 0u;
    for (var j = 0u; j < dim; j++) {
        sum += data[u32(m - in0_i32(base + j * inner))];
    }
    let k = 31 - i32(countLeadingZeros(sum));
    let idx = (sum >> u32(k - 8)) - 256u;
    let lnv = (k - 16) * LN2_Q16 + data_i32(256u + idx);
    let scale = p_i32(3u);
    for (var j = 0u; j < dim; j++) {
        let v = (in0_i32(base + j * inner) - m) * scale - lnv;
        write_i32(base + j * inner, requantize_clamp(v, p_i32(4u), p_i32(5u), p_i32(6u), -128, 127));
    }
}
