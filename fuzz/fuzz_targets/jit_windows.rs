//! The JIT's window kernels at the sizes where their vector loops and cranelift's compiled
//! max-pool planes run (the random spec models keep every dimension under 6, below both): the
//! fuzz input picks a MaxPool, AvgPool or depthwise Conv over `[n, c, h, w]` with h, w up to 80,
//! kernel, stride, dilation and padding over their whole valid ranges, and the input codes. The
//! model must validate; the JIT with and without generated code must then return exactly the
//! CPU reference's bytes. Never a panic, never a difference.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use solidml_cpu::CpuExecutor;
use solidml_exec::{PreparedModel, Value};
use solidml_jit::JitBackend;
use solidml_spec::{Conv, DType, Epilogue, Model, Node, Op, Pool, Quant, TensorInfo, arith::Multiplier, validate::validate};

/// Bytes of the fuzz input, one at a time, zeros when they run out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn next(&mut self) -> u8 {
        let (b, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
        self.0 = rest;
        b
    }
    /// A value in `lo..=hi`.
    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.next() as u32 % (hi - lo + 1)
    }
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let kind = b.range(0, 2);
    let (n, c) = (b.range(1, 2), b.range(1, 4));
    let (h, w) = (b.range(1, 80), b.range(1, 80));
    let kernel = vec![b.range(1, 7), b.range(1, 7)];
    let strides = vec![b.range(1, 4), b.range(1, 4)];
    let dilations = vec![b.range(1, 3), b.range(1, 3)];
    let pads_begin: Vec<u32> = kernel.iter().map(|&k| b.range(0, k - 1)).collect();
    let pads_end: Vec<u32> = kernel.iter().map(|&k| b.range(0, k - 1)).collect();
    let zp = b.next() as i8 as i32;
    let out = |d: usize, size: u32| {
        let span = dilations[d] * (kernel[d] - 1) + 1;
        (size + pads_begin[d] + pads_end[d]).checked_sub(span).map(|r| r / strides[d] + 1)
    };
    let (Some(oh), Some(ow)) = (out(0, h), out(1, w)) else { return };
    let (op, out_zp) = match kind {
        0 | 1 => {
            let p = Pool { kernel, strides, dilations, pads_begin, pads_end, count_include_pad: b.next() & 1 == 1, zero_point: zp };
            (if kind == 0 { Op::MaxPool(p) } else { Op::AvgPool(p) }, zp)
        }
        _ => {
            let klen = (kernel[0] * kernel[1]) as usize;
            let weights: Vec<i8> = (0..c as usize * klen).map(|_| b.next() as i8).collect();
            let conv = Conv {
                kernel,
                strides,
                dilations,
                pads_begin,
                pads_end,
                groups: c,
                input_zero_point: zp,
                weights,
                bias: (0..c).map(|_| b.next() as i8 as i32 * 1000).collect(),
                epilogue: Epilogue {
                    multipliers: (0..c).map(|_| Multiplier::from_real(0.0001 + b.next() as f64 / 2560.0)).collect(),
                    output_zero_point: b.next() as i8 as i32,
                    clamp_min: -128,
                    clamp_max: 127,
                },
            };
            (Op::Conv(conv), 0)
        }
    };
    let q = |zp| Some(Quant { scale: 0.1, zero_point: zp });
    let model = Model {
        name: "windows".into(),
        tensors: vec![
            TensorInfo { name: "x".into(), shape: vec![n, c, h, w], dtype: DType::I8, quant: q(zp) },
            TensorInfo { name: "y".into(), shape: vec![n, c, oh, ow], dtype: DType::I8, quant: q(out_zp) },
        ],
        constants: vec![],
        inputs: vec![0],
        outputs: vec![1],
        nodes: vec![Node { name: "n".into(), op, inputs: vec![0], outputs: vec![1] }],
        input_quant: vec![],
    };
    if validate(&model).is_err() {
        return;
    }
    let x = [Value::I8((0..(n * c * h * w) as usize).map(|_| b.next() as i8).collect())];
    let want = CpuExecutor::new(&model).expect("validated").run(&x);
    for codegen in [true, false] {
        let jit = JitBackend::new().with_codegen(codegen).compile(Arc::new(model.clone())).expect("specialized");
        assert_eq!(jit.run(&x).map_err(|e| e.to_string()), want.as_ref().map(|v| v.clone()).map_err(|e| e.to_string()), "codegen {codegen}");
    }
});
