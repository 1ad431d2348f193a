//! ONNX import: protobuf (`onnx-protobuf`) to [`crate::ir::Graph`].
//!
//! Reads opsets 7 and up of the default domain and `ai.onnx.ml`, initializers (also those
//! stored in external data files beside the model), `Constant` nodes and graph inputs. A batch
//! dimension that is symbolic or unset becomes 1: SolidML models run one sample at a time
//! (`solidml run` loops over the batch axis of its input file). Any other unknown dimension is
//! an error.

use std::{collections::HashMap, path::Path};

use ndarray::{ArrayD, IxDyn};
use onnx_protobuf::{Message, ModelProto, TensorProto, attribute_proto::AttributeType};

use crate::{
    error::{CompileError, Result},
    ir::{Attr, Graph, Node, Value},
};

/// Load an ONNX file.
pub fn load(path: &Path) -> Result<Graph> {
    let bytes = std::fs::read(path).map_err(|error| CompileError::Io { path: path.display().to_string(), error })?;
    parse(&bytes, path.parent(), &path.display().to_string())
}

/// Parse ONNX bytes; `dir` is where external data files are looked up.
pub fn parse(bytes: &[u8], dir: Option<&Path>, label: &str) -> Result<Graph> {
    let malformed = |reason: String| CompileError::Malformed { path: label.to_string(), reason };
    let model = ModelProto::parse_from_bytes(bytes).map_err(|e| malformed(format!("protobuf decoding failed ({e})")))?;
    let graph = model.graph.as_ref().ok_or_else(|| malformed("the file holds no graph".into()))?;
    // a model whose nodes are all in other domains (an ai.onnx.ml-only tree ensemble) need
    // not import the default domain; the nodes its ops expand into then read opset 13's forms
    let default_domain_used = graph.node.iter().any(|n| n.domain.is_empty() || n.domain == "ai.onnx");
    let opset = model
        .opset_import
        .iter()
        .filter(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version)
        .max()
        .unwrap_or(if default_domain_used { 0 } else { 13 });
    if opset == 0 && default_domain_used {
        return Err(malformed("no opset_import for the default domain".into()));
    }
    let mut g = Graph { name: graph.name.clone(), opset, ..Default::default() };
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for init in &graph.initializer {
        let v = tensor_value(init, dir).map_err(|e| malformed(format!("initializer `{}`: {e}", init.name)))?;
        let t = g.add_tensor(&init.name, v.is_float());
        g.tensors[t].shape = Some(v.shape());
        g.tensors[t].onnx_type = init.data_type;
        g.consts.insert(t, v);
        by_name.insert(init.name.clone(), t);
    }
    for vi in &graph.input {
        if by_name.contains_key(&vi.name) {
            continue; // an initializer listed as input (older exporters): a constant
        }
        let tt = vi.type_.as_ref().and_then(|t| match &t.value {
            Some(onnx_protobuf::type_proto::Value::TensorType(tt)) => Some(tt),
            _ => None,
        });
        let tt = tt.ok_or_else(|| malformed(format!("input `{}` is not a tensor", vi.name)))?;
        let dims = tt.shape.as_ref().map(|s| s.dim.clone()).unwrap_or_default();
        let mut shape = Vec::with_capacity(dims.len());
        for (i, d) in dims.iter().enumerate() {
            match &d.value {
                Some(onnx_protobuf::tensor_shape_proto::dimension::Value::DimValue(v)) if *v >= 0 => shape.push(*v as usize),
                _ if i == 0 => shape.push(1),
                _ => {
                    return Err(malformed(format!(
                        "input `{}` has a symbolic dimension at axis {i}; only the batch axis (0) may be symbolic",
                        vi.name
                    )));
                }
            }
        }
        crate::ops::check_elements(&shape, &format!("input `{}`", vi.name)).map_err(malformed)?;
        let t = g.add_tensor(&vi.name, is_float_type(tt.elem_type));
        g.tensors[t].onnx_type = tt.elem_type;
        g.tensors[t].shape = Some(shape);
        g.inputs.push(t);
        by_name.insert(vi.name.clone(), t);
    }
    for (i, n) in graph.node.iter().enumerate() {
        let name = if n.name.is_empty() { format!("{}_{i}", n.op_type) } else { n.name.clone() };
        let mut attrs = HashMap::new();
        for a in &n.attribute {
            let v = match a.type_.enum_value() {
                Ok(AttributeType::INT) => Attr::Int(a.i),
                Ok(AttributeType::FLOAT) => Attr::Float(a.f),
                Ok(AttributeType::INTS) => Attr::Ints(a.ints.clone()),
                Ok(AttributeType::FLOATS) => Attr::Floats(a.floats.clone()),
                Ok(AttributeType::STRING) => Attr::Str(String::from_utf8_lossy(&a.s).into_owned()),
                Ok(AttributeType::STRINGS) => Attr::Strs(a.strings.iter().map(|s| String::from_utf8_lossy(s).into_owned()).collect()),
                Ok(AttributeType::TENSOR) => match a.t.as_ref() {
                    Some(t) => {
                        Attr::Tensor(tensor_value(t, dir).map_err(|e| malformed(format!("node `{name}` attribute `{}`: {e}", a.name)))?)
                    }
                    None => return Err(malformed(format!("node `{name}` attribute `{}` has no tensor", a.name))),
                },
                _ => continue, // graphs and others: the op that needs them reports it
            };
            attrs.insert(a.name.clone(), v);
        }
        let mut inputs = Vec::with_capacity(n.input.len());
        for inp in &n.input {
            if inp.is_empty() {
                inputs.push(None);
                continue;
            }
            let t = *by_name.get(inp).ok_or_else(|| {
                malformed(format!(
                    "node `{name}` reads `{inp}`, which no node, input or initializer defines (or the graph is not topologically sorted)"
                ))
            })?;
            inputs.push(Some(t));
        }
        let mut outputs = Vec::with_capacity(n.output.len());
        for out in &n.output {
            let t = g.add_tensor(out, true);
            if !out.is_empty() {
                by_name.insert(out.clone(), t);
            }
            outputs.push(t);
        }
        let domain = if n.domain == "ai.onnx" { String::new() } else { n.domain.clone() };
        if n.op_type == "Constant" && domain.is_empty() {
            let v = constant_value(&attrs).ok_or_else(|| malformed(format!("Constant node `{name}` has no supported value attribute")))?;
            let t = outputs[0];
            if let Some(value) = n.attribute.iter().find(|a| a.name == "value").and_then(|a| a.t.as_ref()) {
                g.tensors[t].onnx_type = value.data_type;
            }
            g.tensors[t].shape = Some(v.shape());
            g.tensors[t].is_float = v.is_float();
            g.consts.insert(t, v);
            continue;
        }
        g.nodes.push(Node { name, op: n.op_type.clone(), domain, attrs, inputs, outputs });
    }
    for o in &graph.output {
        let t = *by_name.get(&o.name).ok_or_else(|| malformed(format!("graph output `{}` is never computed", o.name)))?;
        g.outputs.push(t);
        g.output_names.push(o.name.clone());
    }
    if g.inputs.is_empty() {
        return Err(malformed("the graph has no (non-constant) input".into()));
    }
    Ok(g)
}

