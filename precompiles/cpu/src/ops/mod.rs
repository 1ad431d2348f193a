//! One file per operator of the spec; [`eval`] dispatches a node to its kernel.

pub mod argmax;
pub mod binary;
pub mod concat;
pub mod conv;
pub mod conv_transpose;
pub mod cum_sum;
pub mod dense;
pub mod dense_wide;
pub mod gather;
pub mod instance_norm;
pub mod int_compare;
pub mod log_softmax;
pub mod lrn;
pub mod lut;
pub mod matmul;
pub mod normalize;
pub mod pad;
pub mod pool;
pub mod reduce;
pub mod softmax;
pub mod take;
pub mod top_k;
pub mod view;

use solidml_spec::{Epilogue, Model, Node, Op, arith};

use solidml_exec::{ExecError, Value};

/// Evaluate one node on its input values.
pub fn eval(model: &Model, node: &Node, args: &[&Value]) -> Result<Vec<Value>, ExecError> {
    let input = |i: usize| model.tensor(node.inputs[i]);
    let output = |i: usize| model.tensor(node.outputs[i]);
    let v = match &node.op {
        Op::Conv(c) => Value::I8(conv::conv(c, &input(0).shape, &output(0).shape, args[0].as_i8())),
        Op::Dense(d) => Value::I8(dense::dense(d, args[0].as_i8())),
        Op::DenseWide(d) => dense_wide::dense_wide(d, args[0], output(0).dtype),
        Op::Binary(b) => Value::I8(binary::binary(b, &input(0).shape, &input(1).shape, &output(0).shape, args[0].as_i8(), args[1].as_i8())),
        Op::Extremum(e) => {
            Value::I8(binary::extremum(*e, &input(0).shape, &input(1).shape, &output(0).shape, args[0].as_i8(), args[1].as_i8()))
        }
        Op::Lut(l) => Value::I8(lut::lut(l, &input(0).shape, args[0].as_i8())),
        Op::View(v) => view::view(v, &output(0).shape, args[0]),
        Op::Pad(p) => pad::pad(p, &input(0).shape, &output(0).shape, args[0]),
        Op::Concat { axis } => {
            let shapes: Vec<&[u32]> = node.inputs.iter().map(|&i| &model.tensor(i).shape[..]).collect();
            concat::concat(*axis, &shapes, args)
        }
        Op::MaxPool(p) => Value::I8(pool::max_pool(p, &input(0).shape, &output(0).shape, args[0].as_i8())),
        Op::AvgPool(p) => Value::I8(pool::avg_pool(p, &input(0).shape, &output(0).shape, args[0].as_i8())),
        Op::Reduce(r) => Value::I8(reduce::reduce(r, &input(0).shape, args[0].as_i8())),
        Op::Softmax(s) => Value::I8(softmax::softmax(s, &input(0).shape, args[0].as_i8())),
        Op::ArgMax { axis, select_last_index } => Value::I64(argmax::argmax(*axis, *select_last_index, &input(0).shape, args[0].as_i8())),
        Op::Take { table } => Value::I64(take::take(&node.name, table, args[0].as_i64())?),
        Op::Gather { axis, indices } => gather::gather(*axis, indices, &input(0).shape, args[0]),
        Op::ConvTranspose(c) => Value::I8(conv_transpose::conv_transpose(c, &input(0).shape, &output(0).shape, args[0].as_i8())),
        Op::MatMul(mm) => {
            Value::I8(matmul::matmul(mm, &input(0).shape, &input(1).shape, &output(0).shape, args[0].as_i8(), args[1].as_i8()))
        }
        Op::BinaryLut { table } => {
            Value::I8(binary::binary_lut(table, &input(0).shape, &input(1).shape, &output(0).shape, args[0].as_i8(), args[1].as_i8()))
        }
        Op::GatherDynamic { axis } => gather::gather_dynamic(&node.name, *axis, &input(0).shape, args[0], args[1].as_i64())?,
        Op::InstanceNorm(inn) => Value::I8(instance_norm::instance_norm(inn, &input(0).shape, args[0].as_i8())),
        Op::IntBinary { kind } => Value::I64(binary::int_binary(
            &node.name,
            *kind,
            &input(0).shape,
            &input(1).shape,
            &output(0).shape,
            args[0].as_i64(),
            args[1].as_i64(),
        )?),
        Op::Lrn(l) => Value::I8(lrn::lrn(l, &input(0).shape, args[0].as_i8())),
        Op::Normalize(nm) => Value::I8(normalize::normalize(nm, &input(0).shape, args[0].as_i8())),
        Op::CumSum(c) => Value::I8(cum_sum::cum_sum(c, &input(0).shape, args[0].as_i8())),
        Op::LogSoftmax(s) => Value::I8(log_softmax::log_softmax(s, &input(0).shape, args[0].as_i8())),
        Op::TopK { axis, k, largest, output } => top_k::top_k(*axis, *k, *largest, *output, &input(0).shape, args[0]),
        Op::IntCompare(c) => {
            Value::I8(int_compare::int_compare(c, &input(0).shape, &input(1).shape, &output(0).shape, args[0].as_i64(), args[1].as_i64()))
        }
    };
    Ok(vec![v])
}

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
