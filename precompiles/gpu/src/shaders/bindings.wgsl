// bindings.wgsl — the binding layout every op shader shares (one bind group layout serves all
// pipelines), and index helpers. Prepended after arith.wgsl.
//
//   0 params   per-dispatch parameters (shapes, zero points, multipliers), u32 words
//   1 out_buf  the output tensor (int8, int16, int32: one i32 per element; i64: two u32
//              words, low first)
//   2 in0      the first input tensor
//   3 in1      the second input tensor (unused slots are bound to a dummy buffer)
//   4 data     per-node constant data: packed weights, biases, multipliers, tables
//   5 status   run-time errors: per fallible node a slot of 4 words
//              [first failing element (atomicMin, 0xffffffff = none), value lo, value hi, 0]
//   6 scratch  per-node intermediate values: statistics and partial results of the kernels that
//              split a long axis over several dispatches (ops/mod.rs, `CHUNK`)

@group(0) @binding(0) var<storage, read> params: array<u32>;
@group(0) @binding(1) var<storage, read_write> out_buf: array<u32>;
@group(0) @binding(2) var<storage, read> in0: array<u32>;
@group(0) @binding(3) var<storage, read> in1: array<u32>;
@group(0) @binding(4) var<storage, read> data: array<u32>;
@group(0) @binding(5) var<storage, read_write> status: array<atomic<u32>>;
@group(0) @binding(6) var<storage, read_write> scratch: array<u32>;

const WG: u32 = 64u;
const NONE: u32 = 0xffffffffu;

// The linear thread index of a 2-D dispatch of 64-thread workgroups (x up to 65535 groups).
fn thread_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * WG;
}

fn p_u32(i: u32) -> u32 {
    return params[i];
}

fn p_i32(i: u32) -> i32 {
    return bitcast<i32>(params[i]);
}

fn in0_i32(i: u32) -> i32 {
    return bitcast<i32>(in0[i]);
}

fn in1_i32(i: u32) -> i32 {
    return bitcast<i32>(in1[i]);
}

fn data_i32(i: u32) -> i32 {
    return bitcast<i32>(data[i]);
}

fn in0_i64(i: u32) -> vec2<u32> {
    return vec2<u32>(in0[2u * i], in0[2u * i + 1u]);
}

fn in1_i64(i: u32) -> vec2<u32> {
    return vec2<u32>(in1[2u * i], in1[2u * i + 1u]);
}

fn write_i32(i: u32, v: i32) {
    out_buf[i] = bitcast<u32>(v);
}

fn write_i64(i: u32, v: vec2<u32>) {
    out_buf[2u * i] = v.x;
    out_buf[2u * i + 1u] = v.y;
}

// Record that element `elem` of fallible node `slot` failed (the smallest index wins, as the
// CPU reports the first failure in order).
fn fail(slot: u32, elem: u32) {
    atomicMin(&status[4u * slot], elem);
}

// The first failing element of `slot`, or NONE.
fn failed_at(slot: u32) -> u32 {
    return atomicLoad(&status[4u * slot]);
}

fn set_fail_value(slot: u32, v: vec2<u32>) {
    atomicStore(&status[4u * slot + 1u], v.x);
    atomicStore(&status[4u * slot + 2u], v.y);
}

// Which failure `slot` records, for kinds with more than one (IntBinary: 1 = division by zero).
fn set_fail_reason(slot: u32, reason: u32) {
    atomicStore(&status[4u * slot + 3u], reason);
}

// Offsets into two broadcast operands for output element `i`. At params[base]: rank, then the
// output dims, then operand a's strides, then operand b's strides (0 on broadcast axes).
fn broadcast_offsets(i: u32, base: u32) -> vec2<u32> {
    let rank = params[base];
    var rem = i;
    var oa = 0u;
    var ob = 0u;
    for (var k = rank; k > 0u; k = k - 1u) {
        let d = params[base + k];
        let c = rem % d;
        rem = rem / d;
        oa = oa + c * params[base + rank + k];
        ob = ob + c * params[base + 2u * rank + k];
    }
    return vec2<u32>(oa, ob);
}

// The requantization epilogue of Conv, ConvTranspose and Dense: multipliers are (multiplier,
// shift) pairs in `data` at `mult_off`, one for all channels (`nmult == 1`) or one per channel.
fn epilogue_at(acc: i32, c: u32, nmult: u32, mult_off: u32, zp: i32, lo: i32, hi: i32) -> i32 {
    let m = select(c, 0u, nmult == 1u);
    return requantize_clamp(acc, data_i32(mult_off + 2u * m), data_i32(mult_off + 2u * m + 1u), zp, lo, hi);
}
