//! Helpers shared by the cross-crate tests: repository paths, `.npy` loading, a
//! deterministic PRNG, the tools some tests need ([`skip`]: a missing tool fails the test
//! unless `SOLIDML_SKIP` lists it).

use std::path::PathBuf;

use ndarray::ArrayD;
use ndarray_npy::ReadNpyExt;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

pub fn examples() -> PathBuf {
    repo().join("examples/models")
}

pub fn npy_f32(name: &str) -> ArrayD<f32> {
    let bytes = std::fs::read(examples().join(name)).unwrap();
    ArrayD::<f32>::read_npy(&bytes[..]).unwrap()
}

pub fn npy_i64(name: &str) -> ArrayD<i64> {
    let bytes = std::fs::read(examples().join(name)).unwrap();
    ArrayD::<i64>::read_npy(&bytes[..]).unwrap()
}

/// xorshift32: deterministic, dependency-free randomness for generated cases.
pub struct Rng(pub u32);

impl Rng {
    /// The next xorshift32 state: uniform over `1..=u32::MAX` for a non-zero seed.
    pub fn next_u32(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u32() as i64).rem_euclid(hi - lo + 1)
    }
    /// Uniform in `lo..=hi` over any i64 span (two draws; [`Rng::range`] reaches at most 2^32
    /// past `lo`).
    pub fn wide_range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi as i128 - lo as i128 + 1) as u128;
        let x = ((self.next_u32() as u128) << 32) | self.next_u32() as u128;
        (lo as i128 + (x % span) as i128) as i64
    }
    pub fn i8s(&mut self, n: usize) -> Vec<i8> {
        (0..n).map(|_| self.range(-128, 127) as i8).collect()
    }
    pub fn f32(&mut self) -> f32 {
        self.next_u32() as f32 / u32::MAX as f32
    }
}
pub mod random_spec;
pub mod skip;
pub mod tabular;

pub use skip::{require_forge, require_python, skipping};

/// A solc for the tests that compile Solidity in process: `$SOLC`, `$FOUNDRY_BIN/solc` or the
/// project-local wrapper ([`Solc::locate`](solidml_solidity::solc::Solc::locate)). `None`:
/// skipped (`SOLIDML_SKIP=forge`); a missing solc fails the test.
#[track_caller]
pub fn require_solc() -> Option<solidml_solidity::solc::Solc> {
    if skipping("forge") {
        return None;
    }
    match solidml_solidity::solc::Solc::locate() {
        Ok(s) => Some(s),
        Err(e) => skip::missing("forge", &e.to_string(), skip::INSTALL_FORGE),
    }
}

/// The process's GPU context (created once). `None`: skipped (`SOLIDML_SKIP=gpu`); no adapter
/// fails the test naming `scripts/vulkan-env.sh`, and so does any other context error.
#[track_caller]
pub fn require_gpu() -> Option<&'static solidml_gpu::GpuContext> {
    static CTX: std::sync::OnceLock<Result<solidml_gpu::GpuContext, String>> = std::sync::OnceLock::new();
    if skipping("gpu") {
        return None;
    }
    let ctx = CTX.get_or_init(|| match solidml_gpu::GpuContext::new() {
        Ok(c) => {
            eprintln!("GPU adapter: {}", c.adapter());
            Ok(c)
        }
        Err(e) if e.is_no_adapter() => Err(format!("{e} (lavapipe is a software Vulkan device)")),
        Err(e) => panic!("GPU context: {e}"),
    });
    match ctx {
        Ok(c) => Some(c),
        Err(e) => skip::missing("gpu", e, skip::INSTALL_GPU),
    }
}

/// A minimal ONNX writer (onnx-protobuf) for generated test models.
pub mod onnx_builder {
    use onnx_protobuf::{
        AttributeProto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TypeProto, ValueInfoProto,
        attribute_proto::AttributeType, tensor_shape_proto, type_proto,
    };

    pub struct Builder {
        graph: GraphProto,
        next: usize,
    }

    pub enum A {
        I(i64),
        F(f32),
        Is(Vec<i64>),
        S(&'static str),
    }

    fn value_info(name: &str, shape: &[i64]) -> ValueInfoProto {
        typed_value_info(name, shape, 1)
    }

