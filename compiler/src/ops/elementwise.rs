//! Unary element-wise ops (`Relu`, `Clip`, `Sigmoid`, `Exp`, the trigonometric and hyperbolic
//! functions and their inverses, `Mish`, `Swish`, `Celu`, `Shrink`, …): a real function of one real
//! input ([`Unary`], attributes and Clip's constant bounds resolved once).
//!
//! Float semantics: the function in `f64`, applied to each element. Lowering: a 256-entry
//! table (spec `Lut`) tabulated from the same function, exact by construction. The integer
//! results of `Round`, `Floor` and `Ceil` get integer steps (scale 1 over a range of at most
//! 256 integers: every result exact); a model input that only a `Round` reads gets scale 1 too
//! ([`rounded_input_quant`]), so its input quantization rounds half to even as ONNX's Round
//! does and the table is the identity on codes.
//!
//! `Clip` of an integer tensor keeps integers (`i64` semantics): for the 8-bit types it is exact
//! as a `Take` of the 256-entry table `clamp(k − o, lo, hi)` of the value shifted by
//! `o` = 128 (int8, an `IntBinary` Add) or 0 (uint8) ([`lower_integer_clip`]); wider integer
//! types have no exact form on the spec's integer Add, Sub and Mul and are refused, as are the
//! other functions of an integer tensor.

use super::{
    OpDef, R,
    gather_elements::{const_i64, int_binary},
    input,
};
use crate::{
    ir::{Node, Tid, Value},
    quantize::{Lowering, integer_quant_from_range},
};
use solidml_spec::{DType, IntBinaryKind, Op, Quant, TensorId};

pub(crate) const OPS: &[OpDef] = &[
    unary("Abs"),
    unary("Acos"),
    unary("Acosh"),
    unary("Asin"),
    unary("Asinh"),
    unary("Atan"),
    unary("Atanh"),
    unary("Celu"),
    unary("Cosh"),
    unary("Mish"),
    unary("Not"),
    unary("Shrink"),
    unary("Sinh"),
    unary("Swish"),
    unary("Tan"),
    unary("ThresholdedRelu"),
    unary("Ceil"),
    unary("Clip"),
    unary("Cos"),
    unary("Elu"),
    unary("Erf"),
    unary("Exp"),
    unary("Floor"),
    unary("Gelu"),
    unary("HardSigmoid"),
    unary("HardSwish"),
    unary("LeakyRelu"),
    unary("Log"),
    unary("Neg"),
    unary("Reciprocal"),
    unary("Relu"),
    unary("Round"),
    unary("Selu"),
    unary("Sigmoid"),
    unary("Sign"),
    unary("Sin"),
    unary("Softplus"),
    unary("Softsign"),
    unary("Sqrt"),
    unary("Tanh"),
];

const fn unary(op_type: &'static str) -> OpDef {
    OpDef::new("", op_type, eval, lower)
}

