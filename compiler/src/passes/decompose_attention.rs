//! `Attention` and `RotaryEmbedding` decomposed before calibration into ops the spec already
//! has (views, Concat, Gather, Mul/Add/Sub, MatMul, Softmax, tables), so each intermediate
//! gets a calibrated range of its own. The formulas are in [`crate::ops::attention`]'s docs;
//! [`Builder`] is the node builder that this pass and [`super::decompose_recurrent`] share
//! (it folds the nodes whose inputs are all constants as it builds them).
//!
//! A node whose form is not supported is left in place; its lowering then reports why
//! ([`attention_plan`], [`rotary_plan`]).

use ndarray::{ArrayD, IxDyn};

use crate::{
    ir::{Attr, Graph, Node, Tid, Value},
    ops::attention::{AttentionDims, MASK_MARGIN, RotaryDims, is_bool},
};

type R<T> = std::result::Result<T, String>;

/// Builds the nodes replacing one node: fresh tensors named after it, constants, and nodes
/// (a node whose inputs are all constants is evaluated at once and becomes a constant).
pub(crate) struct Builder<'a> {
    pub(crate) g: &'a mut Graph,
    name: String,
    pub(crate) nodes: Vec<Node>,
}

impl<'a> Builder<'a> {
    pub(crate) fn new(g: &'a mut Graph, name: &str) -> Self {
        Builder { g, name: name.to_string(), nodes: vec![] }
    }

    fn fresh(&mut self, what: &str) -> Tid {
        let name = format!("{}.{what}{}", self.name, self.g.tensors.len());
        self.g.add_tensor(&name, true)
    }

    /// Node `op` of `inputs` into a fresh tensor (a constant when every input is one).
    pub(crate) fn op(&mut self, op: &str, inputs: &[Tid], attrs: Vec<(&str, Attr)>) -> R<Tid> {
        let out = self.fresh(&op.to_lowercase());
        let n = self.node(op, inputs, attrs, out);
        if inputs.iter().all(|t| self.g.is_const(*t)) {
            let ins: Vec<Option<&Value>> = inputs.iter().map(|t| self.g.consts.get(t)).collect();
            let v = crate::float::eval_node(self.g, &n, &ins)?.into_iter().next().ok_or("a node without outputs")?;
            self.g.tensors[out].shape = Some(v.shape());
            self.g.tensors[out].is_float = v.is_float();
            self.g.consts.insert(out, v);
        } else {
            self.nodes.push(n);
        }
        Ok(out)
    }

    /// Node `op` of `inputs` writing the existing tensor `out` (a node output being replaced).
    pub(crate) fn op_to(&mut self, op: &str, inputs: &[Tid], attrs: Vec<(&str, Attr)>, out: Tid) {
        let n = self.node(op, inputs, attrs, out);
        self.nodes.push(n);
    }

    fn node(&self, op: &str, inputs: &[Tid], attrs: Vec<(&str, Attr)>, out: Tid) -> Node {
        Node {
            name: format!("{}.{}", self.name, self.g.tensors[out].name.rsplit('.').next().unwrap_or(op)),
            op: op.into(),
            domain: String::new(),
            attrs: attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            inputs: inputs.iter().map(|&t| Some(t)).collect(),
            outputs: vec![out],
        }
    }

