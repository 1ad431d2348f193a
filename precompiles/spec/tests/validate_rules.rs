//! One negative test per rule of `validate.rs`: for every op, a small valid model, then one
//! mutation per rule that breaks it, and the exact error that rule must return (variant, node,
//! op and reason). An error with another message means the mutation tripped another rule first
//! (or the rule changed); `Ok` means the rule is gone. A last test reads `src/validate.rs` and
//! checks every error message it contains is expected by at least one case here, so a new rule
//! without a negative test fails too.

use solidml_spec::{
    Binary, BinaryKind, CompareKind, ConstData, Conv, ConvTranspose, CumSum, DType, Dense, Epilogue, Extremum, InstanceNorm, IntBinaryKind,
    IntCompare, LogSoftmax, Lrn, Lut, MatMul, Model, Node, NormKind, Normalize, Op, Pad, PadMode, Pool, Quant, Reduce, ReduceKind, Softmax,
    SpecError, TensorInfo, TopKOutput, View,
    arith::Multiplier,
    validate::{Rule, validate},
};

const Q: Quant = Quant { scale: 0.1, zero_point: 0 };
const M: Multiplier = Multiplier { multiplier: 1 << 30, shift: -1 };
const BAD_M: Multiplier = Multiplier { multiplier: 5, shift: 0 };

fn t8(name: &str, shape: &[u32]) -> TensorInfo {
    TensorInfo { name: name.into(), shape: shape.to_vec(), dtype: DType::I8, quant: Some(Q) }
}

/// A per-axis input quantization of input position `input` along `axis` with `n` parameters.
fn per_axis(input: u32, axis: u32, n: usize) -> solidml_spec::InputQuant {
    solidml_spec::InputQuant { input, axis, params: (0..n).map(|i| Quant { scale: 0.1 * (i + 1) as f32, zero_point: 0 }).collect() }
}

fn t64(name: &str, shape: &[u32]) -> TensorInfo {
    TensorInfo { name: name.into(), shape: shape.to_vec(), dtype: DType::I64, quant: None }
}

/// `inputs → op (node "op") → outputs`, tensors numbered inputs first.
fn single(op: Op, inputs: Vec<TensorInfo>, outputs: Vec<TensorInfo>) -> Model {
    let (ni, no) = (inputs.len() as u32, outputs.len() as u32);
    let mut tensors = inputs;
    tensors.extend(outputs);
    Model {
        name: "rule".into(),
        tensors,
        constants: vec![],
        inputs: (0..ni).collect(),
        outputs: (ni..ni + no).collect(),
        nodes: vec![Node { name: "op".into(), op, inputs: (0..ni).collect(), outputs: (ni..ni + no).collect() }],
        input_quant: vec![],
    }
}

fn epilogue(channels: usize) -> Epilogue {
    Epilogue { multipliers: vec![M; channels], output_zero_point: 0, clamp_min: -128, clamp_max: 127 }
}

/// What a broken model must be rejected with.
enum Want {
    /// `SpecError::Invalid { rule, reason: message }`.
    Model(Rule, String),
    /// `SpecError::InvalidNode { rule, node: "op", op, reason }`.
    Node(&'static str, Rule, String),
}

struct Case {
    label: String,
    model: Model,
    want: Want,
}

/// The cases of one op: a valid base model and its mutations.
struct Cases<'a> {
    out: &'a mut Vec<Case>,
    base: Model,
    op: &'static str,
}

impl Cases<'_> {
    /// The base model with `f` applied must fail with `reason` on node `op`, by a rule of its op.
    fn node(&mut self, reason: &str, f: impl FnOnce(&mut Model)) -> &mut Self {
        self.node_rule(Rule::Op(self.base.nodes[0].op.section()), reason, f)
    }
    /// The base model with `f` applied must fail with `reason` on node `op`, by the definition
    /// order rule.
    fn order(&mut self, reason: &str, f: impl FnOnce(&mut Model)) -> &mut Self {
        self.node_rule(Rule::Order, reason, f)
    }
    fn node_rule(&mut self, rule: Rule, reason: &str, f: impl FnOnce(&mut Model)) -> &mut Self {
        let mut model = self.base.clone();
        f(&mut model);
        let label = format!("{}: {reason}", self.op);
        self.out.push(Case { label, model, want: Want::Node(self.op, rule, reason.into()) });
        self
    }
    /// The base model with `f` applied must fail by the model-level `rule` with `message`.
    fn model(&mut self, rule: Rule, message: &str, f: impl FnOnce(&mut Model)) -> &mut Self {
        let mut model = self.base.clone();
        f(&mut model);
        let label = format!("{} (model): {message}", self.op);
        self.out.push(Case { label, model, want: Want::Model(rule, message.into()) });
        self
    }
}

fn cases_of<'a>(out: &'a mut Vec<Case>, base: Model) -> Cases<'a> {
    validate(&base).unwrap_or_else(|e| panic!("the base model of {} must be valid: {e}", base.nodes[0].op.kind()));
    let op = base.nodes[0].op.kind();
    Cases { out, base, op }
}

/// The op of the (single) node, mutably.
macro_rules! op {
    ($m:expr, $variant:ident) => {
        match &mut $m.nodes[0].op {
            Op::$variant(x) => x,
            _ => unreachable!(),
        }
    };
}

/// The Pool of a MaxPool or AvgPool node.
fn pool_of(m: &mut Model) -> &mut Pool {
    match &mut m.nodes[0].op {
        Op::MaxPool(p) | Op::AvgPool(p) => p,
        _ => unreachable!(),
    }
}

fn set_shape(m: &mut Model, t: usize, shape: &[u32]) {
    m.tensors[t].shape = shape.to_vec();
}