fn constant_value(attrs: &HashMap<String, Attr>) -> Option<Value> {
    Some(match (attrs.get("value"), attrs.get("value_float"), attrs.get("value_floats"), attrs.get("value_int"), attrs.get("value_ints")) {
        (Some(Attr::Tensor(v)), ..) => v.clone(),
        (_, Some(Attr::Float(f)), ..) => Value::Float(ArrayD::from_elem(IxDyn(&[]), *f)),
        (_, _, Some(Attr::Floats(f)), ..) => Value::Float(ArrayD::from_shape_vec(IxDyn(&[f.len()]), f.clone()).ok()?),
        (_, _, _, Some(Attr::Int(i)), _) => Value::Int(ArrayD::from_elem(IxDyn(&[]), *i)),
        (_, _, _, _, Some(Attr::Ints(v))) => Value::Int(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v.clone()).ok()?),
        _ => return None,
    })
}

/// The ONNX element types held as real (quantized) tensors: the real types
/// ([`crate::ops::shape::is_float_type`]: float, float16, double, bfloat16, the float8 and float4
/// formats) and bool (its 0 and 1 are reals that every int8 quantization of the range `[0, 1]`
/// holds exactly).
fn is_float_type(t: i32) -> bool {
    t == 9 || crate::ops::shape::is_float_type(t as i64)
}