    /// A constant.
    pub(crate) fn constant(&mut self, v: Value) -> Tid {
        let t = self.fresh("const");
        self.g.tensors[t].shape = Some(v.shape());
        self.g.tensors[t].is_float = v.is_float();
        self.g.consts.insert(t, v);
        t
    }
    pub(crate) fn ints(&mut self, v: &[i64]) -> Tid {
        self.constant(Value::Int(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v.to_vec()).expect("a vector")))
    }
    pub(crate) fn floats(&mut self, shape: &[usize], v: Vec<f32>) -> R<Tid> {
        Ok(self.constant(Value::Float(ArrayD::from_shape_vec(IxDyn(shape), v).map_err(|e| e.to_string())?)))
    }
    pub(crate) fn scalar(&mut self, v: f32) -> Tid {
        self.constant(Value::Float(ArrayD::from_elem(IxDyn(&[]), v)))
    }

    pub(crate) fn reshape(&mut self, x: Tid, shape: &[usize]) -> R<Tid> {
        let s = self.ints(&shape.iter().map(|&d| d as i64).collect::<Vec<_>>());
        self.op("Reshape", &[x, s], vec![])
    }
    pub(crate) fn transpose(&mut self, x: Tid, perm: &[i64]) -> R<Tid> {
        self.op("Transpose", &[x], vec![("perm", Attr::Ints(perm.to_vec()))])
    }
    /// `x[start..end:step]` along `axis` (attributes before opset 10, inputs from 10).
    pub(crate) fn slice(&mut self, x: Tid, axis: i64, start: usize, end: usize, step: i64) -> R<Tid> {
        if self.g.opset < 10 {
            if step != 1 {
                return Err("a strided Slice before opset 10".into());
            }
            let a = |v: i64| Attr::Ints(vec![v]);
            return self.op("Slice", &[x], vec![("starts", a(start as i64)), ("ends", a(end as i64)), ("axes", a(axis))]);
        }
        let ins = [x, self.ints(&[start as i64]), self.ints(&[end as i64]), self.ints(&[axis]), self.ints(&[step])];
        self.op("Slice", &ins, vec![])
    }
    pub(crate) fn concat(&mut self, xs: &[Tid], axis: i64) -> R<Tid> {
        if xs.len() == 1 {
            return Ok(xs[0]);
        }
        self.op("Concat", xs, vec![("axis", Attr::Int(axis))])
    }
    pub(crate) fn binary(&mut self, op: &str, a: Tid, b: Tid) -> R<Tid> {
        self.op(op, &[a, b], vec![])
    }
    pub(crate) fn unary(&mut self, op: &str, x: Tid) -> R<Tid> {
        self.op(op, &[x], vec![])
    }
}