/// A unary function with its attributes resolved (ONNX defaults where absent).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unary {
    /// ONNX `Relu`: `max(x, 0)`.
    Relu,
    /// ONNX `LeakyRelu`: `x` for `x ≥ 0`, `alpha · x` below.
    LeakyRelu {
        /// Slope for negative inputs (attribute `alpha`, default 0.01).
        alpha: f64,
    },
    /// ONNX `Elu`: `x` for `x ≥ 0`, `alpha · (eˣ − 1)` below.
    Elu {
        /// Scale of the negative branch (attribute `alpha`, default 1.0).
        alpha: f64,
    },
    /// ONNX `Selu`: `gamma · x` for `x > 0`, `gamma · alpha · (eˣ − 1)` otherwise.
    Selu {
        /// Scale of the negative branch (attribute `alpha`, default 1.6732632).
        alpha: f64,
        /// Overall output scale (attribute `gamma`, default 1.0507010).
        gamma: f64,
    },
    /// ONNX `Clip`: `min(max(x, lo), hi)`. Bounds from the attributes (opset < 11) or the
    /// constant inputs 1 and 2.
    Clip {
        /// Lower bound (attribute or input `min`; −∞ when absent).
        lo: f64,
        /// Upper bound (attribute or input `max`; +∞ when absent).
        hi: f64,
    },
    /// ONNX `Sigmoid`: `1 / (1 + e⁻ˣ)`.
    Sigmoid,
    /// ONNX `HardSigmoid`: `clamp(alpha · x + beta, 0, 1)`.
    HardSigmoid {
        /// Slope (attribute `alpha`, default 0.2).
        alpha: f64,
        /// Offset (attribute `beta`, default 0.5).
        beta: f64,
    },
    /// ONNX `HardSwish`: `x · clamp(x / 6 + 1/2, 0, 1)`.
    HardSwish,
    /// ONNX `Tanh`: the hyperbolic tangent.
    Tanh,
    /// ONNX `Softplus`: `ln(1 + eˣ)` (taken as `x` above 30, where the difference is below
    /// `f64` precision).
    Softplus,
    /// ONNX `Softsign`: `x / (1 + |x|)`.
    Softsign,
    /// ONNX `Erf`: the error function, by [`erf`].
    Erf,
    /// ONNX `Gelu` (opset 20): `x · Φ(x)`, with `Φ` the standard normal CDF.
    Gelu {
        /// `approximate = "tanh"` (the tanh approximation of `Φ`); `false` for the default
        /// `"none"`, the exact form through [`erf`].
        tanh: bool,
    },
    /// ONNX `Exp`: `eˣ`.
    Exp,
    /// ONNX `Log`: the natural logarithm (NaN below 0, −∞ at 0).
    Log,
    /// ONNX `Sqrt`: the square root (NaN below 0).
    Sqrt,
    /// ONNX `Neg`: `−x`.
    Neg,
    /// ONNX `Abs`: `|x|`.
    Abs,
    /// ONNX `Reciprocal`: `1 / x`.
    Reciprocal,
    /// ONNX `Floor`: rounds toward −∞.
    Floor,
    /// ONNX `Ceil`: rounds toward +∞.
    Ceil,
    /// ONNX `Round`: rounds to the nearest integer, halves to even.
    Round,
    /// ONNX `Sign`: −1, 0 or 1 by the sign of `x`.
    Sign,
    /// ONNX `Sin`: the sine (radians).
    Sin,
    /// ONNX `Cos`: the cosine (radians).
    Cos,
    /// ONNX `Tan`: the tangent (radians).
    Tan,
    /// ONNX `Asin`: the arcsine (NaN outside [−1, 1]).
    Asin,
    /// ONNX `Acos`: the arccosine (NaN outside [−1, 1]).
    Acos,
    /// ONNX `Atan`: the arctangent.
    Atan,
    /// ONNX `Sinh`: the hyperbolic sine.
    Sinh,
    /// ONNX `Cosh`: the hyperbolic cosine.
    Cosh,
    /// ONNX `Asinh`: the inverse hyperbolic sine.
    Asinh,
    /// ONNX `Acosh`: the inverse hyperbolic cosine (NaN below 1).
    Acosh,
    /// ONNX `Atanh`: the inverse hyperbolic tangent (NaN outside (−1, 1), ±∞ at ±1).
    Atanh,
    /// ONNX `Mish`: `x · tanh(softplus(x))`.
    Mish,
    /// ONNX `Swish` (opset 24): `x · sigmoid(alpha · x)`.
    Swish {
        /// Slope inside the sigmoid (attribute `alpha`, default 1.0).
        alpha: f64,
    },
    /// ONNX `Celu`: `max(0, x) + min(0, alpha · (e^(x/alpha) − 1))`.
    Celu {
        /// Scale (attribute `alpha`, default 1.0).
        alpha: f64,
    },
    /// ONNX `Shrink`: `x + bias` below `−lambd`, `x − bias` above `lambd`, 0 between.
    Shrink {
        /// Attribute `bias`, default 0.
        bias: f64,
        /// Attribute `lambd`, default 0.5.
        lambd: f64,
    },
    /// ONNX `ThresholdedRelu`: `x` above `alpha`, else 0.
    ThresholdedRelu {
        /// The threshold (attribute `alpha`, default 1.0).
        alpha: f64,
    },
    /// ONNX `Not` on a boolean (the reals 0 and 1; any non-zero is true): 1 for 0, else 0.
    Not,
}

