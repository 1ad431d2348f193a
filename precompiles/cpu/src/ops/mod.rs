//! One file per operator of the spec, named by the spec's operator table
//! (`solidml_spec::for_each_op!`): each file holds the kernel and its node entry
//! (`impl Kernels { fn <entry>(…) }`); [`eval`] dispatches a node to its entry with the
//! `match` the table generates, exhaustive over `Op`.
//!
//! The `mod` declarations are generated with it, so `cargo fmt` does not reach the op files:
//! `scripts/test.sh` checks them with `rustfmt --check` by name.

use solidml_spec::{Epilogue, Model, Node, Op, arith};

use solidml_exec::{ExecError, Value};

/// The node entries of the operators, one per `Op` variant, each added by its op's file.
pub struct Kernels;

/// What an entry returns: the node's one output value, or the run-time error it stops on.
pub type NodeResult = Result<Value, ExecError>;

/// A node being evaluated: its model, itself and its input values.
pub struct NodeArgs<'a> {
    /// The model the node belongs to.
    pub model: &'a Model,
    /// The node.
    pub node: &'a Node,
    /// Its input values, in order.
    pub args: &'a [&'a Value],
}

impl NodeArgs<'_> {
    /// The shape of input `i`.
    pub fn input_shape(&self, i: usize) -> &[u32] {
        &self.model.tensor(self.node.inputs[i]).shape
    }
    /// The shape of the (first) output.
    pub fn output_shape(&self) -> &[u32] {
        &self.model.tensor(self.node.outputs[0]).shape
    }
}

/// `mod` per file and the dispatch `match`, from the operator table.
macro_rules! dispatch {
    ($($file:ident { $($entry:ident : $variant:ident $(($op:ident))? $({ $($field:ident),* })? );* $(;)? })*) => {
        $(pub mod $file;)*

        /// Evaluate one node on its input values.
        pub fn eval(model: &Model, node: &Node, args: &[&Value]) -> Result<Vec<Value>, ExecError> {
            let n = NodeArgs { model, node, args };
            let v = match &node.op {
                $($(Op::$variant $(($op))? $({ $($field),* })? => Kernels::$entry(&n, $($op)? $($($field),*)?)?,)*)*
            };
            Ok(vec![v])
        }
    };
}
solidml_spec::for_each_op!(dispatch);

/// Weights, bias and epilogue of a convolution-like op (Conv, ConvTranspose).
pub struct ConvParams<'a> {
    /// `[C_out, C_in / groups, taps]`.
    pub weights: &'a [i8],
    /// `[C_out]`, the initial accumulator of each output channel.
    pub bias: &'a [i32],
    /// Requantization of each output channel's accumulator to the int8 output.
    pub epilogue: &'a Epilogue,
    /// Zero point of the input, subtracted from every input code read.
    pub input_zero_point: i32,
    /// Number of channel groups, `≥ 1`, dividing `C_in` and `C_out`.
    pub groups: usize,
}

/// The accumulation Conv and ConvTranspose share at output position `o`: for every batch item
/// and output channel `c` of group `g`,
/// `acc = bias[c] + Σ_{i ∈ g} Σ_{(t, off) ∈ taps} w[c, i, t] · (x[i, off] − zp_in)`, then the
/// epilogue. `taps` pairs a kernel tap index with the input offset it reads (within a plane).
pub fn accumulate_at(p: &ConvParams<'_>, in_shape: &[u32], out_shape: &[u32], o: usize, taps: &[(usize, usize)], x: &[i8], out: &mut [i8]) {
    let (batch, cin, cout) = (in_shape[0] as usize, in_shape[1] as usize, out_shape[1] as usize);
    let (cin_g, cout_g) = (cin / p.groups, cout / p.groups);
    let in_plane: usize = in_shape[2..].iter().map(|&d| d as usize).product();
    let out_plane: usize = out_shape[2..].iter().map(|&d| d as usize).product();
    let klen = p.weights.len() / (cout * cin_g).max(1);
    for n in 0..batch {
        for co in 0..cout {
            let g = co / cout_g;
            let mut acc = p.bias[co];
            for ci in 0..cin_g {
                let xbase = (n * cin + g * cin_g + ci) * in_plane;
                let wbase = (co * cin_g + ci) * klen;
                for &(t, off) in taps {
                    acc += p.weights[wbase + t] as i32 * (x[xbase + off] as i32 - p.input_zero_point);
                }
            }
            out[(n * cout + co) * out_plane + o] = apply_epilogue(p.epilogue, co, acc);
        }
    }
}