/// Replace each node `applies` accepts by the nodes `build` makes of it; a node `build`
/// refuses stays (its lowering says why). Whether anything changed.
pub(crate) fn expand(g: &mut Graph, applies: impl Fn(&Node) -> bool, build: impl Fn(&mut Builder<'_>, &Node) -> R<()>) -> bool {
    let mut changed = false;
    let mut i = 0;
    while i < g.nodes.len() {
        let n = g.nodes[i].clone();
        if !(n.domain.is_empty() && applies(&n)) {
            i += 1;
            continue;
        }
        let mut b = Builder::new(g, &n.name);
        if build(&mut b, &n).is_ok() {
            let new = std::mem::take(&mut b.nodes);
            let count = new.len();
            g.nodes.splice(i..i + 1, new);
            i += count;
            changed = true;
        } else {
            i += 1;
        }
    }
    changed
}

fn shapes(g: &Graph, n: &Node, count: usize) -> Vec<Option<Vec<usize>>> {
    (0..count).map(|i| n.input(i).map(|t| g.shape(t).to_vec())).collect()
}

/// Output `i` of `n` when the model reads it (present and named).
fn wanted(g: &Graph, n: &Node, i: usize) -> Option<Tid> {
    n.outputs.get(i).copied().filter(|&t| !g.tensors[t].name.is_empty())
}

/// The checked sizes of Attention node `n`, or why its form is not supported.
pub fn attention_plan(g: &Graph, n: &Node) -> R<AttentionDims> {
    let d = AttentionDims::parse(n, &shapes(g, n, 7))?;
    let hard = d.causal || n.input(6).is_some() || n.input(3).is_some_and(|m| is_bool(g, m) || g.shape(m).last() != Some(&d.total()));
    if hard && wanted(g, n, 3).is_some() && d.mode == 1 && d.softcap > 0.0 {
        return Err("Attention qk_matmul_output mode 1 with a softcap and a causal, boolean, short or padding mask \
                    (the scores before the softcap, −∞ where masked) is not supported"
            .into());
    }
    Ok(d)
}

fn attention(b: &mut Builder<'_>, n: &Node) -> R<()> {
    let d = attention_plan(b.g, n)?;
    let (q, k, v) = (n.input(0).ok_or("Q")?, n.input(1).ok_or("K")?, n.input(2).ok_or("V")?);
    let to4 = |b: &mut Builder<'_>, x: Tid, heads: usize| -> R<Tid> {
        if !d.rank3 {
            return Ok(x);
        }
        let s = b.g.shape(x).to_vec();
        let r = b.reshape(x, &[s[0], s[1], heads, s[2] / heads])?;
        b.transpose(r, &[0, 2, 1, 3])
    };
    let q = to4(b, q, d.q_heads)?;
    let mut k = to4(b, k, d.kv_heads)?;
    let mut v = to4(b, v, d.kv_heads)?;
    if let Some(pk) = n.input(4) {
        k = b.concat(&[pk, k], 2)?;
    }
    if let Some(pv) = n.input(5) {
        v = b.concat(&[pv, v], 2)?;
    }
    for (i, x) in [(1, k), (2, v)] {
        if let Some(out) = wanted(b.g, n, i) {
            b.op_to("Identity", &[x], vec![], out);
        }
    }
    let r = d.q_heads / d.kv_heads;
    if r > 1 {
        let idx: Vec<i64> = (0..d.q_heads).map(|h| (h / r) as i64).collect();
        let idx = b.ints(&idx);
        k = b.op("Gather", &[k, idx], vec![("axis", Attr::Int(1))])?;
        v = b.op("Gather", &[v, idx], vec![("axis", Attr::Int(1))])?;
    }
    let scale = b.scalar(d.scale);
    let qs = b.binary("Mul", q, scale)?;
    let kt = b.transpose(k, &[0, 1, 3, 2])?;
    let qk = b.binary("MatMul", qs, kt)?;
    let (sq, t) = (d.q_len, d.total());
    let mut mask = n.input(3);
    let boolean = mask.is_some_and(|m| is_bool(b.g, m));
    // a mask shorter than T: padded with 0 (false), the missing columns masked
    let mut columns = None;
    if let Some(m) = mask {
        let shape = b.g.shape(m).to_vec();
        let len = *shape.last().ok_or("a scalar attn_mask")?;
        if len < t {
            let mut pads = vec![0i64; 2 * shape.len()];
            pads[2 * shape.len() - 1] = (t - len) as i64;
            let pads = b.ints(&pads);
            mask = Some(b.op("Pad", &[m, pads], vec![])?);
            if !boolean {
                columns = Some(b.floats(&[t], (0..t).map(|j| (j < len) as u8 as f32).collect())?);
            }
        }
    }
    let mut s = qk;
    if let Some(m) = mask.filter(|_| !boolean) {
        s = b.binary("Add", s, m)?;
    }
    let biased = s;
    if d.softcap > 0.0 {
        let inv = b.scalar(1.0 / d.softcap);
        let cap = b.scalar(d.softcap);
        let x = b.binary("Mul", s, inv)?;
        let t = b.unary("Tanh", x)?;
        s = b.binary("Mul", t, cap)?;
    }
    // the hard masks (causal, boolean, short, padding): 0/1 `keep`, the product of the
    // constant ones (folded) and the run-time ones (the last widened by an Expand, a view,
    // so that the constant does not widen it)
    let mut constant = match d.causal {
        true => Some(b.floats(&[sq, t], (0..sq * t).map(|e| ((e % t) <= (e / t) + d.past) as u8 as f32).collect())?),
        false => None,
    };
    if let Some(c) = columns {
        constant = Some(match constant {
            Some(k) => b.binary("Mul", k, c)?,
            None => c,
        });
    }
    let mut runtime: Vec<(Tid, Vec<usize>)> = vec![];
    if let Some(m) = mask.filter(|_| boolean) {
        let mut shape = b.g.shape(n.input(3).ok_or("attn_mask")?).to_vec();
        *shape.last_mut().ok_or("a scalar attn_mask")? = t;
        runtime.push((m, shape));
    }
    if let Some(l) = n.input(6) {
        // row L of the table keeps the first L positions
        let table: Vec<f32> = (0..(t + 1) * t).map(|e| ((e % t) < e / t) as u8 as f32).collect();
        let table = b.floats(&[t + 1, t], table)?;
        let rows = b.op("Gather", &[table, l], vec![("axis", Attr::Int(0))])?;
        runtime.push((b.reshape(rows, &[d.batch, 1, 1, t])?, vec![d.batch, 1, 1, t]));
    }
    let mut keep: Option<(Tid, Vec<usize>)> = None;
    let several = runtime.len() + constant.is_some() as usize > 1;
    for (m, shape) in runtime {
        // exactly 0 or 1 when combined
        let m = if several && b.g.is_const(m) {
            m
        } else if several {
            let not = b.unary("Not", m)?;
            b.unary("Not", not)?
        } else {
            m
        };
        keep = Some(match keep {
            Some((k, ks)) => {
                let both = crate::float::broadcast_shape(&ks, &shape)?;
                (b.binary("Mul", k, m)?, both)
            }
            None => (m, shape),
        });
    }
    let keep = match (keep, constant) {
        (None, c) => c,
        (Some((k, _)), None) => Some(k),
        (Some((k, ks)), Some(c)) => {
            let cs = b.g.shape(c).to_vec();
            let wide = crate::float::broadcast_shape(&ks, &cs)?;
            let k = if wide != ks {
                let to = b.ints(&wide.iter().map(|&x| x as i64).collect::<Vec<_>>());
                b.op("Expand", &[k, to], vec![])?
            } else {
                k
            };
            Some(b.binary("Mul", k, c)?)
        }
    };
    let keep_is_none = keep.is_none();
    if let Some(keep) = keep {
        let notkeep = b.unary("Not", keep)?;
        let excess = if d.softcap > 0.0 {
            // tanh(−∞) · softcap: the masked scores are −softcap
            let cap = b.scalar(d.softcap);
            b.binary("Add", s, cap)?
        } else {
            let lowest = b.op("ReduceMin", &[s], vec![("axes", Attr::Ints(vec![-1])), ("keepdims", Attr::Int(1))])?;
            let margin = b.scalar(MASK_MARGIN);
            let fill = b.binary("Sub", lowest, margin)?;
            b.binary("Sub", s, fill)?
        };
        let drop = b.binary("Mul", excess, notkeep)?;
        s = b.binary("Sub", s, drop)?;
    }
    // Exp(LogSoftmax): the probabilities get a calibrated range (finer than the softmax's
    // fixed 1/256 when they are all small, over a long sequence); with a hard mask the
    // log-probabilities' range would reach the masked scores, so Softmax there
    let p = if keep_is_none && t <= 16384 {
        let ls = b.op("LogSoftmax", &[s], vec![("axis", Attr::Int(-1))])?;
        b.unary("Exp", ls)?
    } else {
        b.op("Softmax", &[s], vec![("axis", Attr::Int(-1))])?
    };
    if let Some(out) = wanted(b.g, n, 3) {
        // masked scores (−∞ in ONNX) come out as their finite stand-in, the bottom of the
        // output's range, as a table saturates −∞
        let x = match d.mode {
            0 => qk,
            1 if keep_is_none => biased,
            1 | 2 => s,
            _ => p,
        };
        b.op_to("Identity", &[x], vec![], out);
    }
    let y = n.outputs[0];
    if d.rank3 {
        let y4 = b.binary("MatMul", p, v)?;
        let yt = b.transpose(y4, &[0, 2, 1, 3])?;
        let shape = b.ints(&[d.batch as i64, d.q_len as i64, (d.q_heads * d.v_head) as i64]);
        b.op_to("Reshape", &[yt, shape], vec![], y);
    } else {
        b.op_to("MatMul", &[p, v], vec![], y);
    }
    Ok(())
}

