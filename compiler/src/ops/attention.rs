//! `Attention` (opset 23) and `RotaryEmbedding` (opset 23): the transformer ops, decomposed
//! before calibration ([`crate::passes::decompose_attention`]) into ops the spec already has.
//!
//! **Attention(Q, K, V, attn_mask?, past_key?, past_value?)**. 4-D inputs are
//! `Q [B, Hq, Sq, D]`, `K [B, Hkv, Skv, D]`, `V [B, Hkv, Skv, Dv]`; 3-D ones `[B, S, H·D]`
//! (with `q_num_heads`, `kv_num_heads`) are reshaped to `[B, S, H, D]` and transposed to
//! 4-D. `present_key = Concat(past_key, K)` and `present_value = Concat(past_value, V)` on the
//! sequence axis (`T = P + Skv` positions); with `Hq = r·Hkv` (grouped-query attention) query
//! head `h` reads key/value head `h / r`. Then
//!
//! ```text
//! qk   = (Q · Kᵀ) · scale                       (scale = 1/√D by default)
//! s    = qk + bias                              (bias: the float attn_mask, −∞ where a
//!                                                boolean mask is false or, is_causal,
//!                                                j > i + P; 0 elsewhere)
//! s'   = softcap · tanh(s / softcap)            (when softcap > 0)
//! Y    = Softmax(s') · V                        (3-D: transposed back to [B, Sq, Hq·Dv])
//! ```
//!
//! and `qk_matmul_output` is `qk` (mode 0), `s` (1), `s'` (2) or the softmax (3).
//!
//! Decomposition: Reshape/Transpose (views), Concat, Gather of the key/value heads (GQA),
//! `Mul(Q, scale)` (a table that only renames codes), MatMul, Add of the float mask, Tanh
//! and Muls for the softcap, the softmax, MatMul. The softmax is `Exp(LogSoftmax(s))` (its
//! probabilities then get a calibrated output range, finer than Softmax's fixed 1/256 when
//! they are all small, as over a long sequence) unless a causal or boolean mask is applied
//! (whose masked scores would stretch the log-probabilities' range), which uses Softmax. The −∞ of a causal or boolean mask cannot be
//! quantized: masked scores are instead *replaced* by a finite value far enough below every
//! score of their row that the softmax's exponential table gives them exactly 0,
//! `fill = ReduceMin(s', last axis) − 14` (or `−softcap` after a softcap, which is what
//! `tanh(−∞)` gives): `s'' = s' − notkeep · (s' − fill)` with `notkeep` the 0/1 mask
//! (a constant for is_causal, `Not(attn_mask)` for a run-time boolean mask). The scores'
//! range grows by 14 instead of by the size of a "large negative" constant. A mask shorter
//! than `T` is padded (Pad) with 0 (false), its missing columns masked; `nonpad_kv_seqlen`
//! (opset 24: key positions `j ≥ len[b]` masked) keeps row `len[b]` of a constant 0/1 table
//! (a Gather, GatherDynamic for run-time lengths: a length above `T` fails at run time). Not
//! `qk_matmul_output` entries that are −∞ in ONNX (modes 1 and 2 with a hard mask) come out
//! as that finite stand-in, at the bottom of the output's range (as a table saturates −∞);
//! mode 1 with a softcap and a hard mask is not supported.
//!
//! **RotaryEmbedding(X, cos_cache, sin_cache, position_ids?)**. `X [B, H, S, D]` or
//! `[B, S, H·D]` (`num_heads`); the first `R = rotary_embedding_dim` (default `D`) features of
//! each head are rotated in pairs `(x1, x2)`: the two halves, or even and odd features when
//! `interleaved`. With `cos = cos_cache[position_ids]` (or `cos_cache` itself, `[B, S, R/2]`,
//! without position ids), and `sin` likewise:
//!
//! ```text
//! real = cos · x1 − sin · x2,   imag = sin · x1 + cos · x2
//! ```
//!
//! written back in place of `x1` and `x2`; the other `D − R` features pass through.
//! Decomposition: Gather of the caches by the position ids (GatherDynamic for run-time ids),
//! Reshape to broadcast over the heads, Slice of `x1`/`x2` (step 2 when interleaved), Mul,
//! Sub, Add, and Concat (interleaved: Unsqueeze + Concat + Reshape to interleave).

use ndarray::{ArrayD, Axis, IxDyn};

use super::{OpDef, R, check_elements, check_work, input};
use crate::{
    ir::{Graph, Node, Tid, Value},
    quantize::Lowering,
};

