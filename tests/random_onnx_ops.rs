//! Randomized models drawn from the ONNX operators that reach the spec through the compiler's
//! decompositions, tables and index maps rather than a spec op of their own: LayerNormalization,
//! RMSNormalization, GroupNormalization, the comparisons and logic ops with Where, Trilu, Mod,
//! CumSum, ArgMin, the derived reductions (ReduceL1/L2/LogSumExp/SumSquare), the trigonometric
//! and hyperbolic tables, the piecewise activations (Celu, Shrink, ThresholdedRelu, Mish), MatMul
//! of two run-time tensors, Attention, Einsum, GatherElements, ScatterElements, Hardmax and
//! Resize. Each ONNX graph chains 2 to 4 of them on a `[1, C, L]` input; it is compiled with
//! calibration data, then run on random int8 inputs by the CPU reference, the JIT, the GPU
//! executor and the generated pure-Solidity contract in revm: every output must be equal byte
//! for byte (a run-time error must be one everywhere, a revert in the EVM).
//!
//! Needs a GPU adapter (`bash scripts/vulkan-env.sh`) and solc (`bash scripts/forge-env.sh`)
//! unless `SOLIDML_SKIP` lists `gpu` or `forge`.

use std::collections::BTreeMap;
use std::sync::Arc;

use alloy_sol_types::{SolCall, SolValue, sol};
use ndarray::{ArrayD, IxDyn};
use solidml_compiler::CompileOptions;
use solidml_cpu::{CpuBackend, CpuExecutor};
use solidml_exec::PreparedModel;
use solidml_gpu::GpuExecutor;
use solidml_jit::JitBackend;
use solidml_precompile::{SolidMlPrecompile, abi};
use solidml_revm::Chain;
use solidml_spec::Model;
use solidml_tests::{
    Rng,
    onnx_builder::{A, Builder},
    random_spec::random_inputs,
    require_gpu, require_solc,
};

sol! {
    function predictQ(bytes q) returns (bytes);
}

/// Models drawn; at least [`MIN_MODELS`] must compile (the rest are counted by reason).
const DRAWS: u32 = 80;
const MIN_MODELS: usize = 50;
/// Random int8 inputs per model.
const INPUTS: usize = 8;

fn constant(b: &mut Builder, r: &mut Rng, dims: &[i64], scale: f32) -> String {
    let n = dims.iter().product::<i64>() as usize;
    let v = (0..n).map(|_| (r.f32() * 2.0 - 1.0) * scale).collect();
    b.constant(dims, v)
}