/// The checked sizes of RotaryEmbedding node `n`, or why its form is not supported.
pub fn rotary_plan(g: &Graph, n: &Node) -> R<RotaryDims> {
    RotaryDims::parse(n, &shapes(g, n, 4))
}

fn rotary(b: &mut Builder<'_>, n: &Node) -> R<()> {
    let d = rotary_plan(b.g, n)?;
    let (x, mut cos, mut sin) = (n.input(0).ok_or("X")?, n.input(1).ok_or("cos_cache")?, n.input(2).ok_or("sin_cache")?);
    let half = d.rotary / 2;
    if let Some(p) = n.input(3) {
        cos = b.op("Gather", &[cos, p], vec![("axis", Attr::Int(0))])?;
        sin = b.op("Gather", &[sin, p], vec![("axis", Attr::Int(0))])?;
    }
    // work on [B, H, S, D] (4-D) or [B, S, H, D] (3-D); the caches broadcast over the heads
    let (work, cache_shape) = if d.rank3 {
        (b.reshape(x, &[d.batch, d.len, d.heads, d.head])?, [d.batch, d.len, 1, half])
    } else {
        (x, [d.batch, 1, d.len, half])
    };
    let cos = b.reshape(cos, &cache_shape)?;
    let sin = b.reshape(sin, &cache_shape)?;
    let (x1, x2) = if d.interleaved {
        (b.slice(work, 3, 0, d.rotary, 2)?, b.slice(work, 3, 1, d.rotary, 2)?)
    } else {
        (b.slice(work, 3, 0, half, 1)?, b.slice(work, 3, half, d.rotary, 1)?)
    };
    let (c1, s2) = (b.binary("Mul", cos, x1)?, b.binary("Mul", sin, x2)?);
    let real = b.binary("Sub", c1, s2)?;
    let (s1, c2) = (b.binary("Mul", sin, x1)?, b.binary("Mul", cos, x2)?);
    let imag = b.binary("Add", s1, c2)?;
    let shape = if d.rank3 { vec![d.batch, d.len, d.heads, d.head] } else { vec![d.batch, d.heads, d.len, d.head] };
    let rotated = if d.interleaved {
        let mut pair = shape.clone();
        pair[3] = half;
        pair.push(1);
        let (re, im) = (b.reshape(real, &pair)?, b.reshape(imag, &pair)?);
        let both = b.concat(&[re, im], 4)?;
        let mut flat = shape.clone();
        flat[3] = d.rotary;
        b.reshape(both, &flat)?
    } else {
        b.concat(&[real, imag], 3)?
    };
    let y = n.outputs[0];
    let mut parts = vec![rotated];
    if d.rotary < d.head {
        parts.push(b.slice(work, 3, d.rotary, d.head, 1)?);
    }
    if d.rank3 {
        let all = b.concat(&parts, 3)?;
        let s = b.ints(&[d.batch as i64, d.len as i64, (d.heads * d.head) as i64]);
        b.op_to("Reshape", &[all, s], vec![], y);
    } else if parts.len() == 1 {
        b.op_to("Identity", &parts, vec![], y);
    } else {
        b.op_to("Concat", &parts, vec![("axis", Attr::Int(3))], y);
    }
    Ok(())
}

