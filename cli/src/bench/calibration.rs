//! `solidml bench --gas`: the calibration of the precompile's gas schedule
//! (`solidml_precompile::gas`, docs/precompile.md §Gas schedule).
//!
//! For each [`WorkClass`], one-node models of the shapes that are slowest per work unit for the
//! executors (a matrix–vector Dense, a depthwise and a three-channel convolution, pooling
//! windows of every size, reductions over a middle axis, concatenations of one-element chunks,
//! and reference-class ops) are timed on the JIT and on the CPU reference, single-threaded. Per
//! shape it prints the work units and the gas per second of CPU time each schedule charges:
//!
//! ```text
//! Mgas/s = work_gas(schedule, units) / median µs
//! ```
//!
//! the default schedule (version 2) at the JIT's speed, the reference schedule (version 1) at
//! the reference executor's. A class's cost is right when its slowest shape stays at or above
//! the ~60 Mgas/s at which clients execute ordinary EVM code.

use miette::Result;
use solidml_cpu::CpuBackend;
use solidml_exec::{Executor, Value};
use solidml_precompile::{
    GasSchedule,
    gas::{Work, WorkClass},
};
use solidml_spec::{
    Binary, BinaryKind, Conv, DType, Dense, Epilogue, Lut, MatMul, Model, Node, Op, Pool, Quant, Reduce, ReduceKind, Softmax, TensorInfo,
    View, arith::Multiplier,
};

use super::{prepared, time};

/// The rate below which a schedule under-prices a node's time (ordinary EVM execution).
const FLOOR_MGAS_PER_S: f64 = 60.0;

/// One calibration shape: a name and its one-node model.
struct Shape {
    name: String,
    model: Model,
}

fn xorshift(s: &mut u64) -> i8 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    (*s >> 24) as i8
}

fn codes(n: usize, seed: u64) -> Vec<i8> {
    let mut s = seed | 1;
    (0..n).map(|_| xorshift(&mut s)).collect()
}

/// A model of one node `op` from inputs of `ins` shapes to an output of shape `out`.
fn one_node(name: &str, op: Op, ins: &[Vec<u32>], out: Vec<u32>) -> Shape {
    let q = Some(Quant { scale: 0.05, zero_point: 0 });
    let mut model = Model::empty(name);
    for (i, s) in ins.iter().enumerate() {
        model.tensors.push(TensorInfo { name: format!("x{i}"), shape: s.clone(), dtype: DType::I8, quant: q });
        model.inputs.push(i as u32);
    }
    let y = ins.len() as u32;
    model.tensors.push(TensorInfo { name: "y".into(), shape: out, dtype: DType::I8, quant: q });
    model.outputs.push(y);
    model.nodes.push(Node { name: name.into(), op, inputs: (0..y).collect(), outputs: vec![y] });
    Shape { name: name.into(), model }
}

fn epilogue(k: usize) -> Epilogue {
    Epilogue { multipliers: vec![Multiplier::from_real(1.0 / (k as f64 * 64.0))], output_zero_point: 0, clamp_min: -128, clamp_max: 127 }
}

/// Weights small enough that `Σ|w|·255` fits the accumulator for reductions of length `k`.
fn weights(n: usize, k: usize, seed: u64) -> Vec<i8> {
    let bound = (i32::MAX as usize / 255 / k.max(1)).clamp(1, 127) as i32;
    codes(n, seed).into_iter().map(|w| (w as i32 % (bound + 1)) as i8).collect()
}

/// `[1, cin, h, w]` convolved to `cout` channels by a square `k × k` kernel.
fn conv(name: &str, (cin, h, w): (u32, u32, u32), cout: u32, k: u32, stride: u32, groups: u32) -> Shape {
    let pad = k / 2;
    let o = |n: u32| (n + 2 * pad - k) / stride + 1;
    let klen = (cin / groups * k * k) as usize;
    let c = Conv {
        kernel: vec![k, k],
        strides: vec![stride, stride],
        dilations: vec![1, 1],
        pads_begin: vec![pad, pad],
        pads_end: vec![pad, pad],
        groups,
        input_zero_point: 3,
        weights: weights(cout as usize * klen, klen, 7),
        bias: vec![100; cout as usize],
        epilogue: epilogue(klen),
    };
    one_node(name, Op::Conv(c), &[vec![1, cin, h, w]], vec![1, cout, o(h), o(w)])
}

