//! Valid models only (spec issue: "no panic on any model the validator accepts"): the fuzz input
//! drives `tests/random_spec.rs`'s generator (every op, parameters over their whole valid ranges),
//! then pushes parameters to the bounds validation allows (multipliers, biases at the
//! accumulator bound, left shifts, InstanceNorm and Lrn parameter limits, extreme strides), keeps
//! each change only if the model stays valid, and runs it: the CPU reference on random inputs
//! (and the JIT, whose outputs or error must equal the reference's),
//! the Solidity backend's emitter and the precompile's gas work units. Built with debug
//! assertions, so any intermediate overflow is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use solidml_spec::{Model, Op, arith::Multiplier, validate::validate};

#[path = "../../tests/random_spec.rs"]
#[allow(dead_code, unreachable_pub)]
mod random_spec;

/// The generator's randomness: the fuzz input's bytes, four per draw, then a xorshift stream
/// seeded from them, so coverage guidance steers every choice the generator makes.
pub struct Rng {
    data: Vec<u8>,
    at: usize,
    state: u32,
}

impl Rng {
    fn new(data: &[u8]) -> Rng {
        let seed = data.iter().fold(0x9e37_79b9u32, |h, &b| h.rotate_left(5) ^ b as u32).max(1);
        Rng { data: data.to_vec(), at: 0, state: seed }
    }
    /// Same contract as `solidml_tests::Rng` (which random_spec.rs is written against).
    pub fn next_u32(&mut self) -> u32 {
        if self.at + 4 <= self.data.len() {
            let v = u32::from_le_bytes(self.data[self.at..self.at + 4].try_into().unwrap());
            self.at += 4;
            return v;
        }
        self.state ^= self.state << 13;
        self.state ^= self.state >> 17;
        self.state ^= self.state << 5;
        self.state
    }
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u32() as i64).rem_euclid(hi - lo + 1)
    }
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

/// The extreme valid multipliers: the largest mantissa with the extreme shifts, and zero.
fn extreme_multiplier(r: &mut Rng) -> Multiplier {
    let shift = [solidml_spec::arith::MIN_SHIFT, solidml_spec::arith::MAX_SHIFT, 0, -1, 1][r.range(0, 4) as usize];
    [Multiplier { multiplier: i32::MAX, shift }, Multiplier { multiplier: 1 << 30, shift }, Multiplier { multiplier: 0, shift: 0 }]
        [r.range(0, 2) as usize]
}

/// The largest bias magnitude the accumulator bound allows for one channel's weights.
fn bias_at_bound(weights: &[i8], negative: bool) -> i32 {
    let room = (i32::MAX as i64 - weights.iter().map(|&w| (w as i64).abs()).sum::<i64>() * 255).max(0) as i32;
    if negative { -room } else { room }
}

/// Push one parameter of node `i` to a bound; `model` is left as it was if that breaks a rule.
fn extremize(model: &mut Model, i: usize, r: &mut Rng) {
    let before = model.nodes[i].op.clone();
    let neg = r.range(0, 1) == 0;
    let out_shape = model.tensors[model.nodes[i].outputs[0] as usize].shape.clone();
    match &mut model.nodes[i].op {
        Op::Conv(c) => {
            let k = c.weights.len() / c.bias.len().max(1);
            for (ch, b) in c.bias.iter_mut().enumerate() {
                *b = bias_at_bound(&c.weights[ch * k..(ch + 1) * k], neg);
            }
            c.epilogue.multipliers.iter_mut().for_each(|m| *m = extreme_multiplier(r));
            c.input_zero_point = if neg { -128 } else { 127 };
        }
        Op::ConvTranspose(c) => {
            let k = c.weights.len() / c.bias.len().max(1);
            for (ch, b) in c.bias.iter_mut().enumerate() {
                *b = bias_at_bound(&c.weights[ch * k..(ch + 1) * k], neg);
            }
            c.epilogue.multipliers.iter_mut().for_each(|m| *m = extreme_multiplier(r));
        }
        Op::Dense(d) => {
            let k = d.in_features as usize;
            let n = d.out_features as usize;
            for (o, b) in d.bias.iter_mut().enumerate() {
                let col: Vec<i8> = (0..k).map(|j| d.weights[j * n + o]).collect();
                *b = bias_at_bound(&col, neg);
            }
            d.epilogue.multipliers.iter_mut().for_each(|m| *m = extreme_multiplier(r));
        }
        Op::Binary(b) => {
            b.left_shift = 20;
            b.output_multiplier = extreme_multiplier(r);
            b.a_zero_point = if neg { -128 } else { 127 };
            b.b_zero_point = -b.a_zero_point;
        }
        Op::Reduce(rd) => rd.multiplier = extreme_multiplier(r),
        Op::CumSum(c) => c.multiplier = extreme_multiplier(r),
        Op::MatMul(mm) => mm.multiplier = extreme_multiplier(r),
        Op::LogSoftmax(s) => {
            s.input_scale_q16 = 1 << 22;
            s.multiplier = extreme_multiplier(r);
        }
        Op::InstanceNorm(n) => {
            let g = if neg { -(1i64 << 36) } else { 1 << 36 };
            n.gamma_q16.iter_mut().for_each(|x| *x = g);
            n.beta_q16.iter_mut().for_each(|x| *x = -g);
            n.epsilon_term = if r.range(0, 1) == 0 { 0 } else { 1 << 53 };
        }
        Op::Lrn(l) => {
            l.factors.iter_mut().for_each(|f| *f = 1 << 23);
            l.sum_shift = [0, 40][r.range(0, 1) as usize];
            l.multiplier = extreme_multiplier(r);
        }
        Op::Normalize(nm) => nm.scale_log2 = 8,
        Op::Softmax(s) => s.exp_table.iter_mut().for_each(|e| *e = 1 << 16),
        Op::View(v) => {
            for (s, &d) in v.strides.iter_mut().zip(&out_shape) {
                if d == 1 {
                    *s = if neg { i64::MIN } else { i64::MAX };
                }
            }
        }
        _ => {}
    }
    if validate(model).is_err() {
        model.nodes[i].op = before;
    }
}

fuzz_target!(|data: &[u8]| {
    let mut r = Rng::new(data);
    let mut model = random_spec::random_model(&mut r, random_spec::OpKind::ALL);
    for i in 0..model.nodes.len() {
        if r.range(0, 1) == 0 {
            extremize(&mut model, i, &mut r);
        }
    }
    validate(&model).expect("extremize keeps models valid");
    let inputs = random_spec::random_inputs(&mut r, &model);
    let want = solidml_cpu::CpuExecutor::new(&model).expect("a valid model prepares").run(&inputs);
    // the JIT (the reference as its fallback) returns exactly the reference's outputs or error
    let jit = solidml_jit::JitBackend::new().with_fallback(std::sync::Arc::new(solidml_cpu::CpuBackend));
    let got = solidml_exec::Executor::prepare(&jit, std::sync::Arc::new(model.clone())).expect("the JIT prepares a valid model").run(&inputs);
    assert_eq!(got, want, "JIT ≠ reference");
    let _ = solidml_precompile::gas::work_units(&model);
    let _ = solidml_solidity::emit(&model, &[0; 32]);
});