fn all_cases() -> Vec<Case> {
    let mut out = vec![];
    let out = &mut out;

    // ---- model-level rules (on a Dense model) ----
    let dense = Dense {
        in_features: 3,
        out_features: 2,
        input_zero_point: 0,
        weights: vec![1, -2, 3, 4, 5, -6],
        bias: vec![10, -10],
        epilogue: epilogue(1),
    };
    let mut dense_model = Model::single_dense("rule", 1, dense, Q, Q);
    dense_model.nodes[0].name = "op".into();
    cases_of(out, dense_model.clone())
        .model(Rule::TensorId, "tensor id 7 out of range (2 tensors)", |m| m.inputs = vec![7])
        .model(Rule::TensorId, "tensor id 9 out of range (2 tensors)", |m| m.constants = vec![(9, ConstData::I8(vec![]))])
        .model(Rule::TensorId, "tensor id 5 out of range (2 tensors)", |m| m.nodes[0].inputs = vec![5])
        .model(Rule::TensorId, "tensor id 6 out of range (2 tensors)", |m| m.nodes[0].outputs = vec![6])
        .model(Rule::TensorId, "tensor id 8 out of range (2 tensors)", |m| m.outputs = vec![8])
        .model(Rule::Tensor, "tensor `x` has rank 9 > 8", |m| set_shape(m, 0, &[1; 9]))
        .model(Rule::Tensor, "tensor `x` has too many elements", |m| set_shape(m, 0, &[1 << 15, 1 << 14]))
        .model(Rule::Tensor, "tensor `x` has too many elements", |m| set_shape(m, 0, &[u32::MAX; 8]))
        // the partial products overflow u64 before the 0 is met (a 0 earlier would be accepted)
        .model(Rule::Tensor, "tensor `x` has too many elements", |m| set_shape(m, 0, &[u32::MAX, u32::MAX, u32::MAX, 0]))
        .model(Rule::Tensor, "tensor `x` has an invalid type or quantization", |m| {
            m.tensors[0].quant = Some(Quant { scale: -0.0, zero_point: 0 })
        })
        .model(Rule::Tensor, "tensor `x` has an invalid type or quantization", |m| m.tensors[0].quant = None)
        .model(Rule::Tensor, "tensor `x` has an invalid type or quantization", |m| {
            m.tensors[0].quant = Some(Quant { scale: 0.0, zero_point: 0 })
        })
        .model(Rule::Tensor, "tensor `x` has an invalid type or quantization", |m| {
            m.tensors[0].quant = Some(Quant { scale: f32::NAN, zero_point: 0 })
        })
        .model(Rule::Tensor, "tensor `x` has an invalid type or quantization", |m| {
            m.tensors[0].quant = Some(Quant { scale: f32::INFINITY, zero_point: 0 })
        })
        .model(Rule::Tensor, "tensor `x` has an invalid type or quantization", |m| {
            m.tensors[0].quant = Some(Quant { scale: 0.1, zero_point: 128 })
        })
        .model(Rule::Tensor, "tensor `y` has an invalid type or quantization", |m| {
            m.tensors[1] = TensorInfo { quant: Some(Q), ..t64("y", &[1, 2]) }
        })
        .model(Rule::Constant, "constant `x` does not match its tensor", |m| {
            // an input cannot also be a constant
            m.constants = vec![(0, ConstData::I8(vec![0; 3]))]
        })
        .model(Rule::Constant, "constant `c` does not match its tensor", |m| {
            m.tensors.push(t8("c", &[2]));
            m.constants = vec![(2, ConstData::I8(vec![0; 3]))]
        })
        .model(Rule::Constant, "constant `c` does not match its tensor", |m| {
            m.tensors.push(t8("c", &[2]));
            m.constants = vec![(2, ConstData::I64(vec![0; 2]))]
        })
        .model(Rule::Constant, "constant `c` does not match its tensor", |m| {
            m.tensors.push(t64("c", &[2]));
            m.constants = vec![(2, ConstData::I8(vec![0; 2]))]
        })
        .model(Rule::Constant, "constant `c` does not match its tensor", |m| {
            m.tensors.push(t8("c", &[2]));
            m.constants = vec![(2, ConstData::I8(vec![0; 2])), (2, ConstData::I8(vec![0; 2]))]
        })
        .model(Rule::Output, "model output 0 is never computed", |m| {
            m.inputs = vec![];
            m.nodes.clear();
            m.outputs = vec![0];
        })
        .model(Rule::Output, "model output 2 is never computed", |m| {
            m.tensors.push(t8("z", &[1, 2]));
            m.outputs.push(2);
        })
        .model(Rule::InputQuant, "input position 0 is not after 0 (entries sorted, one per input)", |m| {
            m.input_quant = vec![per_axis(0, 1, 3), per_axis(0, 1, 3)]
        })
        .model(Rule::InputQuant, "input position 1 out of range (1 inputs)", |m| m.input_quant = vec![per_axis(1, 1, 3)])
        .model(Rule::InputQuant, "input `x` is not int8 or int16", |m| {
            m.tensors[0] = t64("x", &[1, 3]);
            m.input_quant = vec![per_axis(0, 1, 3)]
        })
        .model(Rule::InputQuant, "axis 2 out of range for input `x` of rank 2", |m| m.input_quant = vec![per_axis(0, 2, 3)])
        .model(Rule::InputQuant, "2 parameters for axis 1 of input `x` of length 3", |m| m.input_quant = vec![per_axis(0, 1, 2)])
        .model(Rule::InputQuant, "parameter 2 of input `x`: scale 0e0, zero point 0 out of range", |m| {
            m.input_quant = vec![per_axis(0, 1, 3)];
            m.input_quant[0].params[2].scale = 0.0
        })
        .model(Rule::InputQuant, "parameter 1 of input `x`: scale inf, zero point 0 out of range", |m| {
            m.input_quant = vec![per_axis(0, 1, 3)];
            m.input_quant[0].params[1].scale = f32::INFINITY
        })
        .model(Rule::InputQuant, "parameter 0 of input `x`: scale 1e-1, zero point -16777217 out of range", |m| {
            m.input_quant = vec![per_axis(0, 1, 3)];
            m.input_quant[0].params[0].zero_point = -(1 << 24) - 1
        })
        .order("input tensor 2 is used before it is defined", |m| {
            m.tensors.push(t8("z", &[1, 3]));
            m.nodes[0].inputs = vec![2];
        })
        .order("output tensor 0 is defined twice", |m| m.nodes[0].outputs = vec![0])
        .order("output tensor 1 is defined twice", |m| {
            // the second node (named `op`, as every case expects) defines `y` again
            m.nodes.insert(0, Node { name: "first".into(), ..m.nodes[0].clone() });
        })
        .node("expects 1 input(s) and 1 output(s), has 2 and 1", |m| m.nodes[0].inputs = vec![0, 0])
        .node("expects 1 input(s) and 1 output(s), has 1 and 0", |m| {
            m.nodes[0].outputs = vec![];
            m.outputs = vec![0];
        });

    // ---- Dense ----
    cases_of(out, dense_model)
        .node("Dense takes and gives int8", |m| m.tensors[1] = t64("y", &[1, 2]))
        .node("leading axes must match", |m| set_shape(m, 1, &[2, 2]))
        .node("leading axes must match", |m| set_shape(m, 1, &[1, 1, 2]))
        .node("leading axes must match", |m| {
            set_shape(m, 0, &[]);
            set_shape(m, 1, &[]);
        })
        .node("feature counts differ from the shapes", |m| op!(m, Dense).in_features = 4)
        .node("feature counts differ from the shapes", |m| set_shape(m, 1, &[1, 3]))
        .node("in_features must be at least 1", |m| {
            set_shape(m, 0, &[1, 0]);
            let d = op!(m, Dense);
            d.in_features = 0;
            d.weights.clear();
        })
        .node("weights or bias length", |m| op!(m, Dense).weights.truncate(5))
        .node("weights or bias length", |m| op!(m, Dense).bias.push(0))
        .node("input zero point out of int8 range", |m| op!(m, Dense).input_zero_point = -129)
        .node("output channel 1: the int32 accumulator can overflow", |m| op!(m, Dense).bias[1] = i32::MAX - 5 * 255)
        .node("epilogue needs one multiplier or one per channel", |m| op!(m, Dense).epilogue.multipliers = vec![M; 3])
        .node("epilogue needs one multiplier or one per channel", |m| op!(m, Dense).epilogue.multipliers = vec![])
        .node("multiplier out of range", |m| op!(m, Dense).epilogue.multipliers = vec![M, BAD_M])
        .node("multiplier out of range", |m| op!(m, Dense).epilogue.multipliers = vec![Multiplier { multiplier: 1 << 30, shift: 31 }])
        .node("output zero point or clamp out of range", |m| op!(m, Dense).epilogue.output_zero_point = 128)
        .node("output zero point or clamp out of range", |m| {
            let e = &mut op!(m, Dense).epilogue;
            (e.clamp_min, e.clamp_max) = (5, 4);
        });

    // ---- DenseWide ----
    let wide = |name: &str, shape: &[u32], dtype: DType, zero_point: i32| TensorInfo {
        name: name.into(),
        shape: shape.to_vec(),
        dtype,
        quant: Some(Quant { scale: 0.01, zero_point }),
    };
    let dense_wide = solidml_spec::DenseWide {
        in_features: 3,
        out_features: 2,
        input_zero_point: -5,
        weights: vec![1, -2, 32767, 4, 5, -32767],
        bias: vec![10, -10],
        multipliers: vec![M],
        output_zero_point: 7,
        clamp_min: -32768,
        clamp_max: 32767,
    };
    cases_of(out, single(Op::DenseWide(dense_wide), vec![wide("x", &[1, 3], DType::I16, -5)], vec![wide("y", &[1, 2], DType::I16, 7)]))
        .node("DenseWide takes int8 or int16", |m| m.tensors[0] = wide("x", &[1, 3], DType::I32, -5))
        .node("DenseWide gives int8, int16 or int32", |m| m.tensors[1] = t64("y", &[1, 2]))
        .node("leading axes must match", |m| set_shape(m, 1, &[2, 2]))
        .node("feature counts differ from the shapes", |m| op!(m, DenseWide).in_features = 4)
        .node("weights or bias length", |m| op!(m, DenseWide).bias.push(0))
        .node("input zero point differs from the input tensor's", |m| op!(m, DenseWide).input_zero_point = 0)
        .node("weight −32768 (weights are symmetric: [−32767, 32767])", |m| op!(m, DenseWide).weights[0] = i16::MIN)
        .node("multipliers: none, one, or one per output feature, each valid", |m| op!(m, DenseWide).multipliers = vec![M; 3])
        .node("multipliers: none, one, or one per output feature, each valid", |m| op!(m, DenseWide).multipliers = vec![BAD_M])
        .node("output zero point differs from the output tensor's", |m| op!(m, DenseWide).output_zero_point = 8)
        .node("clamp out of the output type's range, or clamp_min > clamp_max", |m| {
            // int8 output: the int16 clamp is out of its range
            m.tensors[1] = wide("y", &[1, 2], DType::I8, 7);
        })
        .node("clamp out of the output type's range, or clamp_min > clamp_max", |m| {
            let d = op!(m, DenseWide);
            (d.clamp_min, d.clamp_max) = (3, 2);
        })
        .node("output feature 1: the accumulator can exceed 2^62", |m| op!(m, DenseWide).bias[1] = (1 << 62) - (4 + 5 + 32767) * 65535 + 1)
        .model(Rule::Tensor, "tensor `x` has an invalid type or quantization", |m| {
            m.tensors[0].quant = Some(Quant { scale: 0.01, zero_point: 32768 })
        });
    // the wide types reach no other op
    cases_of(out, single(Op::Lut(Lut { axis: None, tables: vec![0; 256] }), vec![t8("x", &[4])], vec![t8("y", &[4])]))
        .node("only DenseWide reads or writes int16 or int32 tensors", |m| m.tensors[0] = wide("x", &[4], DType::I16, 0));

    // ---- Conv ----
    let conv = Conv {
        kernel: vec![2, 2],
        strides: vec![1, 1],
        dilations: vec![1, 1],
        pads_begin: vec![0, 0],
        pads_end: vec![0, 0],
        groups: 1,
        input_zero_point: 0,
        weights: vec![1; 16],
        bias: vec![0, 1],
        epilogue: epilogue(2),
    };
    cases_of(out, single(Op::Conv(conv), vec![t8("x", &[1, 2, 4, 4])], vec![t8("y", &[1, 2, 3, 3])]))
        .node("expects 1 input(s) and 1 output(s), has 2 and 1", |m| m.nodes[0].inputs = vec![0, 0])
        .node("Conv takes and gives int8", |m| m.tensors[1] = t64("y", &[1, 2, 3, 3]))
        .node("rank must be 2 + spatial rank", |m| set_shape(m, 1, &[2, 3, 3]))
        .node("attribute lengths differ from the kernel rank", |m| op!(m, Conv).strides = vec![1])
        .node("attribute lengths differ from the kernel rank", |m| op!(m, Conv).pads_end = vec![0, 0, 0])
        .node("groups must divide both channel counts; batch must match", |m| op!(m, Conv).groups = 0)
        .node("groups must divide both channel counts; batch must match", |m| {
            set_shape(m, 1, &[1, 3, 3, 3]);
            op!(m, Conv).groups = 2;
        })
        .node("groups must divide both channel counts; batch must match", |m| set_shape(m, 1, &[2, 2, 3, 3]))
        .node("weights length != C_out·C_in/groups·kernel", |m| op!(m, Conv).weights.push(0))
        .node("bias length != C_out", |m| op!(m, Conv).bias.push(0))
        .node("epilogue needs one multiplier or one per channel", |m| op!(m, Conv).epilogue.multipliers = vec![M; 3])
        .node("multiplier out of range", |m| op!(m, Conv).epilogue.multipliers[1] = BAD_M)
        .node("output zero point or clamp out of range", |m| op!(m, Conv).epilogue.output_zero_point = -129)
        .node("output channel 0: the int32 accumulator can overflow", |m| op!(m, Conv).bias[0] = -i32::MAX)
        .node("input zero point out of int8 range", |m| op!(m, Conv).input_zero_point = 128)
        .node("output spatial shape does not follow from the attributes", |m| set_shape(m, 1, &[1, 2, 3, 4]))
        .node("output spatial shape does not follow from the attributes", |m| op!(m, Conv).strides = vec![0, 1])
        .node("output spatial shape does not follow from the attributes", |m| {
            // a window larger than the padded input
            op!(m, Conv).dilations = vec![5, 1];
        })
        .node("output spatial shape does not follow from the attributes", |m| {
            // dilation 0 gives a span of 1, which window_output_len accepts
            set_shape(m, 1, &[1, 2, 4, 3]);
            op!(m, Conv).dilations = vec![0, 1];
        });

    // ---- ConvTranspose ----
    let convt = ConvTranspose {
        kernel: vec![2, 2],
        strides: vec![1, 1],
        dilations: vec![1, 1],
        pads_begin: vec![0, 0],
        pads_end: vec![0, 0],
        output_padding: vec![0, 0],
        groups: 1,
        input_zero_point: 0,
        weights: vec![1; 16],
        bias: vec![0, 1],
        epilogue: epilogue(1),
    };
    cases_of(out, single(Op::ConvTranspose(convt), vec![t8("x", &[1, 2, 3, 3])], vec![t8("y", &[1, 2, 4, 4])]))
        .node("expects 1 input(s) and 1 output(s), has 1 and 2", |m| {
            m.tensors.push(t8("z", &[1]));
            m.nodes[0].outputs.push(2);
        })
        .node("ConvTranspose takes and gives int8", |m| m.tensors[0] = t64("x", &[1, 2, 3, 3]))
        .node("rank must be 2 + spatial rank", |m| set_shape(m, 0, &[1, 2, 3]))
        .node("attribute lengths differ from the kernel rank", |m| op!(m, ConvTranspose).output_padding = vec![0])
        .node("groups must divide both channel counts; batch must match", |m| op!(m, ConvTranspose).groups = 3)
        .node("weights or bias length", |m| op!(m, ConvTranspose).weights.truncate(15))
        .node("weights or bias length", |m| op!(m, ConvTranspose).bias.truncate(1))
        .node("epilogue needs one multiplier or one per channel", |m| op!(m, ConvTranspose).epilogue.multipliers = vec![M; 4])
        .node("multiplier out of range", |m| op!(m, ConvTranspose).epilogue.multipliers = vec![BAD_M])
        .node("output zero point or clamp out of range", |m| {
            let e = &mut op!(m, ConvTranspose).epilogue;
            (e.clamp_min, e.clamp_max) = (127, 126);
        })
        .node("output channel 1: the int32 accumulator can overflow", |m| op!(m, ConvTranspose).bias[1] = i32::MAX - 8 * 255 + 1)
        .node("input zero point out of int8 range", |m| op!(m, ConvTranspose).input_zero_point = 1000)
        .node("strides, dilations, kernel and input must be ≥ 1", |m| op!(m, ConvTranspose).strides = vec![1, 0])
        .node("strides, dilations, kernel and input must be ≥ 1", |m| op!(m, ConvTranspose).dilations = vec![0, 1])
        .node("strides, dilations, kernel and input must be ≥ 1", |m| {
            set_shape(m, 0, &[1, 2, 0, 3]);
            set_shape(m, 1, &[1, 2, 1, 4]);
        })
        .node("output spatial shape does not follow from the attributes", |m| op!(m, ConvTranspose).pads_begin = vec![0, 1]);

    // ---- Binary (Add/Sub/Mul) ----
    let binary = Binary {
        kind: BinaryKind::Add,
        a_zero_point: 0,
        b_zero_point: 0,
        left_shift: 20,
        a_multiplier: M,
        b_multiplier: M,
        output_multiplier: M,
        output_zero_point: 0,
        clamp_min: -128,
        clamp_max: 127,
    };
    cases_of(out, single(Op::Binary(binary), vec![t8("a", &[2, 3]), t8("b", &[3])], vec![t8("y", &[2, 3])]))
        .node("expects 2 input(s) and 1 output(s), has 1 and 1", |m| m.nodes[0].inputs = vec![0])
        .node("Binary ops take and give int8", |m| m.tensors[1] = t64("b", &[3]))
        .node("output shape is not the broadcast of the inputs", |m| set_shape(m, 1, &[2]))
        .node("output shape is not the broadcast of the inputs", |m| set_shape(m, 2, &[3, 3]))
        .node("multiplier out of range", |m| op!(m, Binary).a_multiplier = BAD_M)
        .node("multiplier out of range", |m| op!(m, Binary).b_multiplier = BAD_M)
        .node("multiplier out of range", |m| op!(m, Binary).output_multiplier = BAD_M)
        .node("multiplier out of range", |m| op!(m, Binary).left_shift = 21)
        .node("Add/Sub input multipliers must be < 1", |m| op!(m, Binary).a_multiplier = Multiplier { multiplier: 1 << 30, shift: 1 })
        .node("Add/Sub input multipliers must be < 1", |m| op!(m, Binary).b_multiplier = Multiplier { multiplier: 1 << 30, shift: 1 })
        .node("zero point out of range", |m| op!(m, Binary).a_zero_point = 128)
        .node("zero point out of range", |m| op!(m, Binary).b_zero_point = -129)
        .node("zero point out of range", |m| op!(m, Binary).output_zero_point = 300)
        .node("clamp_min > clamp_max", |m| {
            let b = op!(m, Binary);
            (b.clamp_min, b.clamp_max) = (1, 0);
        });

    // ---- MatMul ----
    let mm = MatMul { a_zero_point: 0, b_zero_point: 0, multiplier: M, output_zero_point: 0 };
    cases_of(out, single(Op::MatMul(mm), vec![t8("a", &[2, 3]), t8("b", &[3, 4])], vec![t8("y", &[2, 4])]))
        .node("expects 2 input(s) and 1 output(s), has 3 and 1", |m| m.nodes[0].inputs = vec![0, 1, 0])
        .node("MatMul takes and gives int8", |m| m.tensors[2] = t64("y", &[2, 4]))
        .node("operands must have rank ≥ 2", |m| {
            set_shape(m, 1, &[3]);
            set_shape(m, 2, &[2]);
        })
        .node("inner dimensions must match and be in 1..=33025", |m| set_shape(m, 1, &[4, 4]))
        .node("inner dimensions must match and be in 1..=33025", |m| {
            set_shape(m, 0, &[2, 0]);
            set_shape(m, 1, &[0, 4]);
        })
        .node("inner dimensions must match and be in 1..=33025", |m| {
            set_shape(m, 0, &[2, 33026]);
            set_shape(m, 1, &[33026, 4]);
        })
        .node("batch axes do not broadcast", |m| {
            set_shape(m, 0, &[2, 2, 3]);
            set_shape(m, 1, &[3, 3, 4]);
            set_shape(m, 2, &[2, 2, 4]);
        })
        .node("output shape", |m| set_shape(m, 2, &[2, 5]))
        .node("output shape", |m| set_shape(m, 2, &[1, 2, 4]))
        .node("multiplier or zero points out of range", |m| op!(m, MatMul).multiplier = BAD_M)
        .node("multiplier or zero points out of range", |m| op!(m, MatMul).a_zero_point = 128)
        .node("multiplier or zero points out of range", |m| op!(m, MatMul).b_zero_point = -129)
        .node("multiplier or zero points out of range", |m| op!(m, MatMul).output_zero_point = 128);

    // ---- BinaryLut ----
    cases_of(out, single(Op::BinaryLut { table: vec![0; 65536] }, vec![t8("a", &[2, 3]), t8("b", &[1, 3])], vec![t8("y", &[2, 3])]))
        .node("expects 2 input(s) and 1 output(s), has 1 and 1", |m| m.nodes[0].inputs = vec![1])
        .node("BinaryLut takes and gives int8", |m| m.tensors[0] = t64("a", &[2, 3]))
        .node("table must have 65536 entries", |m| m.nodes[0].op = Op::BinaryLut { table: vec![0; 65535] })
        .node("output shape is not the broadcast of the inputs", |m| set_shape(m, 1, &[2, 2]));

    // ---- GatherDynamic ----
    cases_of(out, single(Op::GatherDynamic { axis: 0 }, vec![t8("x", &[4, 3]), t64("i", &[2])], vec![t8("y", &[2, 3])]))
        .node("expects 2 input(s) and 1 output(s), has 1 and 1", |m| m.nodes[0].inputs = vec![0])
        .node("data keeps its type; indices are i64", |m| m.tensors[2].quant = Some(Quant { scale: 0.2, zero_point: 0 }))
        .node("data keeps its type; indices are i64", |m| m.tensors[2] = t64("y", &[2, 3]))
        .node("data keeps its type; indices are i64", |m| m.tensors[1] = t8("i", &[2]))
        .node("axis out of range or empty", |m| m.nodes[0].op = Op::GatherDynamic { axis: 2 })
        .node("axis out of range or empty", |m| {
            set_shape(m, 0, &[0, 3]);
        })
        .node("output shape != data[:axis] + indices + data[axis+1:]", |m| set_shape(m, 2, &[3, 2]))
        .node("output shape != data[:axis] + indices + data[axis+1:]", |m| m.nodes[0].op = Op::GatherDynamic { axis: 1 });

    // ---- InstanceNorm ----
    let inn =
        InstanceNorm { input_zero_point: 0, output_zero_point: 0, epsilon_term: 1, gamma_q16: vec![1 << 16; 2], beta_q16: vec![0; 2] };
    cases_of(out, single(Op::InstanceNorm(inn), vec![t8("x", &[1, 2, 3])], vec![t8("y", &[1, 2, 3])]))
        .node("expects 1 input(s) and 1 output(s), has 2 and 1", |m| m.nodes[0].inputs = vec![0, 0])
        .node("InstanceNorm takes and gives int8", |m| m.tensors[1] = t64("y", &[1, 2, 3]))
        .node("shape must be kept, rank ≥ 3", |m| set_shape(m, 1, &[1, 3, 2]))
        .node("shape must be kept, rank ≥ 3", |m| {
            set_shape(m, 0, &[1, 2]);
            set_shape(m, 1, &[1, 2]);
        })
        .node("plane size must be in 1..=2^16", |m| {
            set_shape(m, 0, &[1, 2, 0]);
            set_shape(m, 1, &[1, 2, 0]);
        })
        .node("plane size must be in 1..=2^16", |m| {
            set_shape(m, 0, &[1, 2, 256, 257]);
            set_shape(m, 1, &[1, 2, 256, 257]);
        })
        .node("one gamma and beta per channel", |m| op!(m, InstanceNorm).gamma_q16.push(0))
        .node("one gamma and beta per channel", |m| op!(m, InstanceNorm).beta_q16.truncate(1))
        .node("gamma/beta out of range", |m| op!(m, InstanceNorm).gamma_q16[1] = -(1 << 36) - 1)
        .node("gamma/beta out of range", |m| op!(m, InstanceNorm).beta_q16[0] = (1 << 36) + 1)
        .node("epsilon term out of range", |m| op!(m, InstanceNorm).epsilon_term = -1)
        .node("epsilon term out of range", |m| op!(m, InstanceNorm).epsilon_term = (1 << 53) + 1)
        .node("zero point out of range", |m| op!(m, InstanceNorm).input_zero_point = 128)
        .node("zero point out of range", |m| op!(m, InstanceNorm).output_zero_point = -129);

    // ---- IntBinary ----
    cases_of(out, single(Op::IntBinary { kind: IntBinaryKind::Mul }, vec![t64("a", &[2, 3]), t64("b", &[3])], vec![t64("y", &[2, 3])]))
        .node("expects 2 input(s) and 1 output(s), has 2 and 2", |m| {
            m.tensors.push(t64("z", &[1]));
            m.nodes[0].outputs.push(3);
        })
        .node("IntBinary takes and gives i64", |m| m.tensors[0] = t8("a", &[2, 3]))
        .node("IntBinary takes and gives i64", |m| m.tensors[2] = t8("y", &[2, 3]))
        .node("output shape is not the broadcast of the inputs", |m| set_shape(m, 1, &[4]));

    // ---- Lrn ----
    let lrn = Lrn { size: 3, input_zero_point: 0, output_zero_point: 0, sum_shift: 0, factors: vec![1 << 16], multiplier: M };
    cases_of(out, single(Op::Lrn(lrn), vec![t8("x", &[1, 3, 2])], vec![t8("y", &[1, 3, 2])]))
        .node("expects 1 input(s) and 1 output(s), has 0 and 1", |m| m.nodes[0].inputs = vec![])
        .node("Lrn takes and gives int8", |m| m.tensors[1] = t64("y", &[1, 3, 2]))
        .node("shape must be kept, rank ≥ 2", |m| set_shape(m, 1, &[1, 2, 3]))
        .node("shape must be kept, rank ≥ 2", |m| {
            set_shape(m, 0, &[6]);
            set_shape(m, 1, &[6]);
        })
        .node("size in 1..=4096, sum_shift ≤ 40", |m| op!(m, Lrn).size = 0)
        .node("size in 1..=4096, sum_shift ≤ 40", |m| op!(m, Lrn).size = 4097)
        .node("size in 1..=4096, sum_shift ≤ 40", |m| op!(m, Lrn).sum_shift = 41)
        .node("factors: 1..=4096 entries in 0..=2^23", |m| op!(m, Lrn).factors = vec![])
        .node("factors: 1..=4096 entries in 0..=2^23", |m| op!(m, Lrn).factors = vec![0; 4097])
        .node("factors: 1..=4096 entries in 0..=2^23", |m| op!(m, Lrn).factors = vec![-1])
        .node("factors: 1..=4096 entries in 0..=2^23", |m| op!(m, Lrn).factors = vec![(1 << 23) + 1])
        .node("multiplier or zero points out of range", |m| op!(m, Lrn).multiplier = BAD_M)
        .node("multiplier or zero points out of range", |m| op!(m, Lrn).input_zero_point = -200)
        .node("multiplier or zero points out of range", |m| op!(m, Lrn).output_zero_point = 200);

    // ---- Normalize ----
    let norm = Normalize { kind: NormKind::L2, input_zero_point: 0, output_zero_point: 0, scale_log2: 7 };
    let mut y = t8("y", &[2, 4]);
    y.quant = Some(Quant { scale: 1.0 / 128.0, zero_point: 0 });
    cases_of(out, single(Op::Normalize(norm), vec![t8("x", &[2, 4])], vec![y]))
        .node("expects 1 input(s) and 1 output(s), has 2 and 1", |m| m.nodes[0].inputs = vec![0, 0])
        .node("Normalize takes and gives int8", |m| m.tensors[0] = t64("x", &[2, 4]))
        .node("shape must be kept; rows of at most 2^16", |m| set_shape(m, 1, &[4, 2]))
        .node("shape must be kept; rows of at most 2^16", |m| {
            set_shape(m, 0, &[]);
            set_shape(m, 1, &[]);
        })
        .node("shape must be kept; rows of at most 2^16", |m| {
            set_shape(m, 0, &[1, 65537]);
            set_shape(m, 1, &[1, 65537]);
        })
        .node("scale_log2 ≤ 8, zero points in range", |m| op!(m, Normalize).scale_log2 = 9)
        .node("scale_log2 ≤ 8, zero points in range", |m| op!(m, Normalize).input_zero_point = 128)
        .node("scale_log2 ≤ 8, zero points in range", |m| op!(m, Normalize).output_zero_point = -129)
        .node("the output scale must be 2^−scale_log2", |m| op!(m, Normalize).scale_log2 = 8);

    // ---- Max / Min ----
    cases_of(out, single(Op::Extremum(Extremum::Max), vec![t8("a", &[2, 3]), t8("b", &[3])], vec![t8("y", &[2, 3])]))
        .node("expects 2 input(s) and 1 output(s), has 1 and 1", |m| m.nodes[0].inputs = vec![0])
        .node("Max/Min take and give int8", |m| m.tensors[1] = t64("b", &[3]))
        .node("inputs must share the output's quantization", |m| m.tensors[0].quant = Some(Quant { scale: 0.1, zero_point: 1 }))
        .node("inputs must share the output's quantization", |m| m.tensors[1].quant = Some(Quant { scale: 0.2, zero_point: 0 }))
        .node("output shape is not the broadcast of the inputs", |m| set_shape(m, 2, &[2, 1]));

    // ---- Lut ----
    cases_of(out, single(Op::Lut(Lut { axis: Some(1), tables: vec![0; 3 * 256] }), vec![t8("x", &[2, 3])], vec![t8("y", &[2, 3])]))
        .node("expects 1 input(s) and 1 output(s), has 2 and 1", |m| m.nodes[0].inputs = vec![0, 0])
        .node("Lut takes and gives int8", |m| m.tensors[1] = t64("y", &[2, 3]))
        .node("shape changes", |m| set_shape(m, 1, &[3, 2]))
        .node("axis out of range", |m| op!(m, Lut).axis = Some(2))
        .node("tables length != 256 × tables", |m| op!(m, Lut).axis = Some(0))
        .node("tables length != 256 × tables", |m| op!(m, Lut).axis = None);

    // ---- View ----
    cases_of(out, single(Op::View(View { offset: 0, strides: vec![3, 1] }), vec![t8("x", &[6])], vec![t8("y", &[2, 3])]))
        .node("expects 1 input(s) and 1 output(s), has 2 and 1", |m| m.nodes[0].inputs = vec![0, 0])
        .node("a view keeps type and quantization", |m| m.tensors[1].quant = Some(Quant { scale: 0.1, zero_point: 3 }))
        .node("a view keeps type and quantization", |m| m.tensors[1] = t64("y", &[2, 3]))
        .node("one stride per output axis", |m| op!(m, View).strides = vec![1])
        .node("view reads outside its input", |m| op!(m, View).offset = 1)
        .node("view reads outside its input", |m| op!(m, View).strides = vec![-3, 1])
        .node("view reads outside its input", |m| op!(m, View).strides = vec![4, 1]);

    // ---- Pad ----
    let pad = Pad { pads_begin: vec![1], pads_end: vec![1], mode: PadMode::Constant, value: 0 };
    cases_of(out, single(Op::Pad(pad), vec![t8("x", &[3])], vec![t8("y", &[5])]))
        .node("expects 1 input(s) and 1 output(s), has 2 and 1", |m| m.nodes[0].inputs = vec![0, 0])
        .node("pad keeps type and quantization", |m| m.tensors[1].quant = Some(Quant { scale: 0.5, zero_point: 0 }))
        .node("pads rank", |m| op!(m, Pad).pads_end = vec![1, 0])
        .node("pads rank", |m| set_shape(m, 1, &[5, 1]))
        .node("output shape != input + pads", |m| set_shape(m, 1, &[6]))
        .node("pad value out of int8 range", |m| op!(m, Pad).value = 128)
        .node("reflect pads must be smaller than the axis (edge: the axis non-empty)", |m| {
            let p = op!(m, Pad);
            p.mode = PadMode::Reflect;
            p.pads_begin = vec![3];
            set_shape(m, 1, &[7]);
        })
        .node("reflect pads must be smaller than the axis (edge: the axis non-empty)", |m| {
            op!(m, Pad).mode = PadMode::Edge;
            set_shape(m, 0, &[0]);
            set_shape(m, 1, &[2]);
        });

    // ---- Concat ----
    cases_of(out, single(Op::Concat { axis: 1 }, vec![t8("a", &[2, 3]), t8("b", &[2, 2])], vec![t8("y", &[2, 5])]))
        .node("needs inputs and one output", |m| m.nodes[0].inputs = vec![])
        .node("needs inputs and one output", |m| {
            m.tensors.push(t8("z", &[2, 5]));
            m.nodes[0].outputs.push(3);
        })
        .node("axis out of range", |m| m.nodes[0].op = Op::Concat { axis: 2 })
        .node("inputs share the output's type, quantization and rank", |m| m.tensors[1].quant = Some(Quant { scale: 0.1, zero_point: 2 }))
        .node("inputs share the output's type, quantization and rank", |m| set_shape(m, 1, &[2, 2, 1]))
        .node("non-axis dimensions differ", |m| set_shape(m, 1, &[1, 2]))
        .node("axis lengths do not add up", |m| set_shape(m, 2, &[2, 6]));

    // ---- MaxPool / AvgPool ----
    let pool = Pool {
        kernel: vec![2, 2],
        strides: vec![1, 1],
        dilations: vec![1, 1],
        pads_begin: vec![0, 0],
        pads_end: vec![0, 0],
        count_include_pad: false,
        zero_point: 0,
    };
    for avg in [false, true] {
        let op = if avg { Op::AvgPool(pool.clone()) } else { Op::MaxPool(pool.clone()) };
        cases_of(out, single(op, vec![t8("x", &[1, 1, 4, 4])], vec![t8("y", &[1, 1, 3, 3])]))
            .node("expects 1 input(s) and 1 output(s), has 2 and 1", |m| m.nodes[0].inputs = vec![0, 0])
            .node("pooling keeps int8 quantization", |m| m.tensors[1].quant = Some(Quant { scale: 0.3, zero_point: 0 }))
            .node("pooling keeps int8 quantization", |m| m.tensors[1] = t64("y", &[1, 1, 3, 3]))
            .node("zero_point differs from the input's", |m| pool_of(m).zero_point = 1)
            .node("rank must be 2 + spatial rank", |m| set_shape(m, 1, &[1, 2, 3, 3]))
            .node("rank must be 2 + spatial rank", |m| set_shape(m, 1, &[1, 1, 3]))
            .node("attribute lengths", |m| pool_of(m).dilations = vec![1])
            .node("output spatial shape does not follow from the attributes", |m| set_shape(m, 1, &[1, 1, 2, 3]))
            .node("output spatial shape does not follow from the attributes", |m| {
                set_shape(m, 1, &[1, 1, 4, 3]);
                pool_of(m).dilations = vec![0, 1];
            })
            .node("output spatial shape does not follow from the attributes", |m| {
                set_shape(m, 1, &[1, 1, 5, 3]);
                pool_of(m).kernel = vec![0, 2];
            })
            .node("a pad is not smaller than the window", |m| {
                set_shape(m, 1, &[1, 1, 5, 3]);
                pool_of(m).pads_end = vec![2, 0];
            })
            .node("window of more than 8,421,504 taps", |m| {
                set_shape(m, 0, &[1, 1, 2902, 2902]);
                set_shape(m, 1, &[1, 1, 1, 1]);
                pool_of(m).kernel = vec![2902, 2902];
            })
            .node("more than 2^40 window taps in all", |m| {
                set_shape(m, 0, &[1, 1, 2048 + 512, 2048 + 511]);
                set_shape(m, 1, &[1, 1, 513, 512]);
                pool_of(m).kernel = vec![2048, 2048];
            });
    }

    // ---- Reduce ----
    let reduce = Reduce { kind: ReduceKind::Sum, axes: vec![1], input_zero_point: 0, multiplier: M, output_zero_point: 0 };
    cases_of(out, single(Op::Reduce(reduce), vec![t8("x", &[2, 3])], vec![t8("y", &[2, 1])]))
        .node("expects 1 input(s) and 1 output(s), has 2 and 1", |m| m.nodes[0].inputs = vec![0, 0])
        .node("Reduce takes and gives int8", |m| m.tensors[1] = t64("y", &[2, 1]))
        .node("axes out of range or repeated", |m| op!(m, Reduce).axes = vec![2])
        .node("axes out of range or repeated", |m| op!(m, Reduce).axes = vec![1, 1])
        .node("output length != product of kept axes", |m| set_shape(m, 1, &[3]))
        .node("output length != product of kept axes", |m| {
            set_shape(m, 0, &[0, 3]);
            set_shape(m, 1, &[0]);
        })
        .node("too many reduced elements for an i32 sum", |m| {
            set_shape(m, 0, &[1, 8_421_505]);
            set_shape(m, 1, &[1]);
        })
        .node("zero point out of range", |m| op!(m, Reduce).input_zero_point = 128)
        .node("zero point out of range", |m| op!(m, Reduce).output_zero_point = -129)
        .node("multiplier out of range", |m| op!(m, Reduce).multiplier = BAD_M);

    // ---- CumSum ----
    let cum = CumSum { axis: 1, exclusive: false, reverse: true, input_zero_point: 0, multiplier: M, output_zero_point: 0 };
    cases_of(out, single(Op::CumSum(cum), vec![t8("x", &[2, 3])], vec![t8("y", &[2, 3])]))
        .node("expects 1 input(s) and 1 output(s), has 2 and 1", |m| m.nodes[0].inputs = vec![0, 0])
        .node("CumSum takes and gives int8", |m| m.tensors[1] = t64("y", &[2, 3]))
        .node("shape must be kept; axis < rank", |m| set_shape(m, 1, &[3, 2]))
        .node("shape must be kept; axis < rank", |m| op!(m, CumSum).axis = 2)
        .node("axis longer than 8,421,504 (an i32 sum)", |m| {
            set_shape(m, 0, &[1, 8_421_505]);
            set_shape(m, 1, &[1, 8_421_505]);
        })
        .node("zero point out of range", |m| op!(m, CumSum).input_zero_point = 128)
        .node("zero point out of range", |m| op!(m, CumSum).output_zero_point = -129)
        .node("multiplier out of range", |m| op!(m, CumSum).multiplier = BAD_M);

    // ---- Softmax ----
    let exp_table: Vec<u32> = (0..256u32).map(|d| 65536 >> (d / 16)).collect();
    let softmax = Softmax { axis: 1, exp_table: exp_table.clone() };
    cases_of(out, single(Op::Softmax(softmax), vec![t8("x", &[2, 4])], vec![t8("y", &[2, 4])]))
        .node("expects 1 input(s) and 1 output(s), has 2 and 1", |m| m.nodes[0].inputs = vec![0, 0])
        .node("Softmax takes and gives int8", |m| m.tensors[1] = t64("y", &[2, 4]))
        .node("shape or axis", |m| set_shape(m, 1, &[4, 2]))
        .node("shape or axis", |m| op!(m, Softmax).axis = 2)
        .node("softmax axis longer than 32768", |m| {
            set_shape(m, 0, &[1, 32769]);
            set_shape(m, 1, &[1, 32769]);
        })
        .node("exp table must have 256 entries ≤ 2^16, the first 2^16", |m| op!(m, Softmax).exp_table.truncate(255))
        .node("exp table must have 256 entries ≤ 2^16, the first 2^16", |m| op!(m, Softmax).exp_table[5] = 65537)
        .node("exp table must have 256 entries ≤ 2^16, the first 2^16", |m| op!(m, Softmax).exp_table[0] = 65535);

    // ---- LogSoftmax ----
    let log_softmax = LogSoftmax {
        axis: 1,
        exp_table,
        ln_table: (0..256).map(|i| i * 177).collect(),
        input_scale_q16: 6554,
        multiplier: M,
        output_zero_point: 0,
    };
    cases_of(out, single(Op::LogSoftmax(log_softmax), vec![t8("x", &[2, 4])], vec![t8("y", &[2, 4])]))
        .node("expects 1 input(s) and 1 output(s), has 2 and 1", |m| m.nodes[0].inputs = vec![0, 0])
        .node("LogSoftmax takes and gives int8", |m| m.tensors[0] = t64("x", &[2, 4]))
        .node("shape or axis", |m| set_shape(m, 1, &[8]))
        .node("shape or axis", |m| op!(m, LogSoftmax).axis = 5)
        .node("axis longer than 16384", |m| {
            set_shape(m, 0, &[1, 16385]);
            set_shape(m, 1, &[1, 16385]);
        })
        .node("exp table must have 256 entries ≤ 2^16, the first 2^16", |m| op!(m, LogSoftmax).exp_table.push(0))
        .node("exp table must have 256 entries ≤ 2^16, the first 2^16", |m| op!(m, LogSoftmax).exp_table[0] = 1)
        .node("ln table must have 256 entries in 0..=ln2·2^16", |m| op!(m, LogSoftmax).ln_table.truncate(255))
        .node("ln table must have 256 entries in 0..=ln2·2^16", |m| op!(m, LogSoftmax).ln_table[3] = -1)
        .node("ln table must have 256 entries in 0..=ln2·2^16", |m| op!(m, LogSoftmax).ln_table[255] = solidml_spec::LN2_Q16 + 1)
        .node("scale, multiplier or zero point out of range", |m| op!(m, LogSoftmax).input_scale_q16 = -1)
        .node("scale, multiplier or zero point out of range", |m| op!(m, LogSoftmax).input_scale_q16 = (1 << 22) + 1)
        .node("scale, multiplier or zero point out of range", |m| op!(m, LogSoftmax).multiplier = BAD_M)
        .node("scale, multiplier or zero point out of range", |m| op!(m, LogSoftmax).output_zero_point = 128);

    // ---- ArgMax ----
    cases_of(out, single(Op::ArgMax { axis: 1, select_last_index: false }, vec![t8("x", &[2, 3])], vec![t64("y", &[2])]))
        .node("expects 1 input(s) and 1 output(s), has 2 and 1", |m| m.nodes[0].inputs = vec![0, 0])
        .node("int8 in, i64 out", |m| m.tensors[1] = t8("y", &[2]))
        .node("int8 in, i64 out", |m| m.tensors[0] = t64("x", &[2, 3]))
        .node("axis out of range", |m| m.nodes[0].op = Op::ArgMax { axis: 2, select_last_index: true })
        .node("output length", |m| set_shape(m, 1, &[3]))
        .node("output length", |m| {
            set_shape(m, 0, &[2, 0]);
            set_shape(m, 1, &[0]);
        });

    // ---- Take ----
    cases_of(out, single(Op::Take { table: vec![5, 6] }, vec![t64("x", &[2])], vec![t64("y", &[2])]))
        .node("expects 1 input(s) and 1 output(s), has 2 and 1", |m| m.nodes[0].inputs = vec![0, 0])
        .node("i64 in and out, same length, non-empty table", |m| m.tensors[0] = t8("x", &[2]))
        .node("i64 in and out, same length, non-empty table", |m| m.tensors[1] = t8("y", &[2]))
        .node("i64 in and out, same length, non-empty table", |m| set_shape(m, 1, &[3]))
        .node("i64 in and out, same length, non-empty table", |m| m.nodes[0].op = Op::Take { table: vec![] });

    // ---- Gather ----
    cases_of(out, single(Op::Gather { axis: 0, indices: vec![0, 3] }, vec![t8("x", &[4, 3])], vec![t8("y", &[2, 3])]))
        .node("expects 1 input(s) and 1 output(s), has 2 and 1", |m| m.nodes[0].inputs = vec![0, 0])
        .node("gather keeps type and quantization", |m| m.tensors[1].quant = Some(Quant { scale: 0.1, zero_point: 9 }))
        .node("axis out of range", |m| m.nodes[0].op = Op::Gather { axis: 2, indices: vec![0, 1] })
        .node("index out of range", |m| m.nodes[0].op = Op::Gather { axis: 0, indices: vec![0, 4] })
        .node("output length", |m| set_shape(m, 1, &[3, 3]))
        .node("output length", |m| {
            // an empty gathered axis takes no index and gives no element: a 12-element output
            // would be left undefined
            set_shape(m, 0, &[0, 1]);
            set_shape(m, 1, &[2, 2, 1, 3]);
            m.nodes[0].op = Op::Gather { axis: 0, indices: vec![] };
        });

    // ---- TopK ----
    let top_k = |output| Op::TopK { axis: 1, k: 2, largest: true, output };
    cases_of(out, single(top_k(TopKOutput::Values), vec![t8("x", &[2, 3])], vec![t8("y", &[2, 2])]))
        .node("expects 1 input(s) and 1 output(s), has 1 and 2", |m| {
            m.tensors.push(t8("z", &[2, 2]));
            m.nodes[0].outputs.push(2);
        })
        .node("only DenseWide reads or writes int16 or int32 tensors", |m| {
            m.tensors[0] = TensorInfo { dtype: DType::I16, ..t8("x", &[2, 3]) };
            m.nodes[0].op = top_k(TopKOutput::Indices);
            m.tensors[1] = t64("y", &[2, 2]);
        })
        .node("values keep the input's type and quantization, indices are i64", |m| {
            m.tensors[1].quant = Some(Quant { scale: 0.1, zero_point: 1 })
        })
        .node("values keep the input's type and quantization, indices are i64", |m| m.tensors[1] = t64("y", &[2, 2]))
        .node("values keep the input's type and quantization, indices are i64", |m| m.nodes[0].op = top_k(TopKOutput::Indices))
        .node("axis out of range", |m| m.nodes[0].op = Op::TopK { axis: 2, k: 2, largest: false, output: TopKOutput::Values })
        .node("k larger than the axis", |m| {
            m.nodes[0].op = Op::TopK { axis: 1, k: 4, largest: true, output: TopKOutput::Values };
            set_shape(m, 1, &[2, 4]);
        })
        .node("output shape must be the input's with k along the axis", |m| set_shape(m, 1, &[2, 3]))
        .node("output shape must be the input's with k along the axis", |m| set_shape(m, 1, &[4]));
    // i64 data: values stay i64, and an empty lane gives k = 0
    cases_of(
        out,
        single(Op::TopK { axis: 0, k: 0, largest: false, output: TopKOutput::Values }, vec![t64("x", &[0, 2])], vec![t64("y", &[0, 2])]),
    )
    .node("values keep the input's type and quantization, indices are i64", |m| m.tensors[1] = t8("y", &[0, 2]))
    .node("k larger than the axis", |m| m.nodes[0].op = Op::TopK { axis: 0, k: 1, largest: false, output: TopKOutput::Indices });

    // ---- IntCompare ----
    let compare = Op::IntCompare(IntCompare { kind: CompareKind::Less, true_code: 127, false_code: -128 });
    cases_of(out, single(compare, vec![t64("a", &[2, 3]), t64("b", &[3])], vec![t8("y", &[2, 3])]))
        .node("expects 2 input(s) and 1 output(s), has 1 and 1", |m| m.nodes[0].inputs.truncate(1))
        .node("only DenseWide reads or writes int16 or int32 tensors", |m| {
            m.tensors[1] = TensorInfo { dtype: DType::I32, ..t8("b", &[3]) };
        })
        .node("IntCompare takes i64 and gives int8", |m| m.tensors[0] = t8("a", &[2, 3]))
        .node("IntCompare takes i64 and gives int8", |m| m.tensors[1] = t8("b", &[3]))
        .node("IntCompare takes i64 and gives int8", |m| m.tensors[2] = t64("y", &[2, 3]))
        .node("output shape is not the broadcast of the inputs", |m| set_shape(m, 2, &[3]))
        .node("output shape is not the broadcast of the inputs", |m| set_shape(m, 1, &[2]));

    // ---- IntLut ----
    cases_of(out, single(Op::IntLut { table: vec![0; 256] }, vec![t8("x", &[2, 3])], vec![t64("y", &[2, 3])]))
        .node("expects 1 input(s) and 1 output(s), has 2 and 1", |m| m.nodes[0].inputs.push(0))
        .node("IntLut takes int8 and gives i64", |m| m.tensors[0] = t64("x", &[2, 3]))
        .node("IntLut takes int8 and gives i64", |m| m.tensors[1] = t8("y", &[2, 3]))
        .node("output shape must be the input's", |m| set_shape(m, 1, &[3, 2]))
        .node("the table must hold 256 values", |m| m.nodes[0].op = Op::IntLut { table: vec![0; 255] });

    std::mem::take(out)
}