/// One op of the pool on `x` of shape `shape` (updated); returns its output and the op's name.
fn step(b: &mut Builder, r: &mut Rng, x: &str, shape: &mut [i64]) -> (String, &'static str) {
    let last = *shape.last().unwrap();
    let (c, l) = (shape[1], shape[2]);
    match r.range(0, 19) {
        0 => {
            let (s, bias) = (constant(b, r, &[last], 1.0), constant(b, r, &[last], 0.5));
            (b.node("LayerNormalization", &[x, &s, &bias], vec![("axis", A::I(-1)), ("epsilon", A::F(1e-3))]), "LayerNormalization")
        }
        1 => {
            let s = constant(b, r, &[last], 1.0);
            (b.node("RMSNormalization", &[x, &s], vec![("axis", A::I(-1)), ("epsilon", A::F(1e-3))]), "RMSNormalization")
        }
        2 => {
            // a band: lo < x < hi, selecting x or a constant tensor
            let (lo, hi) = (constant(b, r, &[1], 0.3), constant(b, r, &[last], 0.5));
            let (gt, lt) = (b.node("Greater", &[x, &lo], vec![]), b.node("Less", &[x, &hi], vec![]));
            let band = b.node(["And", "Or", "Xor"][r.range(0, 2) as usize], &[&gt, &lt], vec![]);
            let cond = if r.range(0, 1) == 0 { b.node("Not", &[&band], vec![]) } else { band };
            let other = constant(b, r, &[last], 1.0);
            (b.node("Where", &[&cond, x, &other], vec![]), "Where")
        }
        3 => {
            let eq = b.node("Equal", &[x, x], vec![]);
            let c = constant(b, r, &[1], 0.2);
            let le = b.node("LessOrEqual", &[x, &c], vec![]);
            let both = b.node("And", &[&eq, &le], vec![]);
            let neg = b.node("Neg", &[x], vec![]);
            (b.node("Where", &[&both, x, &neg], vec![]), "Equal")
        }
        4 => {
            let k = b.constant_i64(&[], vec![r.range(-1, 1)]);
            (b.node("Trilu", &[x, &k], vec![("upper", A::I(r.range(0, 1)))]), "Trilu")
        }
        5 => {
            let d = b.constant(&[1], vec![0.3 + 0.4 * r.f32()]);
            (b.node("Mod", &[x, &d], vec![("fmod", A::I(1))]), "Mod")
        }
        6 => {
            let axis = b.constant_i64(&[], vec![r.range(1, shape.len() as i64 - 1)]);
            (b.node("CumSum", &[x, &axis], vec![("exclusive", A::I(r.range(0, 1))), ("reverse", A::I(r.range(0, 1)))]), "CumSum")
        }
        7 => {
            // x + f(x) over the last axis, broadcast back
            let op = ["ReduceL1", "ReduceL2", "ReduceLogSumExp", "ReduceSumSquare"][r.range(0, 3) as usize];
            let axes = b.constant_i64(&[1], vec![-1]);
            let red = b.node(op, &[x, &axes], vec![("keepdims", A::I(1))]);
            (b.node("Sub", &[x, &red], vec![]), op)
        }
        8 => {
            let op = ["Atan", "Sinh", "Cosh", "Asinh", "Mish", "Erf"][r.range(0, 5) as usize];
            (b.node(op, &[x], vec![]), op)
        }
        9 => match r.range(0, 2) {
            0 => (b.node("Celu", &[x], vec![("alpha", A::F(0.5 + r.f32()))]), "Celu"),
            1 => (b.node("Shrink", &[x], vec![("lambd", A::F(0.3 * r.f32())), ("bias", A::F(0.1))]), "Shrink"),
            _ => (b.node("ThresholdedRelu", &[x], vec![("alpha", A::F(0.2 * r.f32()))]), "ThresholdedRelu"),
        },
        10 => {
            // attention scores: x · xᵀ over the last two axes, then a softmax
            let t = b.node("Transpose", &[x], vec![("perm", A::Is(vec![0, 2, 1]))]);
            let s = b.node("MatMul", &[x, &t], vec![]);
            shape[2] = shape[1];
            (b.node("Softmax", &[&s], vec![("axis", A::I(-1))]), "MatMul")
        }
        11 => {
            // a run-time product of two different tensors
            let w = constant(b, r, &[last, last], 0.7);
            let y = b.node("MatMul", &[x, &w], vec![]);
            let t = b.node("Transpose", &[&y], vec![("perm", A::Is(vec![0, 2, 1]))]);
            let s = b.node("MatMul", &[x, &t], vec![]);
            shape[2] = shape[1];
            (s, "MatMul")
        }
        12 => {
            // self-attention over the C positions of [1, C, L], one head
            let heads = vec![("q_num_heads", A::I(1)), ("kv_num_heads", A::I(1))];
            (b.node("Attention", &[x, x, x], heads), "Attention")
        }
        13 => {
            // each row read in a random order
            let idx: Vec<i64> = (0..c * l).map(|_| r.range(0, l - 1)).collect();
            let idx = b.constant_i64(&[1, c, l], idx);
            (b.node("GatherElements", &[x, &idx], vec![("axis", A::I(2))]), "GatherElements")
        }
        14 => {
            // each row's values moved to a permutation of its positions
            let mut idx = vec![];
            for _ in 0..c {
                let shift = r.range(0, l - 1);
                idx.extend((0..l).map(|j| (j + shift) % l));
            }
            let idx = b.constant_i64(&[1, c, l], idx);
            let neg = b.node("Neg", &[x], vec![]);
            (b.node("ScatterElements", &[x, &idx, &neg], vec![("axis", A::I(2))]), "ScatterElements")
        }
        15 => (b.node("Hardmax", &[x], vec![("axis", A::I(-1))]), "Hardmax"),
        16 => {
            shape[2] = c;
            (b.node("Einsum", &[x, x], vec![("equation", A::S("bij,bkj->bik"))]), "Einsum")
        }
        17 => {
            let (s, bias) = (constant(b, r, &[c], 1.0), constant(b, r, &[c], 0.5));
            (b.node("GroupNormalization", &[x, &s, &bias], vec![("num_groups", A::I(1)), ("epsilon", A::F(1e-3))]), "GroupNormalization")
        }
        18 => {
            let scales = b.constant(&[3], vec![1.0, 1.0, 2.0]);
            shape[2] = 2 * l;
            let mode = ["nearest", "linear"][r.range(0, 1) as usize];
            (b.node("Resize", &[x, "", &scales], vec![("mode", A::S(mode))]), "Resize")
        }
        _ => {
            let op = ["Asin", "Acos", "Atanh"][r.range(0, 2) as usize];
            // their domain is (−1, 1): squash first
            let t = b.node("Tanh", &[x], vec![]);
            let c = b.constant(&[1], vec![0.9]);
            let h = b.node("Mul", &[&t, &c], vec![]);
            (b.node(op, &[&h], vec![]), op)
        }
    }
}

