//! Builders shared by the CLI's test crates: `.npy` files and ONNX models written byte by byte
//! (onnx-protobuf), so each test states the exact file it feeds the binary.

#![allow(dead_code)] // each test crate uses its own subset

/// A version-1.0 `.npy` file: `header` (a dict literal) padded to 64 bytes, then `data` zeros.
pub(crate) fn npy(header: &str, data: usize) -> Vec<u8> {
    let mut h = header.to_string();
    while !(10 + h.len() + 1).is_multiple_of(64) {
        h.push(' ');
    }
    h.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend_from_slice(&(h.len() as u16).to_le_bytes());
    b.extend_from_slice(h.as_bytes());
    b.resize(b.len() + data, 0);
    b
}

/// A version-1.0 `.npy` file of float32 values.
pub(crate) fn npy_f32(shape: &[usize], values: &[f32]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let mut b = npy(&format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({},), }}", dims.join(", ")), 0);
    b.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    b
}

/// A float32 graph input or output named `name` with static dimensions `dims`.
pub(crate) fn value_info(name: &str, dims: &[i64]) -> onnx_protobuf::ValueInfoProto {
    use onnx_protobuf::{TypeProto, ValueInfoProto, tensor_shape_proto, type_proto};
    let mut shape = onnx_protobuf::TensorShapeProto::new();
    for &d in dims {
        let mut dim = tensor_shape_proto::Dimension::new();
        dim.value = Some(tensor_shape_proto::dimension::Value::DimValue(d));
        shape.dim.push(dim);
    }
    let mut tt = type_proto::Tensor::new();
    tt.elem_type = 1;
    tt.shape = Some(shape).into();
    let mut tp = TypeProto::new();
    tp.value = Some(type_proto::Value::TensorType(tt));
    let mut v = ValueInfoProto::new();
    v.name = name.into();
    v.type_ = Some(tp).into();
    v
}

/// A model file (IR 8, opsets 17 and `ai.onnx.ml` 3) holding `g`.
pub(crate) fn onnx_bytes(g: onnx_protobuf::GraphProto) -> Vec<u8> {
    use onnx_protobuf::{Message, ModelProto, OperatorSetIdProto};
    let mut m = ModelProto::new();
    m.ir_version = 8;
    for (domain, version) in [("", 17), ("ai.onnx.ml", 3)] {
        let mut op = OperatorSetIdProto::new();
        op.domain = domain.into();
        op.version = version;
        m.opset_import.push(op);
    }
    m.graph = Some(g).into();
    m.write_to_bytes().unwrap()
}

/// A node `op(inputs) -> outputs` named `name`.
pub(crate) fn node(name: &str, op: &str, inputs: &[&str], outputs: &[&str]) -> onnx_protobuf::NodeProto {
    let mut n = onnx_protobuf::NodeProto::new();
    n.name = name.into();
    n.op_type = op.into();
    n.input = inputs.iter().map(|s| s.to_string()).collect();
    n.output = outputs.iter().map(|s| s.to_string()).collect();
    n
}

/// `y = op(x[, param])`, opset 17, with `param` an int64 initializer when named (ConstantOfShape
/// reads only its shape: `x` is an unused input).
pub(crate) fn one_node_model(op: &str, x_dims: &[i64], param: &str, values: &[i64]) -> Vec<u8> {
    use onnx_protobuf::{GraphProto, TensorProto};
    let mut inputs = vec![];
    if op != "ConstantOfShape" {
        inputs.push("x");
    }
    let mut g = GraphProto::new();
    g.name = "g".into();
    g.input.push(value_info("x", x_dims));
    if !param.is_empty() {
        let mut t = TensorProto::new();
        t.name = param.into();
        t.data_type = 7; // int64
        t.dims = vec![values.len() as i64];
        t.int64_data = values.to_vec();
        g.initializer.push(t);
        inputs.push(param);
    }
    g.node.push(node("n", op, &inputs, &["y"]));
    g.output.push(value_info("y", &[]));
    onnx_bytes(g)
}

/// A 4-feature `ai.onnx.ml` Scaler (`x` → `y`, both `[1, 4]`), which tract cannot load, and 64
/// calibration samples for it: `DIR/scaler.onnx` and `DIR/x.npy`.
pub(crate) fn write_scaler_model(dir: &std::path::Path) {
    use onnx_protobuf::{AttributeProto, GraphProto, NodeProto, attribute_proto};
    let floats = |name: &str, v: &[f32]| {
        let mut a = AttributeProto::new();
        a.name = name.into();
        a.type_ = attribute_proto::AttributeType::FLOATS.into();
        a.floats = v.to_vec();
        a
    };
    let mut n = NodeProto::new();
    n.name = "scale".into();
    n.op_type = "Scaler".into();
    n.domain = "ai.onnx.ml".into();
    n.input.push("x".into());
    n.output.push("y".into());
    n.attribute.push(floats("offset", &[1.0, -2.0, 0.5, 0.0]));
    n.attribute.push(floats("scale", &[0.5, 2.0, 1.0, 0.25]));
    let mut g = GraphProto::new();
    g.name = "g".into();
    g.input.push(value_info("x", &[1, 4]));
    g.output.push(value_info("y", &[1, 4]));
    g.node.push(n);
    std::fs::write(dir.join("scaler.onnx"), onnx_bytes(g)).unwrap();
    let data: Vec<f32> = (0..64 * 4).map(|i| ((i * 37 % 101) as f32) / 10.0 - 5.0).collect();
    std::fs::write(dir.join("x.npy"), npy_f32(&[64, 4], &data)).unwrap();
}