fn dense(name: &str, rows: u32, k: u32, n: u32) -> Shape {
    let d = Dense {
        in_features: k,
        out_features: n,
        input_zero_point: 3,
        weights: weights((n * k) as usize, k as usize, 11),
        bias: vec![-5; n as usize],
        epilogue: epilogue(k as usize),
    };
    one_node(name, Op::Dense(d), &[vec![rows, k]], vec![rows, n])
}

/// A `k × k` pool with stride `stride` (padding `pad`) over `[1, c, h, w]`.
fn pool(name: &str, max: bool, (c, h, w): (u32, u32, u32), k: u32, stride: u32, pad: u32) -> Shape {
    let o = |n: u32| (n + 2 * pad - k) / stride + 1;
    let p = Pool {
        kernel: vec![k, k],
        strides: vec![stride, stride],
        dilations: vec![1, 1],
        pads_begin: vec![pad, pad],
        pads_end: vec![pad, pad],
        count_include_pad: false,
        zero_point: 0,
    };
    let op = if max { Op::MaxPool(p) } else { Op::AvgPool(p) };
    one_node(name, op, &[vec![1, c, h, w]], vec![1, c, o(h), o(w)])
}

fn lut(name: &str, shape: Vec<u32>, per_channel: bool) -> Shape {
    let tables = if per_channel { shape[1] as usize } else { 1 };
    let op = Op::Lut(Lut { axis: per_channel.then_some(1), tables: codes(256 * tables, 13) });
    one_node(name, op, std::slice::from_ref(&shape), shape.clone())
}

fn reduce(name: &str, shape: Vec<u32>, axes: Vec<u32>) -> Shape {
    let mut out = shape.clone();
    for &a in &axes {
        out[a as usize] = 1;
    }
    let count: usize = axes.iter().map(|&a| shape[a as usize] as usize).product();
    let r = Reduce {
        kind: ReduceKind::Sum,
        axes,
        input_zero_point: 0,
        multiplier: Multiplier::from_real(1.0 / count as f64),
        output_zero_point: 0,
    };
    one_node(name, Op::Reduce(r), &[shape], out)
}

fn concat(name: &str, part: Vec<u32>, axis: u32) -> Shape {
    let mut out = part.clone();
    out[axis as usize] *= 2;
    one_node(name, Op::Concat { axis }, &[part.clone(), part], out)
}

fn add(name: &str, shape: Vec<u32>, b_shape: Vec<u32>) -> Shape {
    let b = Binary {
        kind: BinaryKind::Add,
        a_zero_point: 0,
        b_zero_point: 0,
        left_shift: 20,
        a_multiplier: Multiplier::from_real(0.5),
        b_multiplier: Multiplier::from_real(0.5),
        output_multiplier: Multiplier::from_real(1.0 / (1 << 19) as f64),
        output_zero_point: 0,
        clamp_min: -128,
        clamp_max: 127,
    };
    one_node(name, Op::Binary(b), &[shape.clone(), b_shape], shape)
}

fn mul(name: &str, shape: Vec<u32>) -> Shape {
    let b = Binary {
        kind: BinaryKind::Mul,
        a_zero_point: 0,
        b_zero_point: 0,
        left_shift: 0,
        a_multiplier: Multiplier::from_real(0.0),
        b_multiplier: Multiplier::from_real(0.0),
        output_multiplier: Multiplier::from_real(1.0 / 128.0),
        output_zero_point: 0,
        clamp_min: -128,
        clamp_max: 127,
    };
    one_node(name, Op::Binary(b), &[shape.clone(), shape.clone()], shape)
}