pub(crate) const OPS: &[OpDef] =
    &[OpDef::new("", "Attention", eval_attention, lower_attention), OpDef::new("", "RotaryEmbedding", eval_rotary, lower_rotary)];

/// How far below the row's smallest score a masked score is put: the softmax's exponential
/// table (`exp(−d·s)·2^16`, rounded) is 0 once `d·s > ln 2^17 ≈ 11.8`, so 14 leaves room
/// for the rounding of the intermediate steps.
pub const MASK_MARGIN: f32 = 14.0;

/// The sizes and attributes of an Attention node.
#[derive(Debug, Clone, PartialEq)]
pub struct AttentionDims {
    /// Q, K and V are 3-D (`[B, S, H·D]`).
    pub rank3: bool,
    /// Batch size `B`.
    pub batch: usize,
    /// Query heads `Hq`.
    pub q_heads: usize,
    /// Key/value heads `Hkv`.
    pub kv_heads: usize,
    /// Query sequence length `Sq`.
    pub q_len: usize,
    /// New key/value sequence length `Skv`.
    pub kv_len: usize,
    /// Past sequence length `P` (0 without past_key).
    pub past: usize,
    /// Head size of Q and K.
    pub head: usize,
    /// Head size of V.
    pub v_head: usize,
    /// The factor of `Q · Kᵀ` (attribute `scale`, default `1/√D`).
    pub scale: f32,
    /// Attribute `softcap`; 0 when there is none.
    pub softcap: f32,
    /// Attribute `is_causal`.
    pub causal: bool,
    /// Attribute `qk_matmul_output_mode` (0 to 3).
    pub mode: i64,
}

impl AttentionDims {
    /// `T = P + Skv`.
    pub fn total(&self) -> usize {
        self.past + self.kv_len
    }

    /// Check node `n`'s attributes against its input shapes (Q, K, V, attn_mask, past_key,
    /// past_value).
    pub fn parse(n: &Node, shapes: &[Option<Vec<usize>>]) -> R<AttentionDims> {
        let get = |i: usize, what: &str| shapes.get(i).cloned().flatten().ok_or_else(|| format!("Attention needs input {i} ({what})"));
        let (q, k, v) = (get(0, "Q")?, get(1, "K")?, get(2, "V")?);
        if q.len() != k.len() || q.len() != v.len() || !(q.len() == 3 || q.len() == 4) {
            return Err(format!("Attention Q, K, V of shapes {q:?}, {k:?}, {v:?}: all 3-D or all 4-D"));
        }
        let rank3 = q.len() == 3;
        let heads = |name: &str, hidden: usize| -> R<(usize, usize)> {
            let h = n.int(name, 0);
            if h <= 0 || h as u64 > hidden as u64 || !hidden.is_multiple_of(h as usize) {
                return Err(format!("Attention on 3-D inputs needs {name} (got {h}) dividing the hidden size {hidden}"));
            }
            Ok((h as usize, hidden / h as usize))
        };
        let (batch, q_heads, q_len, head, kv_heads, kv_len, kh, v_head);
        if rank3 {
            (batch, q_len, kv_len) = (q[0], q[1], k[1]);
            (q_heads, head) = heads("q_num_heads", q[2])?;
            (kv_heads, kh) = heads("kv_num_heads", k[2])?;
            let (vh, vd) = heads("kv_num_heads", v[2])?;
            if vh != kv_heads || v[1] != kv_len {
                return Err(format!("Attention K {k:?} and V {v:?} do not match"));
            }
            v_head = vd;
        } else {
            (batch, q_heads, q_len, head) = (q[0], q[1], q[2], q[3]);
            (kv_heads, kv_len, kh, v_head) = (k[1], k[2], k[3], v[3]);
            if v[1] != kv_heads || v[2] != kv_len {
                return Err(format!("Attention K {k:?} and V {v:?} do not match"));
            }
        }
        if kh != head || k[0] != batch || v[0] != batch {
            return Err(format!("Attention Q {q:?} and K {k:?} (or V {v:?}) do not match"));
        }
        if kv_heads == 0 || q_heads % kv_heads != 0 {
            return Err(format!("Attention with {q_heads} query heads and {kv_heads} key/value heads (not a multiple)"));
        }
        let mut past = 0;
        for (i, d) in [(4, head), (5, v_head)] {
            if let Some(p) = shapes.get(i).cloned().flatten() {
                if p.len() != 4 || p[0] != batch || p[1] != kv_heads || p[3] != d {
                    return Err(format!("Attention past input {i} of shape {p:?} does not match [{batch}, {kv_heads}, P, {d}]"));
                }
                if i == 5 && p[2] != past {
                    return Err("Attention past_key and past_value of different lengths".into());
                }
                past = p[2];
            } else if i == 5 && past != 0 {
                return Err("Attention with past_key but no past_value".into());
            }
        }
        let total = past.checked_add(kv_len).ok_or("Attention sequence length overflows")?;
        check_elements(&[batch, q_heads, q_len, total], "the Attention scores")?;
        check_work(&[batch, q_heads, q_len, total, head.max(v_head)], "Attention")?;
        if let Some(m) = shapes.get(3).cloned().flatten() {
            let mut padded = m.clone();
            match padded.last_mut() {
                Some(l) if (1..=total).contains(l) && m.len() <= 4 => *l = total,
                _ => {
                    return Err(format!(
                        "Attention attn_mask of shape {m:?}: rank 1 to 4, its last axis 1 to the total sequence length {total}"
                    ));
                }
            }
            crate::float::broadcast_shape(&padded, &[batch, q_heads, q_len, total])
                .map_err(|_| format!("Attention attn_mask of shape {m:?} does not broadcast to {:?}", [batch, q_heads, q_len, total]))?;
        }
        if let Some(l) = shapes.get(6).cloned().flatten()
            && l != [batch]
        {
            return Err(format!("Attention nonpad_kv_seqlen of shape {l:?} is not [{batch}]"));
        }
        if shapes.get(6).cloned().flatten().is_some() {
            // the decomposition's table of masks, one row per length
            check_elements(&[total.saturating_add(1), total], "the Attention padding-mask table")?;
        }
        let scale = match n.attr("scale") {
            Some(_) => n.float("scale", 1.0),
            None => 1.0 / (head as f32).sqrt(),
        };
        let softcap = n.float("softcap", 0.0);
        if !scale.is_finite() || !softcap.is_finite() || softcap < 0.0 {
            return Err(format!("Attention scale {scale} or softcap {softcap} is not a finite (non-negative) number"));
        }
        let mode = n.int("qk_matmul_output_mode", 0);
        if !(0..=3).contains(&mode) {
            return Err(format!("Attention qk_matmul_output_mode {mode} is not 0, 1, 2 or 3"));
        }
        let causal = match n.int("is_causal", 0) {
            0 => false,
            1 => true,
            c => return Err(format!("Attention is_causal {c} is not 0 or 1")),
        };
        Ok(AttentionDims { rank3, batch, q_heads, kv_heads, q_len, kv_len, past, head, v_head, scale, softcap, causal, mode })
    }
}