/// An ONNX graph of 2 to 4 pool ops (sometimes ending in ArgMin), its input shape and its ops.
fn draw(r: &mut Rng) -> (Vec<u8>, Vec<usize>, Vec<&'static str>) {
    let mut shape = vec![1, r.range(2, 5), r.range(3, 9)];
    let mut b = Builder::new("x", &shape);
    let input_shape: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    let mut x = "x".to_string();
    let mut ops = vec![];
    for _ in 0..r.range(2, 4) {
        let (y, op) = step(&mut b, r, &x, &mut shape);
        x = y;
        ops.push(op);
    }
    if r.range(0, 4) == 0 {
        x = b.node("ArgMin", &[&x], vec![("axis", A::I(-1)), ("keepdims", A::I(1))]);
        *shape.last_mut().unwrap() = 1;
        ops.push("ArgMin");
        return (b.finish_typed(&x, &shape, 23, 7), input_shape, ops);
    }
    (b.finish(&x, &shape, 23), input_shape, ops)
}

fn samples(r: &mut Rng, shape: &[usize], n: usize) -> ArrayD<f32> {
    let mut s = vec![n];
    s.extend_from_slice(shape);
    let len = s.iter().product();
    ArrayD::from_shape_vec(IxDyn(&s), (0..len).map(|_| (r.f32() * 2.0 - 1.0) * 2.0).collect()).unwrap()
}