/// An INT4 (22) or UINT4 (21) tensor: ONNX packs two values per byte, the first in the low
/// nibble, in `raw_data` (and in `int32_data`, one byte's pair per element).
fn int4_value(t: &TensorProto, raw: &[u8], dims: &[usize], len: usize) -> std::result::Result<Value, String> {
    let bytes: Vec<u8> = if raw.is_empty() { t.int32_data.iter().map(|&b| b as u8).collect() } else { raw.to_vec() };
    if bytes.len() != len.div_ceil(2) {
        return Err(format!("holds {} packed 4-bit values for shape {dims:?}", bytes.len() * 2));
    }
    let signed = t.data_type == 22;
    let v: Vec<i64> = (0..len)
        .map(|i| {
            let nibble = (bytes[i / 2] >> (4 * (i % 2))) & 15;
            if signed && nibble >= 8 { nibble as i64 - 16 } else { nibble as i64 }
        })
        .collect();
    Ok(Value::Int(ArrayD::from_shape_vec(IxDyn(dims), v).map_err(|e| e.to_string())?))
}

/// Decode a TensorProto (raw, typed or external data) into a [`Value`].
pub fn tensor_value(t: &TensorProto, dir: Option<&Path>) -> std::result::Result<Value, String> {
    let dims: Vec<usize> =
        t.dims.iter().map(|&d| usize::try_from(d).map_err(|_| format!("negative dimension {d}"))).collect::<std::result::Result<_, _>>()?;
    // the element cap (and no absurd axes on an empty tensor) before any data is converted
    crate::ops::check_elements(&dims, "the tensor")?;
    let len: usize = dims.iter().product();
    let external;
    let raw: &[u8] = if t.data_location.value() == 1 {
        let get = |k: &str| t.external_data.iter().find(|e| e.key == k).map(|e| e.value.clone());
        let loc = get("location").ok_or("external data without a location")?;
        let dir = dir.ok_or("external data, but the model was not loaded from a file")?;
        let bytes = std::fs::read(dir.join(&loc)).map_err(|e| format!("external data file `{loc}`: {e}"))?;
        let off: usize = get("offset").map(|s| s.parse().map_err(|_| "bad offset")).transpose()?.unwrap_or(0);
        let n: usize = get("length").map(|s| s.parse().map_err(|_| "bad length")).transpose()?.unwrap_or(bytes.len().saturating_sub(off));
        external = bytes
            .get(off..off.checked_add(n).ok_or("bad range")?)
            .ok_or(format!("external data file `{loc}` is shorter than offset + length"))?
            .to_vec();
        &external
    } else {
        &t.raw_data
    };
    if matches!(t.data_type, 21 | 22) {
        return int4_value(t, raw, &dims, len);
    }
    let elem = match t.data_type {
        1 | 10 | 11 | 16 => 0,
        2..=7 | 9 | 12 | 13 => 1,
        other => return Err(format!("unsupported tensor data type {other}")),
    };
    let shape = IxDyn(&dims);
    let bad_len = |got: usize| format!("holds {got} values for shape {dims:?}");
    let chunks = |size: usize| -> std::result::Result<std::slice::ChunksExact<'_, u8>, String> {
        if raw.len() != len * size {
            return Err(bad_len(raw.len() / size.max(1)));
        }
        Ok(raw.chunks_exact(size))
    };
    let value = if elem == 0 {
        let v: Vec<f32> = if !raw.is_empty() {
            match t.data_type {
                1 => chunks(4)?.map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect(),
                11 => chunks(8)?.map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32).collect(),
                10 => chunks(2)?.map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]]))).collect(),
                _ => chunks(2)?.map(|c| f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16)).collect(),
            }
        } else if t.data_type == 11 {
            t.double_data.iter().map(|&d| d as f32).collect()
        } else if t.data_type == 1 {
            t.float_data.clone()
        } else {
            t.int32_data.iter().map(|&b| f16_to_f32(b as u16)).collect()
        };
        if v.len() != len {
            return Err(bad_len(v.len()));
        }
        Value::Float(ArrayD::from_shape_vec(shape, v).map_err(|e| e.to_string())?)
    } else {
        let v: Vec<i64> = if !raw.is_empty() {
            match t.data_type {
                2 | 9 => chunks(1)?.map(|c| c[0] as i64).collect(),
                3 => chunks(1)?.map(|c| c[0] as i8 as i64).collect(),
                4 => chunks(2)?.map(|c| u16::from_le_bytes([c[0], c[1]]) as i64).collect(),
                5 => chunks(2)?.map(|c| i16::from_le_bytes([c[0], c[1]]) as i64).collect(),
                6 => chunks(4)?.map(|c| i32::from_le_bytes(c.try_into().unwrap()) as i64).collect(),
                12 => chunks(4)?.map(|c| u32::from_le_bytes(c.try_into().unwrap()) as i64).collect(),
                _ => chunks(8)?.map(|c| i64::from_le_bytes(c.try_into().unwrap())).collect(),
            }
        } else {
            match t.data_type {
                7 => t.int64_data.clone(),
                12 | 13 => t.uint64_data.iter().map(|&u| u as i64).collect(),
                _ => t.int32_data.iter().map(|&i| i as i64).collect(),
            }
        };
        if v.len() != len {
            return Err(bad_len(v.len()));
        }
        Value::Int(ArrayD::from_shape_vec(shape, v).map_err(|e| e.to_string())?)
    };
    Ok(value)
}

fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let frac = (h & 0x3ff) as u32;
    let bits = match exp {
        0 if frac == 0 => sign,
        0 => return f32::from_bits(sign) + (if sign != 0 { -1.0 } else { 1.0 }) * frac as f32 * 2f32.powi(-24),
        31 => sign | 0x7f80_0000 | (frac << 13),
        _ => sign | ((exp + 112) << 23) | (frac << 13),
    };
    f32::from_bits(bits)
}

/// Bind graph inputs to values at compile time (`solidml compile --freeze NAME=FILE.npy`):
/// each named input of the ONNX bytes becomes an initializer holding `value` and leaves the
/// graph's inputs, so the compiler folds it like any constant (weights, axes, scales or sizes
/// that an exporter left as inputs). The value's type follows the input's declared element type
/// (float, float16 and double from a float value; the integer types and bool from an integer
/// one, which must fit the type), and its shape must match every fixed dimension the input declares.
/// Returns the rewritten ONNX bytes. An unknown name, a type or shape mismatch, or a declared
/// type without such a form (strings, bfloat16, float8) is an error naming the input.
pub fn freeze_inputs(bytes: &[u8], frozen: &[(String, Value)], label: &str) -> Result<Vec<u8>> {
    let malformed = |reason: String| CompileError::Malformed { path: label.to_string(), reason };
    let mut model = ModelProto::parse_from_bytes(bytes).map_err(|e| malformed(format!("protobuf decoding failed ({e})")))?;
    let graph = model.graph.as_mut().ok_or_else(|| malformed("the file holds no graph".into()))?;
    for (name, value) in frozen {
        let at = graph.input.iter().position(|vi| &vi.name == name).ok_or_else(|| {
            let names: Vec<&str> = graph.input.iter().map(|vi| vi.name.as_str()).collect();
            malformed(format!("--freeze: the graph has no input `{name}` (its inputs: {})", names.join(", ")))
        })?;
        let vi = graph.input.remove(at);
        let tt = vi.type_.as_ref().and_then(|t| match &t.value {
            Some(onnx_protobuf::type_proto::Value::TensorType(tt)) => Some(tt.clone()),
            _ => None,
        });
        let tt = tt.ok_or_else(|| malformed(format!("--freeze: input `{name}` is not a tensor")))?;
        let shape = value.shape();
        if let Some(s) = tt.shape.as_ref() {
            let fixed: Vec<Option<i64>> = s
                .dim
                .iter()
                .map(|d| match d.value {
                    Some(onnx_protobuf::tensor_shape_proto::dimension::Value::DimValue(v)) => Some(v),
                    _ => None,
                })
                .collect();
            let fits = fixed.len() == shape.len() && fixed.iter().zip(&shape).all(|(f, &d)| f.is_none_or(|f| f == d as i64));
            if !fits {
                return Err(malformed(format!(
                    "--freeze: input `{name}` is declared {fixed:?} (None: any), the value has shape {shape:?}"
                )));
            }
        }
        let mut t = TensorProto::new();
        t.name = name.clone();
        t.dims = shape.iter().map(|&d| d as i64).collect();
        t.data_type = tt.elem_type;
        let ints = |v: &Value, lo: i64, hi: i64| -> std::result::Result<Vec<i64>, String> {
            match v {
                Value::Int(a) if a.iter().all(|x| (lo..=hi).contains(x)) => Ok(a.iter().copied().collect()),
                Value::Int(_) => Err(format!("a value outside [{lo}, {hi}]")),
                // bool and integer data read as reals (e.g. a bool .npy): whole numbers only
                Value::Float(a) if a.iter().all(|x| x.fract() == 0.0 && (lo as f32..=hi as f32).contains(x)) => {
                    Ok(a.iter().map(|&x| x as i64).collect())
                }
                Value::Float(_) => Err(format!("a value that is not a whole number in [{lo}, {hi}]")),
            }
        };
        let bad = |why: String| malformed(format!("--freeze: input `{name}` (ONNX element type {}) cannot hold {why}", tt.elem_type));
        // the types ONNX stores in `int32_data`, and their ranges
        let int32_range = match tt.elem_type {
            6 => Some((i32::MIN as i64, i32::MAX as i64)),
            5 => Some((i16::MIN as i64, i16::MAX as i64)),
            4 => Some((0, u16::MAX as i64)),
            3 => Some((i8::MIN as i64, i8::MAX as i64)),
            2 => Some((0, u8::MAX as i64)),
            9 => Some((0, 1)),
            _ => None,
        };
        match (tt.elem_type, value) {
            (1, Value::Float(a)) => t.float_data = a.iter().copied().collect(),
            // float16 as its bits in int32_data (ONNX's layout); rounded to half when not one
            (10, v) => t.int32_data = v.to_f32().iter().map(|&x| half::f16::from_f32(x).to_bits() as i32).collect(),
            (11, Value::Float(a)) => t.double_data = a.iter().map(|&x| x as f64).collect(),
            (7, v) => t.int64_data = ints(v, i64::MIN, i64::MAX).map_err(bad)?,
            (_, v) if let Some((lo, hi)) = int32_range => {
                t.int32_data = ints(v, lo, hi).map_err(bad)?.into_iter().map(|x| x as i32).collect()
            }
            (12 | 13, v) => t.uint64_data = ints(v, 0, i64::MAX).map_err(bad)?.into_iter().map(|x| x as u64).collect(),
            // 4-bit integers packed two per byte, the first in the low nibble (ONNX's layout)
            (21 | 22, v) => {
                let (lo, hi) = if tt.elem_type == 22 { (-8, 7) } else { (0, 15) };
                let nibbles: Vec<u8> = ints(v, lo, hi).map_err(bad)?.into_iter().map(|x| (x & 15) as u8).collect();
                t.raw_data = nibbles.chunks(2).map(|p| p[0] | p.get(1).map_or(0, |h| h << 4)).collect();
            }
            (1 | 11, Value::Int(a)) => {
                let v: Vec<f32> = a.iter().map(|&x| x as f32).collect();
                if tt.elem_type == 1 {
                    t.float_data = v;
                } else {
                    t.double_data = v.into_iter().map(f64::from).collect();
                }
            }
            (other, _) => return Err(bad(format!("a value: element type {other} has no frozen form here"))),
        }
        graph.initializer.push(t);
    }
    model.write_to_bytes().map_err(|e| malformed(format!("protobuf encoding failed ({e})")))
}