#[test]
fn every_broken_model_is_rejected_by_its_rule() {
    let cases = all_cases();
    let mut wrong = vec![];
    for c in &cases {
        let got = validate(&c.model);
        let ok = match (&got, &c.want) {
            (Err(SpecError::Invalid { rule, reason }), Want::Model(want_rule, want)) => rule == want_rule && reason == want,
            (Err(SpecError::InvalidNode { rule, node, op, reason }), Want::Node(want_op, want_rule, want)) => {
                node == "op" && op == want_op && rule == want_rule && reason == want
            }
            _ => false,
        };
        if !ok {
            wrong.push(format!("{}: got {got:?}", c.label));
        }
    }
    assert!(wrong.is_empty(), "{} of {} cases rejected otherwise than expected:\n{}", wrong.len(), cases.len(), wrong.join("\n"));
    eprintln!("{} broken models, each rejected by the rule it breaks", cases.len());
}

/// The error messages of `src/validate.rs`: every string literal from `pub fn validate(` on
/// (comments dropped), `{…}` placeholders kept.
fn messages_in_source() -> Vec<String> {
    let src = include_str!("../src/validate.rs");
    let body = &src[src.find("pub fn validate(").expect("validate() in validate.rs")..];
    let code: String = body.lines().map(|l| l.find("//").map_or(l, |i| &l[..i])).collect::<Vec<_>>().join("\n");
    let mut out = vec![];
    let mut chars = code.chars();
    while let Some(c) = chars.next() {
        if c == '\'' {
            // a char literal such as '"' would confuse the scan: validate.rs has none
            continue;
        }
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        loop {
            match chars.next().expect("unterminated string literal") {
                '\\' => s.push(chars.next().unwrap()),
                '"' => break,
                ch => s.push(ch),
            }
        }
        out.push(s);
    }
    out
}