/// Whether tensor `t` holds booleans: a bool graph input or constant, or the output of a
/// comparison, a logical op or a Cast to BOOL.
pub fn is_bool(g: &Graph, t: Tid) -> bool {
    if g.tensors[t].onnx_type == 9 {
        return true;
    }
    g.nodes.iter().find(|n| n.outputs.contains(&t)).is_some_and(|n| {
        n.domain.is_empty()
            && (matches!(
                n.op.as_str(),
                "Equal" | "Less" | "LessOrEqual" | "Greater" | "GreaterOrEqual" | "Not" | "And" | "Or" | "Xor" | "IsNaN" | "IsInf"
            ) || (n.op == "Cast" && n.int("to", 0) == 9))
    })
}

/// Q, K or V as 4-D `[B, H, S, D]` (3-D inputs are split into `heads` heads).
fn to4(a: ArrayD<f32>, heads: usize, rank3: bool) -> R<ArrayD<f32>> {
    if !rank3 {
        return Ok(a);
    }
    let s = a.shape().to_vec();
    let a = a.into_shape_with_order(IxDyn(&[s[0], s[1], heads, s[2] / heads])).map_err(|e| e.to_string())?;
    Ok(a.permuted_axes(IxDyn(&[0, 2, 1, 3])).as_standard_layout().to_owned())
}