impl Unary {
    /// The function of node `n` (constant extra inputs such as Clip's bounds in `ins`), or
    /// `None` when `n` is not a unary element-wise op.
    pub fn parse(n: &Node, ins: &[Option<&Value>]) -> Option<Unary> {
        if !n.domain.is_empty() {
            return None;
        }
        // an explicit NaN alpha is the ONNX default too
        let alpha = |default: f64| {
            let a = n.float("alpha", f32::NAN) as f64;
            if a.is_nan() { default } else { a }
        };
        let scalar_in =
            |i: usize| -> Option<f64> { ins.get(i).copied().flatten().and_then(|v| v.to_f32().iter().next().map(|&x| x as f64)) };
        Some(match n.op.as_str() {
            "Relu" => Unary::Relu,
            "LeakyRelu" => Unary::LeakyRelu { alpha: alpha(0.01) },
            "Elu" => Unary::Elu { alpha: alpha(1.0) },
            "Selu" => Unary::Selu { alpha: alpha(1.673_263_192_176_818_8), gamma: n.float("gamma", 1.050_701) as f64 },
            "Clip" => {
                let (lo, hi) = if n.attrs.contains_key("min") || n.attrs.contains_key("max") {
                    (n.float("min", f32::NEG_INFINITY) as f64, n.float("max", f32::INFINITY) as f64)
                } else {
                    (scalar_in(1).unwrap_or(f64::NEG_INFINITY), scalar_in(2).unwrap_or(f64::INFINITY))
                };
                Unary::Clip { lo, hi }
            }
            "Sigmoid" => Unary::Sigmoid,
            "HardSigmoid" => Unary::HardSigmoid { alpha: alpha(0.2), beta: n.float("beta", 0.5) as f64 },
            "HardSwish" => Unary::HardSwish,
            "Tanh" => Unary::Tanh,
            "Softplus" => Unary::Softplus,
            "Softsign" => Unary::Softsign,
            "Erf" => Unary::Erf,
            "Gelu" => Unary::Gelu { tanh: n.str("approximate", "none") == "tanh" },
            "Exp" => Unary::Exp,
            "Log" => Unary::Log,
            "Sqrt" => Unary::Sqrt,
            "Neg" => Unary::Neg,
            "Abs" => Unary::Abs,
            "Reciprocal" => Unary::Reciprocal,
            "Floor" => Unary::Floor,
            "Ceil" => Unary::Ceil,
            "Round" => Unary::Round,
            "Sign" => Unary::Sign,
            "Sin" => Unary::Sin,
            "Cos" => Unary::Cos,
            "Tan" => Unary::Tan,
            "Asin" => Unary::Asin,
            "Acos" => Unary::Acos,
            "Atan" => Unary::Atan,
            "Sinh" => Unary::Sinh,
            "Cosh" => Unary::Cosh,
            "Asinh" => Unary::Asinh,
            "Acosh" => Unary::Acosh,
            "Atanh" => Unary::Atanh,
            "Mish" => Unary::Mish,
            "Swish" => Unary::Swish { alpha: alpha(1.0) },
            "Celu" => Unary::Celu { alpha: alpha(1.0) },
            "Shrink" => Unary::Shrink { bias: n.float("bias", 0.0) as f64, lambd: n.float("lambd", 0.5) as f64 },
            "ThresholdedRelu" => Unary::ThresholdedRelu { alpha: alpha(1.0) },
            "Not" => Unary::Not,
            _ => return None,
        })
    }

    /// The real function.
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Unary::Relu => x.max(0.0),
            Unary::LeakyRelu { alpha } => {
                if x < 0.0 {
                    alpha * x
                } else {
                    x
                }
            }
            Unary::Elu { alpha } => {
                if x < 0.0 {
                    alpha * (x.exp() - 1.0)
                } else {
                    x
                }
            }
            Unary::Selu { alpha, gamma } => gamma * if x <= 0.0 { alpha * (x.exp() - 1.0) } else { x },
            Unary::Clip { lo, hi } => x.max(lo).min(hi),
            Unary::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            Unary::HardSigmoid { alpha, beta } => (alpha * x + beta).clamp(0.0, 1.0),
            Unary::HardSwish => x * (x / 6.0 + 0.5).clamp(0.0, 1.0),
            Unary::Tanh => x.tanh(),
            Unary::Softplus => {
                if x > 30.0 {
                    x
                } else {
                    x.exp().ln_1p()
                }
            }
            Unary::Softsign => x / (1.0 + x.abs()),
            Unary::Erf => erf(x),
            Unary::Gelu { tanh: true } => 0.5 * x * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x * x * x)).tanh()),
            Unary::Gelu { tanh: false } => 0.5 * x * (1.0 + erf(x / std::f64::consts::SQRT_2)),
            Unary::Exp => x.exp(),
            Unary::Log => x.ln(),
            Unary::Sqrt => x.sqrt(),
            Unary::Neg => -x,
            Unary::Abs => x.abs(),
            Unary::Reciprocal => 1.0 / x,
            Unary::Floor => x.floor(),
            Unary::Ceil => x.ceil(),
            Unary::Round => x.round_ties_even(),
            Unary::Sign => {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
            Unary::Sin => x.sin(),
            Unary::Cos => x.cos(),
            Unary::Tan => x.tan(),
            Unary::Asin => x.asin(),
            Unary::Acos => x.acos(),
            Unary::Atan => x.atan(),
            Unary::Sinh => x.sinh(),
            Unary::Cosh => x.cosh(),
            Unary::Asinh => x.asinh(),
            Unary::Acosh => x.acosh(),
            Unary::Atanh => x.atanh(),
            Unary::Mish => x * Unary::Softplus.apply(x).tanh(),
            Unary::Swish { alpha } => x / (1.0 + (-alpha * x).exp()),
            Unary::Celu { alpha } => x.max(0.0) + (alpha * ((x / alpha).exp() - 1.0)).min(0.0),
            Unary::Shrink { bias, lambd } => {
                if x < -lambd {
                    x + bias
                } else if x > lambd {
                    x - bias
                } else {
                    0.0
                }
            }
            Unary::ThresholdedRelu { alpha } => {
                if x > alpha {
                    x
                } else {
                    0.0
                }
            }
            Unary::Not => (x == 0.0) as u8 as f64,
        }
    }
}