/// The shared requantization epilogue of Conv and Dense:
/// `clamp(requantize(acc, M[c]) + zp_out, clamp_min, clamp_max)`.
pub fn apply_epilogue(e: &Epilogue, channel: usize, acc: i32) -> i8 {
    let m = if e.multipliers.len() == 1 { e.multipliers[0] } else { e.multipliers[channel] };
    arith::clamp_i8(arith::requantize(acc, m).saturating_add(e.output_zero_point), e.clamp_min, e.clamp_max)
}

#[cfg(test)]
pub(crate) mod tests {
    //! Helpers shared by the kernels' tests: a deterministic xorshift PRNG and index arithmetic
    //! written independently of `crate::index`.

    use solidml_spec::arith::Multiplier;

    /// xorshift64 (Marsaglia); deterministic, no dependencies.
    pub(crate) struct Rng(u64);

    impl Rng {
        pub(crate) fn new(seed: u64) -> Rng {
            Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
        }
        pub(crate) fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        /// Uniform in `lo..=hi`.
        pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
            lo + (self.next() % (hi - lo + 1) as u64) as i64
        }
        pub(crate) fn below(&mut self, n: usize) -> usize {
            self.range(0, n as i64 - 1) as usize
        }
        /// True with probability `1/n`.
        pub(crate) fn one_in(&mut self, n: u64) -> bool {
            self.next().is_multiple_of(n)
        }
        pub(crate) fn i8s(&mut self, n: usize) -> Vec<i8> {
            (0..n).map(|_| self.range(-128, 127) as i8).collect()
        }
        /// A zero point, the int8 extremes often.
        pub(crate) fn zero_point(&mut self) -> i32 {
            match self.below(4) {
                0 => -128,
                1 => 127,
                _ => self.range(-128, 127) as i32,
            }
        }
        /// A multiplier, log-uniform in [2^-12, 2^1.5], sometimes exactly 0 or 1.
        pub(crate) fn multiplier(&mut self) -> Multiplier {
            let real = match self.below(10) {
                0 => 0.0,
                1 => 1.0,
                _ => 2f64.powf(-12.0 + 13.5 * (self.next() >> 11) as f64 / (1u64 << 53) as f64),
            };
            Multiplier::from_real(real)
        }
        /// `(clamp_min, clamp_max)`, the full range half the time.
        pub(crate) fn clamp(&mut self) -> (i8, i8) {
            if self.one_in(2) {
                return (-128, 127);
            }
            let (a, b) = (self.range(-128, 127) as i8, self.range(-128, 127) as i8);
            (a.min(b), a.max(b))
        }
        /// A shape of rank `lo..=hi` with dimensions in `1..=max_dim`.
        pub(crate) fn shape(&mut self, lo: usize, hi: usize, max_dim: u32) -> Vec<u32> {
            let rank = self.range(lo as i64, hi as i64) as usize;
            (0..rank).map(|_| self.range(1, max_dim as i64) as u32).collect()
        }
    }

    pub(crate) fn numel(shape: &[u32]) -> usize {
        shape.iter().map(|&d| d as usize).product()
    }

    /// Row-major multi-index of flat position `i`.
    pub(crate) fn unravel(mut i: usize, shape: &[u32]) -> Vec<usize> {
        let mut idx = vec![0; shape.len()];
        for d in (0..shape.len()).rev() {
            idx[d] = i % shape[d] as usize;
            i /= shape[d] as usize;
        }
        idx
    }

    /// Row-major flat position of a multi-index.
    pub(crate) fn ravel(idx: &[usize], shape: &[u32]) -> usize {
        idx.iter().zip(shape).fold(0, |acc, (&i, &d)| acc * d as usize + i)
    }
}