fn matmul(name: &str, m: u32, k: u32, n: u32) -> Shape {
    let op = Op::MatMul(MatMul {
        a_zero_point: 0,
        b_zero_point: 0,
        multiplier: Multiplier::from_real(1.0 / (k as f64 * 64.0)),
        output_zero_point: 0,
    });
    one_node(name, op, &[vec![m, k], vec![k, n]], vec![m, n])
}

/// A transpose of the two last axes of `[c, h, w]`.
fn transpose(name: &str, (c, h, w): (u32, u32, u32)) -> Shape {
    let op = Op::View(View { offset: 0, strides: vec![(h * w) as i64, 1, w as i64] });
    one_node(name, op, &[vec![c, h, w]], vec![c, w, h])
}

fn softmax(name: &str, rows: u32, lanes: u32) -> Shape {
    let exp_table = (0..256).map(|d| ((-(d as f64) * 0.05).exp() * 65536.0).round() as u32).collect();
    let op = Op::Softmax(Softmax { axis: 1, exp_table });
    let mut s = one_node(name, op, &[vec![rows, lanes]], vec![rows, lanes]);
    s.model.tensors[1].quant = Some(Quant { scale: 1.0 / 256.0, zero_point: -128 });
    s
}

/// `count` Lut nodes in a chain over `[1, 16]`: the fixed cost of a node.
fn lut_chain(name: &str, count: u32) -> Shape {
    let mut s = lut(name, vec![1, 16], false);
    let q = s.model.tensors[0].quant;
    for i in 1..count {
        let (x, y) = (s.model.tensors.len() as u32 - 1, s.model.tensors.len() as u32);
        s.model.tensors.push(TensorInfo { name: format!("y{i}"), shape: vec![1, 16], dtype: DType::I8, quant: q });
        let op = Op::Lut(Lut { axis: None, tables: codes(256, 19 + i as u64) });
        s.model.nodes.push(Node { name: format!("lut{i}"), op, inputs: vec![x], outputs: vec![y] });
        s.model.outputs = vec![y];
    }
    s
}

/// The calibration shapes, by class.
fn shapes() -> Vec<Shape> {
    vec![
        conv("conv 3x3 64>64 56x56", (64, 56, 56), 64, 3, 1, 1),
        conv("conv 7x7/2 3>64 224x224", (3, 224, 224), 64, 7, 2, 1),
        conv("conv 1x1 16>64 56x56", (16, 56, 56), 64, 1, 1, 1),
        conv("conv 1x1 64>8 56x56", (64, 56, 56), 8, 1, 1, 1),
        conv("depthwise 3x3 128 56x56", (128, 56, 56), 128, 3, 1, 128),
        dense("dense 1x4096>4096", 1, 4096, 4096),
        dense("dense 1x256>10", 1, 256, 10),
        dense("dense 64x1024>1024", 64, 1024, 1024),
        pool("maxpool 3x3/2 64x112x112", true, (64, 112, 112), 3, 2, 0),
        pool("maxpool 2x2/2 64x112x112", true, (64, 112, 112), 2, 2, 0),
        pool("maxpool 3x3/1 64x56x56 pad", true, (64, 56, 56), 3, 1, 1),
        pool("avgpool 7x7 1024x7x7", false, (1024, 7, 7), 7, 1, 0),
        pool("avgpool 3x3/1 64x56x56 pad", false, (64, 56, 56), 3, 1, 1),
        lut("lut 64x112x112", vec![1, 64, 112, 112], false),
        lut("lut per-channel 64x112x112", vec![1, 64, 112, 112], true),
        reduce("reduce hw 256x56x56", vec![1, 256, 56, 56], vec![2, 3]),
        reduce("reduce c 256x56x56", vec![1, 256, 56, 56], vec![1]),
        concat("concat c 2x64x56x56", vec![1, 64, 56, 56], 1),
        concat("concat w 2x256x256x1", vec![1, 256, 256, 1], 3),
        add("add 64x56x56", vec![1, 64, 56, 56], vec![1, 64, 56, 56]),
        add("add bias 64x56x56", vec![1, 64, 56, 56], vec![1, 64, 1, 1]),
        add("add rows 4096x3", vec![4096, 3], vec![4096, 3]),
        mul("mul 64x56x56", vec![1, 64, 56, 56]),
        matmul("matmul 64x256x64", 64, 256, 64),
        transpose("transpose 64x56x56", (64, 56, 56)),
        softmax("softmax 64x1000", 64, 1000),
        lut_chain("256 luts of 16", 256),
    ]
}