/// Error function (W. J. Cody's rational approximations are overkill for int8 tables:
/// Abramowitz & Stegun 7.1.26 has |error| < 1.5e-7, far below one int8 step).
pub fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let y =
        1.0 - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736) * t + 0.254_829_592) * t * (-x * x).exp();
    if x >= 0.0 { y } else { -y }
}

fn parse(n: &Node, ins: &[Option<&Value>]) -> R<Unary> {
    Unary::parse(n, ins).ok_or_else(|| format!("{} is not a unary element-wise op", n.op))
}

fn eval(_: &crate::ir::Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let u = parse(n, ins)?;
    if let (Unary::Clip { lo, hi }, Value::Int(x)) = (u, input(ins, 0)?) {
        return Ok(vec![Value::Int(x.mapv(|v| clip_int(v, lo, hi)))]);
    }
    Ok(vec![Value::Float(input(ins, 0)?.to_f32().mapv(|x| u.apply(x as f64) as f32))])
}

/// `min(max(v, lo), hi)` on an integer (`hi` when `lo > hi`, as ONNX says); the bounds are the
/// (integer) values of Clip's integer `min` and `max` inputs, infinite when absent.
fn clip_int(v: i64, lo: f64, hi: f64) -> i64 {
    let v = if (v as f64) < lo { lo as i64 } else { v };
    if (v as f64) > hi { hi as i64 } else { v }
}

/// `Clip` (`u`) of the integer tensor `xt` (spec tensor `x`, i64) of node `n`: the module docs.
fn lower_integer_clip(l: &mut Lowering<'_>, n: &Node, u: Unary, xt: Tid, x: TensorId) -> R<()> {
    let g = l.g;
    let Unary::Clip { lo, hi } = u else {
        return Err(format!("{} of the integer tensor `{}` is not supported (only Clip has an integer form)", n.op, g.name(xt)));
    };
    let offset = match g.tensors[xt].onnx_type {
        3 => 128, // int8
        2 => 0,   // uint8
        t => {
            return Err(format!(
                "Clip of the integer tensor `{}` (ONNX element type {t}) is supported for int8 and uint8 only (a 256-entry table: wider integers have no exact form on the spec's integer Add, Sub and Mul)",
                g.name(xt)
            ));
        }
    };
    let k = if offset == 0 {
        x
    } else {
        let c = const_i64(l, &format!("{}.offset", n.name), &[], vec![offset]);
        int_binary(l, &format!("{}.offset", n.name), IntBinaryKind::Add, x, c)?
    };
    let y = n.outputs[0];
    let table = (0..256).map(|k| clip_int(k - offset, lo, hi)).collect();
    let o = l.tensor(g.name(y), g.shape(y), DType::I64, None);
    l.emit(&n.name, Op::Take { table }, vec![k], vec![o]);
    l.map.insert(y, o);
    Ok(())
}