/// Whether `message` is an instance of the format string `template` (placeholders `{…}` match
/// anything).
fn instance_of(message: &str, template: &str) -> bool {
    let mut parts = vec![];
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        parts.push(&rest[..open]);
        rest = &rest[open + rest[open..].find('}').expect("closed placeholder") + 1..];
    }
    parts.push(rest);
    if parts.len() == 1 {
        return message == template;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !message.starts_with(first) || !message.ends_with(last) || message.len() < first.len() + last.len() {
        return false;
    }
    let mut at = first.len();
    for p in &parts[1..parts.len() - 1] {
        match message[at..message.len() - last.len()].find(p) {
            Some(i) => at += i + p.len(),
            None => return false,
        }
    }
    true
}

#[test]
fn every_message_of_validate_rs_has_a_negative_case() {
    let expected: Vec<String> = all_cases()
        .into_iter()
        .map(|c| match c.want {
            Want::Model(_, m) | Want::Node(_, _, m) => m,
        })
        .collect();
    let messages = messages_in_source();
    assert!(messages.len() > 80, "the scan of validate.rs found only {} literals", messages.len());
    let uncovered: Vec<&String> = messages.iter().filter(|t| !expected.iter().any(|m| instance_of(m, t))).collect();
    assert!(uncovered.is_empty(), "messages of validate.rs that no negative case expects: {uncovered:#?}");
}