#[test]
fn random_models_of_decomposed_onnx_ops_are_bit_exact_on_every_executor() {
    let mut r = Rng(0x0bad_5eed);
    let dir = std::env::temp_dir().join(format!("solidml-random-onnx-ops-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut models: Vec<(Model, [u8; 32], Vec<&'static str>)> = vec![];
    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..DRAWS {
        let (bytes, shape, ops) = draw(&mut r);
        let path = dir.join(format!("m{i}.onnx"));
        std::fs::write(&path, &bytes).unwrap();
        let calib = samples(&mut r, &shape, 32);
        match solidml_compiler::compile(&path, &CompileOptions::default().with_calibration(vec![calib])) {
            Ok(c) => {
                let mut m = c.model;
                m.name = format!("RndOnnx{i}");
                let id = solidml_spec::model_id(&m).unwrap();
                models.push((m, id, ops));
            }
            Err(e) => *refused.entry(format!("{ops:?}: {}", e.to_string().lines().next().unwrap_or(""))).or_default() += 1,
        }
    }
    let mut per_op: BTreeMap<&str, usize> = BTreeMap::new();
    models.iter().flat_map(|(_, _, ops)| ops).for_each(|op| *per_op.entry(op).or_default() += 1);
    eprintln!("{} of {DRAWS} models compiled; per op: {per_op:?}; refused: {refused:#?}", models.len());
    assert!(models.len() >= MIN_MODELS, "only {} random models compiled: {refused:#?}", models.len());
    for op in [
        "LayerNormalization",
        "RMSNormalization",
        "Where",
        "Trilu",
        "Mod",
        "CumSum",
        "MatMul",
        "ArgMin",
        "Attention",
        "GatherElements",
        "ScatterElements",
        "Hardmax",
        "Einsum",
        "GroupNormalization",
        "Resize",
    ] {
        assert!(per_op.get(op).copied().unwrap_or(0) >= 3, "{op} drawn in fewer than 3 models: {per_op:?}");
    }

    // the generated contracts, compiled by solc in batches of 12 models (one run of them all
    // exceeds solc-js's memory)
    let solc = require_solc();
    let mut emitted = BTreeMap::new();
    for (m, id, _) in &models {
        let e = solidml_solidity::emit_model(m, id, &Default::default()).unwrap_or_else(|e| panic!("{}: {e}", m.name));
        emitted.insert(m.name.clone(), e);
    }
    let contracts = solc.as_ref().map(|solc| {
        let mut all = BTreeMap::new();
        for batch in models.chunks(12) {
            let mut sources: Vec<(String, String)> = batch.iter().flat_map(|(m, _, _)| emitted[&m.name].files.iter().cloned()).collect();
            sources.sort();
            sources.dedup_by(|a, b| a.0 == b.0);
            all.extend(solc.compile(&sources, &Default::default()).unwrap());
        }
        all
    });
    let mut chain = Chain::new(SolidMlPrecompile::new(Arc::new(CpuBackend))).with_code_size_limit(1_000_000);

    let gpu = require_gpu();
    let (mut runs, mut errors) = (0, 0);
    for (m, _, ops) in &models {
        let name = &m.name;
        let cpu = CpuExecutor::new(m).unwrap();
        let jit = JitBackend::new().with_fallback(Arc::new(CpuBackend)).compile(Arc::new(m.clone())).unwrap();
        let gpu = gpu.map(|ctx| GpuExecutor::new(ctx, m).unwrap());
        let address = contracts.as_ref().map(|c| {
            let e = &emitted[name];
            let mut initcode = c[&e.contract].initcode.clone();
            if !e.split_parts.is_empty() {
                let parts: Vec<alloy_primitives::Address> =
                    e.split_parts.iter().map(|p| chain.deploy(c[p].initcode.clone()).unwrap().address).collect();
                initcode.extend((parts,).abi_encode_params());
            }
            chain.deploy(initcode).unwrap_or_else(|e| panic!("{name}: {e}")).address
        });
        for k in 0..INPUTS {
            let ins = random_inputs(&mut r, m);
            let want = cpu.run(&ins).map_err(|e| e.to_string());
            let context = || format!("{name} ({ops:?}) input {k}: {ins:?}");
            assert_eq!(jit.run(&ins).map_err(|e| e.to_string()), want, "JIT, {}", context());
            if let Some(gpu) = &gpu {
                assert_eq!(gpu.run(&ins).map_err(|e| e.to_string()), want, "GPU, {}", context());
            }
            if let Some(address) = address {
                let res = chain.call(address, predictQCall { q: abi::pack_values(&ins).into() }.abi_encode()).unwrap();
                match &want {
                    Ok(out) => {
                        assert!(res.success, "EVM reverted where the CPU succeeds, {}", context());
                        let got = predictQCall::abi_decode_returns(&res.output).unwrap();
                        assert_eq!(got.to_vec(), abi::pack_values(out), "EVM, {}", context());
                    }
                    Err(_) => assert!(!res.success, "EVM succeeded where the CPU fails, {}", context()),
                }
            }
            runs += 1;
            errors += usize::from(want.is_err());
        }
    }
    eprintln!("{runs} runs on {} models equal on CPU, JIT, GPU and EVM ({errors} run-time errors everywhere)", models.len());
}