#[cfg(test)]
mod tests {
    use onnx_protobuf::{
        GraphProto, NodeProto, OperatorSetIdProto, TensorShapeProto, TypeProto, ValueInfoProto, tensor_shape_proto, type_proto,
    };

    use super::*;

    #[test]
    fn four_bit_integers_unpack_low_nibble_first() {
        for (data_type, want) in [(22, vec![-8i64, 7, 1]), (21, vec![8, 7, 1])] {
            let mut t = TensorProto::new();
            t.data_type = data_type;
            t.dims = vec![3];
            // (8, 7) in one byte, the first in the low nibble; the last byte half used
            t.raw_data = vec![0x78, 0x01];
            assert_eq!(tensor_value(&t, None).unwrap().to_i64().iter().copied().collect::<Vec<_>>(), want, "type {data_type}");
            t.raw_data = vec![0x78];
            assert!(tensor_value(&t, None).unwrap_err().contains("packed 4-bit values"));
        }
    }

    fn input(name: &str, elem_type: i32, dims: &[i64]) -> ValueInfoProto {
        let mut s = TensorShapeProto::new();
        for &d in dims {
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

    /// The model of one node `domain:op(inputs) → y`, importing `opsets` (`(domain, version)`).
    fn one_node_model(domain: &str, op: &str, inputs: Vec<ValueInfoProto>, y: ValueInfoProto, opsets: &[(&str, i64)]) -> ModelProto {
        let mut n = NodeProto::new();
        (n.domain, n.op_type) = (domain.into(), op.into());
        n.input = inputs.iter().map(|i| i.name.clone()).collect();
        n.output = vec![y.name.clone()];
        let mut g = GraphProto::new();
        (g.input, g.output) = (inputs, vec![y]);
        g.node.push(n);
        let mut m = ModelProto::new();
        m.ir_version = 8;
        for &(domain, version) in opsets {
            let mut op = OperatorSetIdProto::new();
            (op.domain, op.version) = (domain.into(), version);
            m.opset_import.push(op);
        }
        m.graph = Some(g).into();
        m
    }

    /// `y = Tile(x, repeats)` with `repeats` a graph input.
    fn tile_model() -> Vec<u8> {
        let inputs = vec![input("x", 1, &[1, 3]), input("repeats", 7, &[2])];
        one_node_model("", "Tile", inputs, input("y", 1, &[2, 6]), &[("", 13)]).write_to_bytes().unwrap()
    }

    #[test]
    fn a_model_of_other_domains_alone_needs_no_default_opset() {
        // a Binarizer alone, importing only ai.onnx.ml: the default domain reads as opset 13
        let m = one_node_model("ai.onnx.ml", "Binarizer", vec![input("x", 1, &[1, 2])], input("y", 1, &[1, 2]), &[("ai.onnx.ml", 1)]);
        assert_eq!(parse(&m.write_to_bytes().unwrap(), None, "ml").unwrap().opset, 13);
        // a node of the default domain without its import is still refused
        let m = one_node_model("", "Relu", vec![input("x", 1, &[1, 2])], input("y", 1, &[1, 2]), &[("ai.onnx.ml", 1)]);
        let e = parse(&m.write_to_bytes().unwrap(), None, "relu").unwrap_err().to_string();
        assert!(e.contains("no opset_import for the default domain"), "{e}");
    }

    #[test]
    fn a_frozen_input_becomes_an_initializer() {
        let repeats = Value::Int(ArrayD::from_shape_vec(IxDyn(&[2]), vec![2, 2]).unwrap());
        let bytes = freeze_inputs(&tile_model(), &[("repeats".into(), repeats)], "tile").unwrap();
        let g = parse(&bytes, None, "tile").unwrap();
        assert_eq!(g.inputs.len(), 1);
        assert_eq!(g.name(g.inputs[0]), "x");
        let t = g.tensors.iter().position(|t| t.name == "repeats").unwrap();
        assert_eq!(g.consts[&t].to_i64().iter().copied().collect::<Vec<_>>(), vec![2, 2]);
    }

    #[test]
    fn a_float16_input_freezes_to_its_half_value() {
        // y = x · s with s a float16 input: frozen, it reads back as the half nearest the value
        let inputs = vec![input("x", 1, &[1, 2]), input("s", 10, &[1])];
        let m = one_node_model("", "Mul", inputs, input("y", 1, &[1, 2]), &[("", 13)]);
        let s = Value::Float(ArrayD::from_shape_vec(IxDyn(&[1]), vec![0.0066]).unwrap());
        let bytes = freeze_inputs(&m.write_to_bytes().unwrap(), &[("s".into(), s)], "mul").unwrap();
        let g = parse(&bytes, None, "mul").unwrap();
        let t = g.tensors.iter().position(|t| t.name == "s").unwrap();
        assert_eq!((g.tensors[t].onnx_type, g.inputs.len()), (10, 1));
        let half = half::f16::from_f32(0.0066).to_f32();
        assert!(half != 0.0066 && (half - 0.0066).abs() < 1e-5);
        assert_eq!(g.consts[&t].to_f32().iter().copied().collect::<Vec<_>>(), vec![half]);
    }

    #[test]
    fn freezing_refuses_unknown_names_shapes_and_types() {
        let model = tile_model();
        let ints = |v: Vec<i64>| Value::Int(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v).unwrap());
        let e = freeze_inputs(&model, &[("nope".into(), ints(vec![1, 1]))], "tile").unwrap_err().to_string();
        assert!(e.contains("no input `nope`") && e.contains("x, repeats"), "{e}");
        let e = freeze_inputs(&model, &[("repeats".into(), ints(vec![1, 1, 1]))], "tile").unwrap_err().to_string();
        assert!(e.contains("declared") && e.contains("[3]"), "{e}");
        let half = Value::Float(ArrayD::from_shape_vec(IxDyn(&[2]), vec![1.5, 2.0]).unwrap());
        let e = freeze_inputs(&model, &[("repeats".into(), half)], "tile").unwrap_err().to_string();
        assert!(e.contains("not a whole number"), "{e}");
    }
}