fn eval_attention(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let shapes: Vec<Option<Vec<usize>>> = ins.iter().map(|v| v.map(|v| v.shape())).collect();
    let d = AttentionDims::parse(n, &shapes)?;
    let q = to4(input(ins, 0)?.to_f32(), d.q_heads, d.rank3)?;
    let mut k = to4(input(ins, 1)?.to_f32(), d.kv_heads, d.rank3)?;
    let mut v = to4(input(ins, 2)?.to_f32(), d.kv_heads, d.rank3)?;
    let cat = |p: Option<&Value>, x: ArrayD<f32>| -> R<ArrayD<f32>> {
        match p {
            Some(p) => ndarray::concatenate(Axis(2), &[p.to_f32().view(), x.view()]).map_err(|e| e.to_string()),
            None => Ok(x),
        }
    };
    k = cat(ins.get(4).copied().flatten(), k)?;
    v = cat(ins.get(5).copied().flatten(), v)?;
    let (b, hq, sq, t) = (d.batch, d.q_heads, d.q_len, d.total());
    let full = IxDyn(&[b, hq, sq, t]);
    let mask_in = ins.get(3).copied().flatten();
    let boolean = mask_in.is_some() && n.input(3).is_some_and(|m| is_bool(g, m));
    // a mask shorter than T is padded with −∞ (false)
    let mask = mask_in.map(|m| {
        let m = m.to_f32();
        let mut shape = m.shape().to_vec();
        let last = shape.len() - 1;
        let len = shape[last];
        shape[last] = t;
        let fill = if boolean { 0.0 } else { f32::NEG_INFINITY };
        ArrayD::from_shape_fn(IxDyn(&shape), |ix| if ix[last] < len { m[&ix] } else { fill })
    });
    let mask = match &mask {
        Some(m) => Some(m.broadcast(full.clone()).ok_or("attn_mask does not broadcast")?),
        None => None,
    };
    let nonpad: Option<Vec<i64>> = ins.get(6).copied().flatten().map(|l| l.to_i64().iter().copied().collect());
    let r = hq / d.kv_heads;
    let mut qk = ArrayD::<f32>::zeros(full.clone());
    let mut biased = qk.clone();
    for (bi, h, i, j) in ndarray::indices((b, hq, sq, t)) {
        let dot: f32 = (0..d.head).map(|e| q[[bi, h, i, e]] * k[[bi, h / r, j, e]]).sum();
        let s = dot * d.scale;
        qk[[bi, h, i, j]] = s;
        let mut bias = 0.0;
        if let Some(m) = &mask {
            let m = m[[bi, h, i, j]];
            bias = if boolean { if m != 0.0 { 0.0 } else { f32::NEG_INFINITY } } else { m };
        }
        if d.causal && j > i + d.past {
            bias = f32::NEG_INFINITY;
        }
        if nonpad.as_ref().is_some_and(|l| j as i64 >= l[bi]) {
            bias += f32::NEG_INFINITY;
        }
        biased[[bi, h, i, j]] = s + bias;
    }
    let capped = if d.softcap > 0.0 { biased.mapv(|x| d.softcap * (x / d.softcap).tanh()) } else { biased.clone() };
    let mut p = capped.clone();
    for mut lane in p.lanes_mut(Axis(3)) {
        let m = lane.fold(f32::NEG_INFINITY, |a, &x| a.max(x));
        let s: f32 = lane.iter().map(|&x| (x - m).exp()).sum();
        lane.mapv_inplace(|x| (x - m).exp() / s);
    }
    let mut y = ArrayD::<f32>::zeros(IxDyn(&[b, hq, sq, d.v_head]));
    for (bi, h, i, e) in ndarray::indices((b, hq, sq, d.v_head)) {
        y[[bi, h, i, e]] = (0..t).map(|j| p[[bi, h, i, j]] * v[[bi, h / r, j, e]]).sum();
    }
    if d.rank3 {
        y = y.permuted_axes(IxDyn(&[0, 2, 1, 3])).as_standard_layout().to_owned();
        y = y.into_shape_with_order(IxDyn(&[b, sq, hq * d.v_head])).map_err(|e| e.to_string())?;
    }
    let qk_out = match d.mode {
        0 => qk,
        1 => biased,
        2 => capped,
        _ => p,
    };
    Ok([y, k, v, qk_out].into_iter().take(n.outputs.len().max(1)).map(Value::Float).collect())
}

fn lower_attention(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    Err(crate::passes::decompose_attention::attention_plan(l.g, n)
        .err()
        .unwrap_or_else(|| "Attention is decomposed before lowering, but this node was not".into()))
}

/// The sizes and attributes of a RotaryEmbedding node.
#[derive(Debug, Clone, PartialEq)]
pub struct RotaryDims {
    /// The input is `[B, S, H·D]` (otherwise `[B, H, S, D]`).
    pub rank3: bool,
    /// Batch size `B`.
    pub batch: usize,
    /// Heads `H`.
    pub heads: usize,
    /// Sequence length `S`.
    pub len: usize,
    /// Head size `D`.
    pub head: usize,
    /// Rotated features per head (even, ≤ `head`).
    pub rotary: usize,
    /// Attribute `interleaved`: pairs are even and odd features (else the two halves).
    pub interleaved: bool,
    /// Whether position ids index the caches (else they are `[B, S, R/2]`).
    pub positions: bool,
}