    /// A tensor's name, shape and ONNX element type (`TensorProto.DataType`: 1 float, 7 int64).
    fn typed_value_info(name: &str, shape: &[i64], elem_type: i32) -> ValueInfoProto {
        let mut s = onnx_protobuf::TensorShapeProto::new();
        for &d in shape {
            let mut dim = tensor_shape_proto::Dimension::new();
            dim.value = Some(tensor_shape_proto::dimension::Value::DimValue(d));
            s.dim.push(dim);
        }
        let mut tt = type_proto::Tensor::new();
        tt.elem_type = elem_type;
        tt.shape = Some(s).into();
        let mut tp = TypeProto::new();
        tp.value = Some(type_proto::Value::TensorType(tt));
        let mut v = ValueInfoProto::new();
        v.name = name.into();
        v.type_ = Some(tp).into();
        v
    }

    impl Builder {
        pub fn new(input: &str, shape: &[i64]) -> Self {
            let mut graph = GraphProto::new();
            graph.name = "generated".into();
            graph.input.push(value_info(input, shape));
            Builder { graph, next: 0 }
        }
        pub fn fresh(&mut self, prefix: &str) -> String {
            self.next += 1;
            format!("{prefix}{}", self.next)
        }
        pub fn constant(&mut self, dims: &[i64], data: Vec<f32>) -> String {
            let name = self.fresh("c");
            let mut t = TensorProto::new();
            t.name = name.clone();
            t.dims = dims.to_vec();
            t.data_type = 1;
            t.float_data = data;
            self.graph.initializer.push(t);
            name
        }
        pub fn constant_i64(&mut self, dims: &[i64], data: Vec<i64>) -> String {
            let name = self.fresh("c");
            let mut t = TensorProto::new();
            t.name = name.clone();
            t.dims = dims.to_vec();
            t.data_type = 7;
            t.int64_data = data;
            self.graph.initializer.push(t);
            name
        }
        /// A float constant stored in an external data file `file` (written by the caller
        /// with `bytes`), as ONNX's external data format describes.
        pub fn external_constant(&mut self, dims: &[i64], file: &str, offset: usize, len: usize) -> String {
            let name = self.fresh("ext");
            let mut t = TensorProto::new();
            t.name = name.clone();
            t.dims = dims.to_vec();
            t.data_type = 1;
            t.data_location = onnx_protobuf::tensor_proto::DataLocation::EXTERNAL.into();
            for (k, v) in [("location", file.to_string()), ("offset", offset.to_string()), ("length", len.to_string())] {
                let mut e = onnx_protobuf::StringStringEntryProto::new();
                e.key = k.into();
                e.value = v;
                t.external_data.push(e);
            }
            self.graph.initializer.push(t);
            name
        }
        pub fn node(&mut self, op: &str, inputs: &[&str], attrs: Vec<(&str, A)>) -> String {
            self.node_n(op, inputs, attrs, 1).remove(0)
        }
        /// A node with `outputs` outputs.
        pub fn node_n(&mut self, op: &str, inputs: &[&str], attrs: Vec<(&str, A)>, outputs: usize) -> Vec<String> {
            let outs: Vec<String> = (0..outputs).map(|_| self.fresh("t")).collect();
            let mut n = NodeProto::new();
            n.name = self.fresh(&format!("{op}_"));
            n.op_type = op.into();
            n.input = inputs.iter().map(|s| s.to_string()).collect();
            n.output = outs.clone();
            for (k, v) in attrs {
                let mut a = AttributeProto::new();
                a.name = k.into();
                match v {
                    A::I(i) => {
                        a.type_ = AttributeType::INT.into();
                        a.i = i;
                    }
                    A::F(f) => {
                        a.type_ = AttributeType::FLOAT.into();
                        a.f = f;
                    }
                    A::Is(v) => {
                        a.type_ = AttributeType::INTS.into();
                        a.ints = v;
                    }
                    A::S(v) => {
                        a.type_ = AttributeType::STRING.into();
                        a.s = v.as_bytes().to_vec();
                    }
                }
                n.attribute.push(a);
            }
            self.graph.node.push(n);
            outs
        }
        pub fn finish(self, output: &str, shape: &[i64], opset: i64) -> Vec<u8> {
            self.finish_typed(output, shape, opset, 1)
        }
        /// [`Builder::finish`] with an output of ONNX element type `elem_type` (7: int64).
        pub fn finish_typed(mut self, output: &str, shape: &[i64], opset: i64, elem_type: i32) -> Vec<u8> {
            self.graph.output.push(typed_value_info(output, shape, elem_type));
            let mut m = ModelProto::new();
            m.ir_version = 8;
            let mut op = OperatorSetIdProto::new();
            op.version = opset;
            m.opset_import.push(op);
            m.graph = Some(self.graph).into();
            m.write_to_bytes().unwrap()
        }
    }
}

/// Every spec vector file (`docs/spec/vectors/<op>.json`, written by tests/spec_vectors.rs) and
/// its number of cases (random cases, then the fixed edge cases), in generation order: each
/// replay (CPU, GPU, Solidity) checks it ran exactly these, so a file or a case that goes
/// missing fails instead of passing unnoticed.
pub const SPEC_VECTORS: &[(&str, usize)] = &[
    ("conv", 13),
    ("convtranspose", 11),
    ("matmul", 12),
    // a 64 KiB table per case
    ("binarylut", 3),
    ("instancenorm", 13),
    ("intbinary", 26),
    ("lrn", 12),
    ("normalize", 12),
    ("dense", 12),
    ("add", 12),
    ("sub", 12),
    ("mul", 12),
    ("max", 10),
    ("min", 10),
    ("lut", 10),
    ("view", 13),
    ("pad", 13),
    ("concat", 11),
    ("maxpool", 12),
    ("avgpool", 12),
    ("reduce", 12),
    ("softmax", 13),
    ("logsoftmax", 12),
    ("argmax", 12),
    ("take", 12),
    ("gather", 11),
    ("gatherdynamic", 14),
    ("cumsum", 12),
    ("densewide", 14),
    ("topk", 14),
    ("intcompare", 14),
    ("intlut", 12),
    // models of several nodes
    ("chain", 19),
];

/// The spec vector files as `(op, path, cases)`, in [`SPEC_VECTORS`] order, after checking that
/// `docs/spec/vectors` holds exactly those `.json` files.
pub fn spec_vector_files() -> Vec<(&'static str, PathBuf, usize)> {
    let dir = repo().join("docs/spec/vectors");
    let mut found: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let mut listed: Vec<String> = SPEC_VECTORS.iter().map(|(op, _)| op.to_string()).collect();
    listed.sort();
    assert_eq!(found, listed, "{} holds other vector files than SPEC_VECTORS (tests/support.rs) lists", dir.display());
    SPEC_VECTORS.iter().map(|&(op, n)| (op, dir.join(format!("{op}.json")), n)).collect()
}

/// One case of a spec vector file (`docs/spec/vectors/*.json`), decoded.
pub struct VectorCase {
    pub name: String,
    pub model: solidml_spec::Model,
    pub inputs: Vec<solidml_exec::Value>,
    pub expected: Expected,
}

/// What a spec vector case expects of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// The outputs (`outputs`), every element as i64.
    Outputs(Vec<Vec<i64>>),
    /// A run-time error (`error`): the text of the `solidml_exec::ExecError` every executor
    /// fails with (IndexOutOfRange of Take and GatherDynamic, Overflow and DivisionByZero of
    /// IntBinary).
    Error(String),
}