fn mgas_per_s(schedule: &GasSchedule, work: &Work, us: f64) -> f64 {
    schedule.work_gas(work) as f64 / us
}

/// Time every calibration shape on the JIT and the reference; print the table.
pub(crate) fn calibrate(iters: usize, only: Option<&str>) -> Result<()> {
    let jit = solidml_backends::jit();
    let (v2, v1) = (GasSchedule::default(), GasSchedule::reference());
    let costs = |s: &GasSchedule| {
        let classes: Vec<String> = WorkClass::ALL.iter().map(|&c| format!("{} {}", c.name(), s.cost(c))).collect();
        format!("{}, elements {}, weights {}; per node {} gas", classes.join(", "), s.element_cost, s.weight_cost, s.node_cost)
    };
    println!("gas calibration, single-threaded; jit: {}", jit.name());
    println!("  default schedule (v2), gas per 1024 units: {}", costs(&v2));
    println!("  reference schedule (v1), gas per 1024 units: {}", costs(&v1));
    println!(
        "{:<10} {:<30} {:>12} {:>10} {:>9} {:>10} {:>10} {:>9} {:>10}",
        "class", "shape", "units", "elements", "v2 gas", "jit µs", "v2 Mgas/s", "cpu µs", "v1 Mgas/s"
    );
    let mut slowest: std::collections::BTreeMap<WorkClass, (f64, String, f64, String)> = Default::default();
    for shape in shapes().into_iter().filter(|s| only.is_none_or(|o| s.name.contains(o))) {
        solidml_spec::validate::validate(&shape.model).map_err(|e| miette::miette!("calibration shape {}: {e}", shape.name))?;
        let model = &shape.model;
        let work = Work::of(model);
        let class = WorkClass::of(&model.nodes[0].op);
        let inputs: Vec<Value> = model.inputs.iter().map(|&i| Value::I8(codes(model.tensor(i).len(), 17 + i as u64))).collect();
        let fast = time(&*prepared(&jit, model)?, &inputs, iters);
        let slow = time(&*prepared(&CpuBackend, model)?, &inputs, iters.min(20));
        let (r2, r1) = (mgas_per_s(&v2, &work, fast), mgas_per_s(&v1, &work, slow));
        println!(
            "{:<10} {:<30} {:>12} {:>10} {:>9} {:>10.1} {:>10.1} {:>9.1} {:>10.1}{}",
            class.name(),
            shape.name,
            work.total(),
            work.elements,
            v2.work_gas(&work),
            fast,
            r2,
            slow,
            r1,
            if r2 < FLOOR_MGAS_PER_S || r1 < FLOOR_MGAS_PER_S { "  < floor" } else { "" }
        );
        let e = slowest.entry(class).or_insert((f64::INFINITY, String::new(), f64::INFINITY, String::new()));
        if r2 < e.0 {
            (e.0, e.1) = (r2, shape.name.clone());
        }
        if r1 < e.2 {
            (e.2, e.3) = (r1, shape.name.clone());
        }
    }
    println!("slowest shape per class (floor {FLOOR_MGAS_PER_S} Mgas/s):");
    for (class, (r2, n2, r1, n1)) in slowest {
        println!("  {:<10} v2 at the jit {r2:>8.1} Mgas/s ({n2}); v1 at the reference {r1:>8.1} Mgas/s ({n1})", class.name());
    }
    Ok(())
}