// ---- validation vectors: docs/spec/validation.json ----

/// `MAGIC ++ version ++ postcard(model)` (version 2: `++ postcard(input_quant)`) without
/// validating (what `encode` refuses to write).
fn raw_artifact(model: &Model) -> Vec<u8> {
    let mut bytes = solidml_spec::artifact::MAGIC.to_vec();
    let per_axis = !model.input_quant.is_empty();
    let version = if per_axis { solidml_spec::artifact::FORMAT_VERSION_INPUT_QUANT } else { solidml_spec::artifact::FORMAT_VERSION };
    bytes.extend_from_slice(&version.to_le_bytes());
    bytes.extend(postcard::to_stdvec(model).expect("postcard encodes every model"));
    if per_axis {
        bytes.extend(postcard::to_stdvec(&model.input_quant).expect("postcard encodes every list"));
    }
    bytes
}

/// The artifact-level cases of spec §Artifact format's decoding steps, on a valid base
/// artifact: `(name, bytes, rule)`. `artifact.size` has no vector (a 256 MiB file); its bound
/// is a constant any reader checks first.
fn artifact_cases() -> Vec<(String, Vec<u8>, Rule)> {
    let base = all_cases().remove(0).model;
    let mut base = base;
    base.inputs = vec![0];
    base.outputs = vec![1];
    base.tensors.truncate(2);
    base.constants.clear();
    base.nodes.truncate(1);
    base.nodes[0].inputs = vec![0];
    base.nodes[0].outputs = vec![1];
    base.tensors[1].shape = vec![1, 2];
    let good = solidml_spec::artifact::encode(&base).expect("the base artifact is valid");
    let name_len = base.name.len() as u8;
    assert_eq!(good[10], name_len, "the model name's length is the first postcard byte");
    let edit = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = good.clone();
        f(&mut b);
        b
    };
    // the first dimension of tensor `x`: after the tensor count, its name `01 'x'` and its rank
    let dim_at = 10 + 1 + name_len as usize + 1 + 2 + 1;
    assert_eq!(&good[dim_at - 3..dim_at], &[1, b'x', 2], "tensor `x` of rank 2 after the model name");
    assert_eq!(good[dim_at], 1, "x's first dimension is 1");
    // the node's op variant index: the byte after the node name (`op`: 0x02 'o' 'p')
    let op_at = good.windows(3).position(|w| w == [2, b'o', b'p']).expect("node named `op`") + 3;
    assert_eq!(good[op_at], 1, "the base node is a Dense (variant 1)");
    vec![
        ("empty".into(), vec![], Rule::ArtifactMagic),
        ("magic_only_9_bytes".into(), good[..9].to_vec(), Rule::ArtifactMagic),
        ("magic_wrong_byte".into(), edit(&|b| b[6] = b'X'), Rule::ArtifactMagic),
        ("version_0".into(), edit(&|b| b[8] = 0), Rule::ArtifactVersion),
        ("version_3".into(), edit(&|b| b[8] = 3), Rule::ArtifactVersion),
        // version 2 carries a non-empty per-axis input quantization after the body
        ("version_2_without_input_quant".into(), edit(&|b| b[8] = 2), Rule::ArtifactDecode),
        (
            "version_2_empty_input_quant".into(),
            edit(&|b| {
                b[8] = 2;
                b.push(0)
            }),
            Rule::ArtifactCanonical,
        ),
        ("version_256".into(), edit(&|b| b[9] = 1), Rule::ArtifactVersion),
        ("header_only".into(), good[..10].to_vec(), Rule::ArtifactDecode),
        ("truncated_last_byte".into(), good[..good.len() - 1].to_vec(), Rule::ArtifactDecode),
        ("trailing_byte".into(), edit(&|b| b.push(0)), Rule::ArtifactDecode),
        ("op_variant_out_of_range".into(), edit(&|b| b[op_at] = 26), Rule::ArtifactDecode),
        ("name_not_utf8".into(), edit(&|b| b[11] = 0xff), Rule::ArtifactDecode),
        ("name_length_overlong_varint".into(), edit(&|b| b.splice(10..11, [name_len | 0x80, 0]).for_each(drop)), Rule::ArtifactCanonical),
        // a length varint may take up to 10 bytes (over-long: canonical), not 11 (decode)
        (
            "name_length_varint_10_bytes".into(),
            edit(&|b| b.splice(10..11, [name_len | 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0]).for_each(drop)),
            Rule::ArtifactCanonical,
        ),
        (
            "name_length_varint_11_bytes".into(),
            edit(&|b| b.splice(10..11, [name_len | 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0]).for_each(drop)),
            Rule::ArtifactDecode,
        ),
        // a u32 (the first dimension of tensor `x`) takes at most 5 bytes
        (
            "u32_varint_5_bytes".into(),
            edit(&|b| b.splice(dim_at..dim_at + 1, [0x81, 0x80, 0x80, 0x80, 0]).for_each(drop)),
            Rule::ArtifactCanonical,
        ),
        (
            "u32_varint_6_bytes".into(),
            edit(&|b| b.splice(dim_at..dim_at + 1, [0x81, 0x80, 0x80, 0x80, 0x80, 0]).for_each(drop)),
            Rule::ArtifactDecode,
        ),
        (
            "u32_varint_above_u32_max".into(),
            edit(&|b| b.splice(dim_at..dim_at + 1, [0xff, 0xff, 0xff, 0xff, 0x1f]).for_each(drop)),
            Rule::ArtifactDecode,
        ),
    ]
}