/// The quantization of the float model input `t` when a `Round` is its only reader and its
/// calibrated range spans at most 256 integers: scale 1, so that quantizing the caller's reals
/// (half to even, spec §IO quantization) is ONNX's Round itself, exactly at the halves where a
/// finer input scale would round first and tip the table to the other side.
pub(crate) fn rounded_input_quant(l: &Lowering<'_>, t: Tid) -> Option<Quant> {
    let g = l.g;
    let readers: Vec<&Node> = g.nodes.iter().filter(|n| n.inputs.contains(&Some(t))).collect();
    let [r] = readers.as_slice() else { return None };
    let only = r.domain.is_empty() && r.op == "Round" && r.inputs == [Some(t)];
    if !only || g.outputs.contains(&t) || g.prescribed.contains_key(&t) {
        return None;
    }
    let (lo, hi) = l.range_of(t).ok()?;
    Some(integer_quant_from_range(lo, hi)).filter(|q| q.scale == 1.0)
}

fn lower(l: &mut Lowering<'_>, n: &Node, ins: &[Option<&Value>]) -> R<()> {
    let u = parse(n, ins)?;
    if n.inputs.iter().skip(1).flatten().any(|t| !l.g.is_const(*t)) {
        return Err("bounds must be constants".into());
    }
    let xt = n.input(0).ok_or("input 0 missing")?;
    let x = l.id(xt)?;
    if l.model.tensor(x).dtype == DType::I64 {
        return lower_integer_clip(l, n, u, xt, x);
    }
    let y = n.outputs[0];
    let integer = matches!(u, Unary::Round | Unary::Floor | Unary::Ceil) && !l.g.prescribed.contains_key(&y);
    let qo = if integer {
        let (lo, hi) = l.range_of(y)?;
        integer_quant_from_range(lo, hi)
    } else {
        l.range_quant(y)?
    };
    l.unary_lut(&n.name, x, y, qo, &|v| u.apply(v));
    Ok(())
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn};

    use crate::{
        CompileOptions, compile_graph,
        ir::Value,
        passes::testutil::{graph, node, node_n, output},
    };

    /// Compile `x → op` calibrated on `x` and run it on `x`: the model and the outputs.
    fn run(op: &str, x: &[f32]) -> (solidml_spec::Model, Vec<f32>) {
        let mut g = graph(&[("x", &[1, x.len()])]);
        let y = node(&mut g, op, &[0], vec![]);
        output(&mut g, y);
        let data = vec![ArrayD::from_shape_vec(IxDyn(&[1, x.len()]), x.to_vec()).unwrap()];
        let c = compile_graph(&mut g, "m", &CompileOptions::default().with_calibration(data.clone())).unwrap();
        let samples = crate::runner::samples(&crate::runner::input_shapes(&c.model), &data).unwrap();
        let out = crate::runner::run_samples(&c.model, &samples).unwrap().remove(0).1.remove(0).to_f32();
        (c.model, out.iter().copied().collect())
    }

    /// Compile `op(x, min?, max?)` on an integer input of ONNX element type `ty` and run it on
    /// `x`: the i64 outputs, or the compile error.
    fn run_integer(op: &str, ty: i32, x: &[i64], bounds: &[Option<i64>]) -> Result<Vec<i64>, String> {
        let mut g = graph(&[]);
        let t = g.add_tensor("x", false);
        g.tensors[t].shape = Some(vec![x.len()]);
        g.tensors[t].onnx_type = ty;
        g.inputs.push(t);
        let mut ins = vec![Some(t)];
        for (i, b) in bounds.iter().enumerate() {
            ins.push(b.map(|b| {
                let c = g.add_tensor(&format!("bound{i}"), false);
                g.tensors[c].shape = Some(vec![]);
                g.consts.insert(c, Value::Int(ArrayD::from_elem(IxDyn(&[]), b)));
                c
            }));
        }
        let y = node_n(&mut g, op, &ins, 1, vec![])[0];
        g.tensors[y].onnx_type = ty;
        let data = vec![ArrayD::from_shape_vec(IxDyn(&[x.len()]), x.iter().map(|&v| v as f32).collect()).unwrap()];
        let c = compile_graph(&mut g, "m", &CompileOptions::default().with_calibration(data.clone())).map_err(|e| e.to_string())?;
        let samples = crate::runner::samples(&crate::runner::input_shapes(&c.model), &data).unwrap();
        let out = crate::runner::run_samples(&c.model, &samples).unwrap().remove(0).0.remove(0);
        Ok(out.as_i64().to_vec())
    }

    #[test]
    fn clip_of_8_bit_integers_is_exact() {
        // test_clip_default_int8_min, _max, _inbounds (onnx node tests) and both bounds
        let x: Vec<i64> = vec![-128, -5, -1, 0, 1, 7, 100, 127];
        assert_eq!(run_integer("Clip", 3, &x, &[Some(0)]).unwrap(), [0, 0, 0, 0, 1, 7, 100, 127]);
        assert_eq!(run_integer("Clip", 3, &x, &[None, Some(0)]).unwrap(), [-128, -5, -1, 0, 0, 0, 0, 0]);
        assert_eq!(run_integer("Clip", 3, &x, &[]).unwrap(), x);
        assert_eq!(run_integer("Clip", 3, &x, &[Some(-3), Some(5)]).unwrap(), [-3, -3, -1, 0, 1, 5, 5, 5]);
        // min above max: every value is max
        assert_eq!(run_integer("Clip", 3, &x, &[Some(9), Some(2)]).unwrap(), [2; 8]);
        let u: Vec<i64> = vec![0, 3, 128, 200, 255];
        assert_eq!(run_integer("Clip", 2, &u, &[Some(3), Some(200)]).unwrap(), [3, 3, 128, 200, 200]);
    }

    #[test]
    fn wider_integers_and_other_functions_of_integers_are_refused() {
        let e = run_integer("Clip", 6, &[1, 2, 3], &[Some(0), Some(2)]).unwrap_err();
        assert!(e.contains("int8 and uint8 only"), "{e}");
        let e = run_integer("Relu", 3, &[1, -2, 3], &[]).unwrap_err();
        assert!(e.contains("Relu of the integer tensor `x` is not supported"), "{e}");
    }

    #[test]
    fn round_of_a_model_input_is_its_input_quantization() {
        // the ONNX node test's values: halves go to the even neighbour
        let x = [0.1, 0.5, 0.9, 1.2, 1.5, 1.8, 2.3, 2.5, 2.7, -1.1, -1.5, -1.9, -2.2, -2.5, -2.8];
        let (m, out) = run("Round", &x);
        assert_eq!(out, x.iter().map(|v: &f32| v.round_ties_even()).collect::<Vec<_>>());
        assert_eq!(m.tensor(m.inputs[0]).quant.unwrap().scale, 1.0);
        // an input with a wider range than 256 integers keeps its calibrated scale
        let wide = [-300.0, 0.5, 299.0];
        let (m, _) = run("Round", &wide);
        assert!(m.tensor(m.inputs[0]).quant.unwrap().scale > 1.0);
    }

    #[test]
    fn integer_results_get_integer_steps() {
        // Floor and Ceil of a calibrated input: every integer result exact at scale 1
        let x: Vec<f32> = (0..40).map(|i| i as f32 * 0.37 - 7.0).collect();
        for (op, f) in [("Floor", f32::floor as fn(f32) -> f32), ("Ceil", f32::ceil)] {
            let (m, out) = run(op, &x);
            // the function of the quantized input, saturated to the calibrated output range
            let (qx, qo) = (m.tensor(m.inputs[0]).quant.unwrap(), m.tensor(m.outputs[0]).quant.unwrap());
            let code = |v: f32, q: solidml_spec::Quant| solidml_spec::io::quantize_f32(v, q.scale, q.zero_point) as i32;
            let want: Vec<f32> = x.iter().map(|&v| qo.real(code(f(qx.real(code(v, qx)) as f32), qo)) as f32).collect();
            assert_eq!(out, want, "{op}");
            assert_eq!(m.tensor(m.outputs[0]).quant.unwrap().scale, 1.0, "{op}");
        }
    }

    #[test]
    fn an_input_with_other_readers_keeps_its_calibrated_scale() {
        // x → Round and x → Relu: the Relu needs x's resolution, so Round is a table on it
        let x: Vec<f32> = (0..20).map(|i| i as f32 * 0.3 - 3.0).collect();
        let mut g = graph(&[("x", &[1, 20])]);
        let (r, relu) = (node(&mut g, "Round", &[0], vec![]), node(&mut g, "Relu", &[0], vec![]));
        output(&mut g, r);
        output(&mut g, relu);
        let data = vec![ArrayD::from_shape_vec(IxDyn(&[1, 20]), x).unwrap()];
        let c = compile_graph(&mut g, "m", &CompileOptions::default().with_calibration(data)).unwrap();
        let qx = c.model.tensor(c.model.inputs[0]).quant.unwrap();
        assert!((qx.scale - 5.7 / 255.0).abs() < 1e-6, "{qx:?}");
    }
}