impl Expected {
    /// Asserts an executor's run of the case `run` (a name for the messages) gives what the
    /// case expects: equal outputs, or a run-time error whose text (`ExecError`'s, the spec's)
    /// is the expected one. Returns whether the case expected an error.
    pub fn check(&self, run: &str, got: Result<Vec<solidml_exec::Value>, String>) -> bool {
        match (got, self) {
            (Ok(outs), Expected::Outputs(want)) => {
                let got: Vec<Vec<i64>> = outs.iter().map(value_i64).collect();
                assert_eq!(&got, want, "{run}");
                false
            }
            (Err(e), Expected::Error(want)) => {
                assert_eq!(&e, want, "{run}");
                true
            }
            (Ok(_), Expected::Error(want)) => panic!("{run}: ran where the spec fails with `{want}`"),
            (Err(e), Expected::Outputs(_)) => panic!("{run}: {e}"),
        }
    }

    /// The custom error and operand of an expected IntBinary error (what the EVM reverts
    /// with): `IntegerOverflow` or `DivisionByZero`.
    pub fn operand_error(&self) -> Option<(&'static str, i64)> {
        let Expected::Error(text) = self else { return None };
        [("IntegerOverflow", "integer overflow (operand "), ("DivisionByZero", "division by zero (operand ")]
            .into_iter()
            .find_map(|(error, prefix)| Some((error, text.split(prefix).nth(1)?.strip_suffix(')')?.parse().ok()?)))
    }

    /// The `IndexOutOfRange` index and length of an expected error (what the EVM reverts with).
    pub fn index_error(&self) -> Option<(i64, usize)> {
        let Expected::Error(text) = self else { return None };
        let rest = text.split("index ").nth(1)?;
        let (index, len) = rest.split_once(" out of range 0..")?;
        Some((index.parse().ok()?, len.parse().ok()?))
    }
}