fn validation_vectors_text() -> String {
    let mut lines = vec![];
    let mut push = |name: &str, bytes: &[u8], rule: Rule, err: String| {
        let case =
            serde_json::json!({"name": name, "artifact": format!("0x{}", hex::encode(bytes)), "rule": rule.to_string(), "error": err});
        lines.push(serde_json::to_string(&case).unwrap());
    };
    for (name, bytes, rule) in artifact_cases() {
        let err = solidml_spec::artifact::decode(&bytes).expect_err(&name);
        assert_eq!(err.rule(), Some(rule), "{name}: {err}");
        push(&name, &bytes, rule, err.to_string());
    }
    for (i, c) in all_cases().iter().enumerate() {
        let bytes = raw_artifact(&c.model);
        let err = solidml_spec::artifact::decode(&bytes).expect_err(&c.label);
        let rule = err.rule().expect("a rule");
        let want = match &c.want {
            Want::Model(r, _) | Want::Node(_, r, _) => *r,
        };
        assert_eq!(rule, want, "{}: {err}", c.label);
        push(&format!("{}_{i}", rule.to_string().replace('.', "_").to_lowercase()), &bytes, rule, err.to_string());
    }
    format!("{{\"kind\": \"validation\", \"spec\": \"docs/spec.md#validation-rules\", \"cases\": [\n{}\n]}}\n", lines.join(",\n"))
}

/// Regenerates `docs/spec/validation.json` (every broken model of this file, as an
/// artifact, plus the artifact-level cases) and checks the committed file equals it;
/// `SOLIDML_BLESS=1` rewrites it. Each case is also decoded here: it must be rejected by its rule.
#[test]
fn validation_vectors_match_the_committed_file() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/spec/validation.json");
    let text = validation_vectors_text();
    if std::env::var_os("SOLIDML_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(committed == text, "{} differs from the generated vectors (SOLIDML_BLESS=1 rewrites it)", path.display());
}
