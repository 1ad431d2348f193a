//! The models the precompile fuzz targets serve (shared with `#[path]`; not a target itself).
//!
//! * [`dense`]: int8 `x[1×4]` → Dense(4→2) → int8 `y[1×2]`;
//! * [`gather`]: int8 `x[1×3]` and i64 `idx[2]` → GatherDynamic(x, idx, axis 1) → int8 `y[1×2]`,
//!   and IntBinary Add(idx, idx) → i64 `z[2]`: int64 inputs and outputs, and run-time errors
//!   (index out of range, overflow).

use std::sync::{Arc, OnceLock};

use solidml_cpu::CpuBackend;
use solidml_precompile::{LoadedModel, MemoryStore, ModelStore, SolidMlPrecompile};
use solidml_spec::{DType, Dense, IntBinaryKind, Epilogue, Model, Node, Op, Quant, TensorInfo, arith::Multiplier};

fn int8(name: &str, shape: Vec<u32>, q: Option<Quant>) -> TensorInfo {
    TensorInfo { name: name.into(), shape, dtype: DType::I8, quant: q }
}

fn int64(name: &str, shape: Vec<u32>) -> TensorInfo {
    TensorInfo { name: name.into(), shape, dtype: DType::I64, quant: None }
}

pub fn dense() -> Model {
    let q = Some(Quant { scale: 0.05, zero_point: 1 });
    Model {
        name: "fuzz_dense".into(),
        tensors: vec![int8("x", vec![1, 4], q), int8("y", vec![1, 2], q)],
        constants: vec![],
        inputs: vec![0],
        outputs: vec![1],
        nodes: vec![Node {
            name: "fc".into(),
            op: Op::Dense(Dense {
                in_features: 4,
                out_features: 2,
                input_zero_point: 1,
                weights: vec![1, -2, 3, -4, 5, 6, -7, 8],
                bias: vec![10, -10],
                epilogue: Epilogue { multipliers: vec![Multiplier::from_real(0.25)], output_zero_point: 1, clamp_min: -128, clamp_max: 127 },
            }),
            inputs: vec![0],
            outputs: vec![1],
        }],
        input_quant: vec![],
    }
}

pub fn gather() -> Model {
    let q = Some(Quant { scale: 0.1, zero_point: -3 });
    Model {
        name: "fuzz_gather".into(),
        tensors: vec![int8("x", vec![1, 3], q), int64("idx", vec![2]), int8("y", vec![1, 2], q), int64("z", vec![2])],
        constants: vec![],
        inputs: vec![0, 1],
        outputs: vec![2, 3],
        nodes: vec![
            Node { name: "gather".into(), op: Op::GatherDynamic { axis: 1 }, inputs: vec![0, 1], outputs: vec![2] },
            Node { name: "double".into(), op: Op::IntBinary { kind: IntBinaryKind::Add }, inputs: vec![1, 1], outputs: vec![3] },
        ],
        input_quant: vec![],
    }
}

pub struct Served {
    pub precompile: SolidMlPrecompile,
    /// The models, in the order [`dense`], [`gather`].
    pub models: Vec<Arc<LoadedModel>>,
}

/// The precompile over a memory store holding both models (built once per process).
pub fn served() -> &'static Served {
    static S: OnceLock<Served> = OnceLock::new();
    S.get_or_init(|| {
        let store = Arc::new(MemoryStore::new());
        let models = [dense(), gather()]
            .iter()
            .map(|m| {
                let id = store.insert(&solidml_spec::encode(m).expect("valid fuzz model")).expect("store");
                store.get(&id).expect("store").expect("inserted")
            })
            .collect();
        Served { precompile: SolidMlPrecompile::new(Arc::new(CpuBackend)).with_store(store), models }
    })
}