/// The cases of one spec vector file.
pub fn vector_cases(path: &std::path::Path) -> Vec<VectorCase> {
    use solidml_exec::Value;
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let ints = |a: &serde_json::Value| -> Vec<i64> { a.as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect() };
    v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| {
            let hex = case["artifact"].as_str().unwrap().trim_start_matches("0x");
            let bytes: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
            let model = solidml_spec::decode(&bytes).unwrap();
            let inputs = case["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .zip(&model.inputs)
                .map(|(a, &t)| Value::from_codes(model.tensor(t).dtype, ints(a)))
                .collect();
            let name = case["name"].as_str().unwrap_or("?").to_string();
            let expected = match (case.get("outputs"), case.get("error")) {
                (Some(o), None) => Expected::Outputs(o.as_array().unwrap().iter().map(ints).collect()),
                (None, Some(e)) => Expected::Error(e.as_str().unwrap().to_string()),
                _ => panic!("{}: case {name} needs exactly one of `outputs` and `error`", path.display()),
            };
            VectorCase { name, model, inputs, expected }
        })
        .collect()
}

/// Every element of a value as i64.
pub fn value_i64(v: &solidml_exec::Value) -> Vec<i64> {
    match v {
        solidml_exec::Value::I64(v) => v.clone(),
        codes => (0..codes.len()).filter_map(|i| codes.code(i)).map(|x| x as i64).collect(),
    }
}

/// An int8 tensor `name` of `shape`, quantized by `quant`.
pub fn t8(name: &str, shape: &[u32], quant: solidml_spec::Quant) -> solidml_spec::TensorInfo {
    solidml_spec::TensorInfo { name: name.into(), shape: shape.to_vec(), dtype: solidml_spec::DType::I8, quant: Some(quant) }
}

/// An i64 tensor `name` of `shape`.
pub fn t64(name: &str, shape: &[u32]) -> solidml_spec::TensorInfo {
    solidml_spec::TensorInfo { name: name.into(), shape: shape.to_vec(), dtype: solidml_spec::DType::I64, quant: None }
}

/// A single-op model named `name`: `inputs → op (node "op") → output`, tensors numbered
/// inputs first (not validated).
pub fn single_op_model(
    name: &str,
    op: solidml_spec::Op,
    inputs: Vec<solidml_spec::TensorInfo>,
    output: solidml_spec::TensorInfo,
) -> solidml_spec::Model {
    let n = inputs.len() as u32;
    let mut tensors = inputs;
    tensors.push(output);
    solidml_spec::Model {
        name: name.into(),
        tensors,
        constants: vec![],
        inputs: (0..n).collect(),
        outputs: vec![n],
        nodes: vec![solidml_spec::Node { name: "op".into(), op, inputs: (0..n).collect(), outputs: vec![n] }],
        input_quant: vec![],
    }
}

/// The SqueezeNet-class CNN (`examples/models/make_squeezenet.py`, 2 calibration images)
/// generated into `dir` with the Python env `py`, and compiled.
pub fn squeezenet(py: &std::path::Path, dir: &std::path::Path) -> solidml_compiler::Compiled {
    let script = repo().join("examples/models/make_squeezenet.py");
    let status = std::process::Command::new(py).arg(&script).arg(dir).arg("--calib").arg("2").status().expect("run make_squeezenet.py");
    assert!(status.success(), "{} failed: {status}", script.display());
    let calib = ArrayD::<f32>::read_npy(&std::fs::read(dir.join("squeezenet_calib.npy")).unwrap()[..]).unwrap();
    solidml_compiler::compile(&dir.join("squeezenet.onnx"), &solidml_compiler::CompileOptions::default().with_calibration(vec![calib]))
        .unwrap()
}

/// The example models with their calibration sets (none for the prescribed QDQ model).
pub const EXAMPLE_MODELS: &[(&str, Option<&str>)] = &[
    ("digits_mlp.onnx", Some("digits_calib.npy")),
    ("digits_cnn.onnx", Some("digits_cnn_calib.npy")),
    ("digits_logreg.onnx", Some("digits_calib.npy")),
    ("digits_logreg_ovr.onnx", Some("digits_calib.npy")),
    ("digits_cnn_qdq.onnx", None),
    ("breast_cancer.onnx", Some("breast_cancer_calib.npy")),
];

/// Compile one of [`EXAMPLE_MODELS`] as the tests do.
pub fn compile_example(file: &str, calibration: Option<&str>) -> solidml_compiler::Compiled {
    let mut opts = solidml_compiler::CompileOptions::default();
    if let Some(c) = calibration {
        opts = opts.with_calibration(vec![npy_f32(c)]);
    }
    solidml_compiler::compile(&examples().join(file), &opts).unwrap_or_else(|e| panic!("{file}: {e}"))
}