impl RotaryDims {
    /// Check node `n`'s attributes against its input shapes (X, cos_cache, sin_cache,
    /// position_ids).
    pub fn parse(n: &Node, shapes: &[Option<Vec<usize>>]) -> R<RotaryDims> {
        let get = |i: usize| shapes.get(i).cloned().flatten().ok_or_else(|| format!("RotaryEmbedding needs input {i}"));
        let (x, cos, sin) = (get(0)?, get(1)?, get(2)?);
        let (rank3, batch, heads, len, head) = match *x.as_slice() {
            [b, h, s, d] => (false, b, h, s, d),
            [b, s, hidden] => {
                let h = n.int("num_heads", 0);
                if h <= 0 || h as u64 > hidden as u64 || !hidden.is_multiple_of(h as usize) {
                    return Err(format!("RotaryEmbedding on a 3-D input needs num_heads (got {h}) dividing the hidden size {hidden}"));
                }
                (true, b, h as usize, s, hidden / h as usize)
            }
            _ => return Err(format!("RotaryEmbedding input of shape {x:?}: 3-D or 4-D")),
        };
        let rotary = match n.int("rotary_embedding_dim", 0) {
            0 if head.is_multiple_of(2) => head,
            r if r > 0 && r as u64 <= head as u64 && r % 2 == 0 => r as usize,
            r => {
                return Err(format!(
                    "RotaryEmbedding rotary_embedding_dim {r} (0: the head size) must be even and at most the head size {head}"
                ));
            }
        };
        let interleaved = match n.int("interleaved", 0) {
            0 => false,
            1 => true,
            i => return Err(format!("RotaryEmbedding interleaved {i} is not 0 or 1")),
        };
        let positions = shapes.get(3).cloned().flatten();
        let want_cache = |c: &[usize]| match &positions {
            Some(_) => c.len() == 2 && c[1] == rotary / 2,
            None => c == [batch, len, rotary / 2],
        };
        if !want_cache(&cos) || cos != sin {
            return Err(format!(
                "RotaryEmbedding caches of shapes {cos:?} and {sin:?} do not match rotary_embedding_dim/2 = {} \
                 ([max_position, R/2] with position ids, [B, S, R/2] without)",
                rotary / 2
            ));
        }
        if let Some(p) = &positions
            && p != &[batch, len]
        {
            return Err(format!("RotaryEmbedding position_ids of shape {p:?} is not [{batch}, {len}]"));
        }
        Ok(RotaryDims { rank3, batch, heads, len, head, rotary, interleaved, positions: positions.is_some() })
    }
}

fn eval_rotary(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let shapes: Vec<Option<Vec<usize>>> = ins.iter().map(|v| v.map(|v| v.shape())).collect();
    let d = RotaryDims::parse(n, &shapes)?;
    let x = input(ins, 0)?.to_f32();
    let (cos, sin) = (input(ins, 1)?.to_f32(), input(ins, 2)?.to_f32());
    let half = d.rotary / 2;
    // the cache rows of each (batch, position)
    let row = |c: &ArrayD<f32>, b: usize, s: usize, k: usize| -> R<f32> {
        match ins.get(3).copied().flatten() {
            Some(p) => {
                let p = p.to_i64()[[b, s]];
                let rows = c.shape()[0];
                let r = usize::try_from(p).ok().filter(|&r| r < rows).ok_or_else(|| format!("position id {p} out of range for {rows}"))?;
                Ok(c[[r, k]])
            }
            None => Ok(c[[b, s, k]]),
        }
    };
    let mut y = x.clone();
    for b in 0..d.batch {
        for s in 0..d.len {
            for h in 0..d.heads {
                let at = |f: usize| if d.rank3 { vec![b, s, h * d.head + f] } else { vec![b, h, s, f] };
                for k in 0..half {
                    let (i1, i2) = if d.interleaved { (2 * k, 2 * k + 1) } else { (k, k + half) };
                    let (x1, x2) = (x[IxDyn(&at(i1))], x[IxDyn(&at(i2))]);
                    let (c, sn) = (row(&cos, b, s, k)?, row(&sin, b, s, k)?);
                    y[IxDyn(&at(i1))] = c * x1 - sn * x2;
                    y[IxDyn(&at(i2))] = sn * x1 + c * x2;
                }
            }
        }
    }
    Ok(vec![Value::Float(y)])
}

fn lower_rotary(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    Err(crate::passes::decompose_attention::rotary_plan(l.g, n)
        .err()
        .unwrap_or_else(|| "RotaryEmbedding is decomposed before lowering, but this node was not".into()))
}