/// Decompose every supported Attention and RotaryEmbedding node; whether anything changed.
pub fn run(g: &mut Graph) -> bool {
    let a = expand(g, |n| n.op == "Attention", attention);
    let r = expand(g, |n| n.op == "RotaryEmbedding", rotary);
    a | r
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn};

    use super::*;
    use crate::passes::testutil::{check_preserves, graph};

    use crate::passes::testutil::node_n as node;

    fn ops(g: &Graph) -> Vec<&str> {
        g.nodes.iter().map(|n| n.op.as_str()).collect()
    }

    #[test]
    fn attention_4d_gqa_past_mask_and_outputs_decomposes() {
        for mode in 0..4 {
            let mut g = graph(&[
                ("q", &[2, 4, 3, 4]),
                ("k", &[2, 2, 5, 4]),
                ("v", &[2, 2, 5, 6]),
                ("mask", &[3, 7]),
                ("pk", &[2, 2, 2, 4]),
                ("pv", &[2, 2, 2, 6]),
            ]);
            let ins: Vec<Option<Tid>> = (0..6).map(Some).collect();
            let attrs = vec![("qk_matmul_output_mode", Attr::Int(mode)), ("softcap", Attr::Float(3.0))];
            node(&mut g, "Attention", &ins, 4, attrs);
            let (g, changed) = check_preserves(g, run);
            assert!(changed && !ops(&g).contains(&"Attention"), "{:?}", ops(&g));
            assert!(ops(&g).contains(&"LogSoftmax") && ops(&g).contains(&"Gather"));
        }
    }

    #[test]
    fn attention_3d_causal_and_boolean_masks_decompose() {
        for (softcap, scale) in [(0.0, None), (2.0, Some(0.3))] {
            let mut g = graph(&[("q", &[1, 3, 8]), ("k", &[1, 5, 8]), ("v", &[1, 5, 6])]);
            // a boolean mask: a constant of 0s and 1s (every row keeps its first column)
            let m = g.add_tensor("mask", true);
            let bits: Vec<f32> = (0..15).map(|e| ((e % 5 == 0) || (e % 3 == 1)) as u8 as f32).collect();
            g.consts.insert(m, Value::Float(ArrayD::from_shape_vec(IxDyn(&[3, 5]), bits).unwrap()));
            g.tensors[m].onnx_type = 9;
            let mut attrs = vec![
                ("q_num_heads", Attr::Int(2)),
                ("kv_num_heads", Attr::Int(2)),
                ("is_causal", Attr::Int(1)),
                ("softcap", Attr::Float(softcap)),
            ];
            if let Some(s) = scale {
                attrs.push(("scale", Attr::Float(s)));
            }
            node(&mut g, "Attention", &[Some(0), Some(1), Some(2), Some(m)], 1, attrs);
            let (g, changed) = check_preserves(g, run);
            assert!(changed && ops(&g).contains(&"Softmax"), "{:?}", ops(&g));
        }
        // a run-time boolean mask
        let mut g = graph(&[("q", &[1, 2, 3, 4]), ("k", &[1, 2, 3, 4]), ("v", &[1, 2, 3, 4]), ("mask", &[3, 3])]);
        g.tensors[3].onnx_type = 9;
        node(&mut g, "Attention", &[Some(0), Some(1), Some(2), Some(3)], 1, vec![]);
        let (g, changed) = check_preserves(g, run);
        assert!(changed && ops(&g).contains(&"Not"), "{:?}", ops(&g));
    }

    #[test]
    fn short_masks_and_padding_lengths_decompose() {
        for (boolean, causal) in [(false, 0), (true, 0), (false, 1), (true, 1)] {
            let mut g = graph(&[("q", &[2, 2, 3, 4]), ("k", &[2, 2, 5, 4]), ("v", &[2, 2, 5, 3]), ("mask", &[2, 1, 3, 4])]);
            if boolean {
                g.tensors[3].onnx_type = 9;
            }
            let l = g.add_tensor("nonpad", false);
            g.consts.insert(l, Value::Int(ArrayD::from_shape_vec(IxDyn(&[2]), vec![3, 5]).unwrap()));
            let ins = [Some(0), Some(1), Some(2), Some(3), None, None, Some(l)];
            node(&mut g, "Attention", &ins, 1, vec![("is_causal", Attr::Int(causal))]);
            let (g, changed) = check_preserves(g, run);
            assert!(changed && ops(&g).contains(&"Pad"), "{:?}", ops(&g));
        }
    }

    #[test]
    fn unsupported_attention_forms_stay_with_a_reason() {
        // qk_matmul_output mode 1 of a causal attention with a softcap
        let mut g = graph(&[("q", &[1, 1, 2, 4]), ("k", &[1, 1, 2, 4]), ("v", &[1, 1, 2, 4])]);
        node(
            &mut g,
            "Attention",
            &[Some(0), Some(1), Some(2)],
            4,
            vec![("is_causal", Attr::Int(1)), ("qk_matmul_output_mode", Attr::Int(1)), ("softcap", Attr::Float(2.0))],
        );
        crate::calibrate::infer_shapes(&mut g).unwrap();
        assert!(!run(&mut g));
        assert!(attention_plan(&g, &g.nodes[0]).unwrap_err().contains("softcap"));
        // heads that do not divide, a mask longer than the sequence, a bad mode
        let mut g = graph(&[("q", &[1, 2, 6]), ("k", &[1, 2, 6]), ("v", &[1, 2, 6]), ("m", &[2, 1])]);
        node(&mut g, "Attention", &[Some(0), Some(1), Some(2)], 1, vec![("q_num_heads", Attr::Int(4)), ("kv_num_heads", Attr::Int(3))]);
        let e = crate::calibrate::infer_shapes(&mut g).unwrap_err().to_string();
        assert!(e.contains("q_num_heads"), "{e}");
        let mut g = graph(&[("q", &[1, 1, 2, 4]), ("k", &[1, 1, 2, 4]), ("v", &[1, 1, 2, 4]), ("m", &[2, 3])]);
        node(&mut g, "Attention", &[Some(0), Some(1), Some(2), Some(3)], 1, vec![]);
        let e = crate::calibrate::infer_shapes(&mut g).unwrap_err().to_string();
        assert!(e.contains("its last axis 1 to the total sequence length 2"), "{e}");
        let mut g = graph(&[("q", &[1, 1, 2, 4]), ("k", &[1, 1, 2, 4]), ("v", &[1, 1, 2, 4])]);
        node(&mut g, "Attention", &[Some(0), Some(1), Some(2)], 1, vec![("qk_matmul_output_mode", Attr::Int(7))]);
        assert!(crate::calibrate::infer_shapes(&mut g).unwrap_err().to_string().contains("mode 7"));
    }

    #[test]
    fn rotary_embedding_decomposes() {
        for (interleaved, rotary) in [(0, 0), (1, 0), (0, 4), (1, 4)] {
            // 4-D with constant position ids into [max_pos, R/2] caches
            let half = if rotary == 0 { 4 } else { 2 };
            let mut g = graph(&[("x", &[2, 3, 4, 8]), ("cos", &[10, half]), ("sin", &[10, half])]);
            let p = g.add_tensor("pos", false);
            g.consts.insert(p, Value::Int(ArrayD::from_shape_vec(IxDyn(&[2, 4]), vec![0, 1, 2, 3, 9, 5, 5, 0]).unwrap()));
            let attrs = vec![("interleaved", Attr::Int(interleaved)), ("rotary_embedding_dim", Attr::Int(rotary))];
            node(&mut g, "RotaryEmbedding", &[Some(0), Some(1), Some(2), Some(p)], 1, attrs.clone());
            let (g, changed) = check_preserves(g, run);
            assert!(changed && !ops(&g).contains(&"RotaryEmbedding"), "{:?}", ops(&g));
            // 3-D without position ids: [B, S, R/2] caches
            let mut g = graph(&[("x", &[2, 4, 16]), ("cos", &[2, 4, half]), ("sin", &[2, 4, half])]);
            let mut attrs = attrs;
            attrs.push(("num_heads", Attr::Int(2)));
            node(&mut g, "RotaryEmbedding", &[Some(0), Some(1), Some(2)], 1, attrs);
            let (_, changed) = check_preserves(g, run);
            assert!(changed);
        }
        // an odd rotary dimension is an error
        let mut g = graph(&[("x", &[1, 1, 2, 4]), ("cos", &[1, 2, 1]), ("sin", &[1, 2, 1])]);
        node(&mut g, "RotaryEmbedding", &[Some(0), Some(1), Some(2)], 1, vec![("rotary_embedding_dim", Attr::Int(3))]);
        assert!(crate::calibrate::infer_shapes(&mut g).unwrap_err().to_string().contains("must be even"));
    }
}
