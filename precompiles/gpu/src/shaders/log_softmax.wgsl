// log_softmax.wgsl — LogSoftmax along an axis (docs/spec.md#op-logsoftmax):
// S = Σ exp_table[m − q_j] (≤ 2^30), k = ⌊log2 S⌋, L = (k − 16)·LN2_Q16 +
// ln_table[(S >> (k − 8)) − 256], out_j = clamp(requantize((q_j − m)·scale_q16 − L) + zp).
// `lane`: one thread per lane (three walks of it), for lanes of at most 4,096. Longer lanes
// (≤ 2^14) in three passes, as softmax.wgsl, so that no invocation loops more than `dim` times
// (lavapipe ends an invocation's loops after about 65,535 iterations in all; three walks of a
// 2^14 lane came within a quarter of it):
//   lane_max: one thread per lane, m = max_j q_j                         → scratch[2l]
//   lane_ln:  one thread per lane, S = Σ_j exp_table[m − q_j], then L    → scratch[2l + 1]
//   main:     one thread per element.
//
// params: 0 lanes, 1 dim, 2 inner, 3 input_scale_q16, 4 multiplier, 5 shift, 6 output zp,
//         7 elements
// data:   exp_table [256] then ln_table [256]

const LN2_Q16: i32 = 45426;

fn lane_base(l: u32) -> u32 {
    let dim = p_u32(1u);
    let inner = p_u32(2u);
    return (l / inner) * dim * inner + l % inner;
}

// L of a lane from its S.
fn log_sum(sum: u32) -> i32 {
    let k = 31 - i32(countLeadingZeros(sum));
    let idx = (sum >> u32(k - 8)) - 256u;
    return (k - 16) * LN2_Q16 + data_i32(256u + idx);
}

fn log_softmax(x: i32, m: i32, lnv: i32) -> i32 {
    return requantize_clamp((x - m) * p_i32(3u) - lnv, p_i32(4u), p_i32(5u), p_i32(6u), -128, 127);
}

@compute @workgroup_size(64)
fn lane(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let l = thread_index(gid, nwg);
    if (l >= p_u32(0u)) {
        return;
    }
    let dim = p_u32(1u);
    let inner = p_u32(2u);
    let base = lane_base(l);
    var m = -128;
    for (var j = 0u; j < dim; j++) {
        m = max(m, in0_i32(base + j * inner));
    }
    var sum = 0u;
    for (var j = 0u; j < dim; j++) {
        sum += data[u32(m - in0_i32(base + j * inner))];
    }
    let lnv = log_sum(sum);
    for (var j = 0u; j < dim; j++) {
        write_i32(base + j * inner, log_softmax(in0_i32(base + j * inner), m, lnv));
    }
}

@compute @workgroup_size(64)
fn lane_max(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let l = thread_index(gid, nwg);
    if (l >= p_u32(0u)) {
        return;
    }
    let dim = p_u32(1u);
    let inner = p_u32(2u);
    let base = lane_base(l);
    var m = -128;
    for (var j = 0u; j < dim; j++) {
        m = max(m, in0_i32(base + j * inner));
    }
    scratch[2u * l] = bitcast<u32>(m);
}

@compute @workgroup_size(64)
fn lane_ln(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let l = thread_index(gid, nwg);
    if (l >= p_u32(0u)) {
        return;
    }
    let dim = p_u32(1u);
    let inner = p_u32(2u);
    let base = lane_base(l);
    let m = bitcast<i32>(scratch[2u * l]);
    var sum = 0u;
    for (var j = 0u; j < dim; j++) {
        sum += data[u32(m - in0_i32(base + j * inner))];
    }
    scratch[2u * l + 1u] = bitcast<u32>(log_sum(sum));
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(7u)) {
        return;
    }
    let dim = p_u32(1u);
    let inner = p_u32(2u);
    let l = (i / (dim * inner)) * inner + i % inner;
    let m = bitcast<i32>(scratch[2u * l]);
    let lnv = bitcast<i32>(scratch[2u * l + 1u]);
    write_i32(i, log_softmax(in0_i32(i), m, lnv));
}
