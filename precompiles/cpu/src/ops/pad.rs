//! Pad (spec §Pad): `out[o] = in[src(o − pads_begin)]` per axis, where an index `i` outside
//! `0..n` maps by the mode: Constant → `value`, Edge → `clamp(i, 0, n − 1)`,
//! Reflect → `−i` below 0 and `2(n − 1) − i` above.

use solidml_spec::Pad;

use solidml_exec::index::{pad_source_index as source_index, strides};

use solidml_exec::Value;

/// Pad (spec §Pad) of `x` (int8 or i64, of `in_shape`) into `out_shape`
/// (`in_shape + pads_begin + pads_end`); the result keeps `x`'s dtype.
pub fn pad(p: &Pad, in_shape: &[u32], out_shape: &[u32], x: &Value) -> Value {
    let total: usize = out_shape.iter().map(|&d| d as usize).product();
    let ist = strides(in_shape);
    let src: Vec<Option<usize>> = (0..total)
        .map(|mut o| {
            let mut off = 0usize;
            let mut inside = true;
            for d in (0..out_shape.len()).rev() {
                let i = (o % out_shape[d] as usize) as i64 - p.pads_begin[d] as i64;
                o /= out_shape[d] as usize;
                match source_index(p.mode, i, in_shape[d] as i64) {
                    Some(s) => off += s as usize * ist[d],
                    None => inside = false,
                }
            }
            inside.then_some(off)
        })
        .collect();
    match x {
        Value::I8(x) => Value::I8(src.iter().map(|s| s.map_or(p.value as i8, |i| x[i])).collect()),
        Value::I64(x) => Value::I64(src.iter().map(|s| s.map_or(p.value, |i| x[i])).collect()),
        // validation keeps the wide types out of Pad; padding them is the same walk
        Value::I16(x) => Value::I16(src.iter().map(|s| s.map_or(p.value as i16, |i| x[i])).collect()),
        Value::I32(x) => Value::I32(src.iter().map(|s| s.map_or(p.value as i32, |i| x[i])).collect()),
    }
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Pad`] (`solidml_spec::for_each_op!`).
    pub fn pad(n: &super::NodeArgs<'_>, op: &solidml_spec::Pad) -> super::NodeResult {
        Ok(pad(op, n.input_shape(0), n.output_shape(), n.args[0]))
    }
}

#[cfg(test)]
mod tests {
    use solidml_spec::{Pad, PadMode};

    use super::pad;
    use crate::{
        Value,
        ops::tests::{Rng, numel, ravel, unravel},
    };

    #[test]
    fn constant_pad_with_value() {
        // [2, 2] = [[1, 2], [3, 4]], pads_begin [1, 0], pads_end [0, 2], value −7 → [3, 4]:
        //   −7 −7 −7 −7
        //    1  2 −7 −7
        //    3  4 −7 −7
        let p = Pad { pads_begin: vec![1, 0], pads_end: vec![0, 2], mode: PadMode::Constant, value: -7 };
        let want = [-7, -7, -7, -7, 1, 2, -7, -7, 3, 4, -7, -7];
        assert_eq!(pad(&p, &[2, 2], &[3, 4], &Value::I8(vec![1, 2, 3, 4])), Value::I8(want.to_vec()));
        // i64 tensors take the full i64 value.
        let p = Pad { value: i64::MIN, ..p };
        let want: Vec<i64> = want.iter().map(|&v| if v == -7 { i64::MIN } else { v as i64 }).collect();
        assert_eq!(pad(&p, &[2, 2], &[3, 4], &Value::I64(vec![1, 2, 3, 4])), Value::I64(want));
        // An empty axis padded on both sides is all value.
        let p = Pad { pads_begin: vec![1, 0], pads_end: vec![1, 0], mode: PadMode::Constant, value: 9 };
        assert_eq!(pad(&p, &[0, 2], &[2, 2], &Value::I8(vec![])), Value::I8(vec![9; 4]));
    }

    #[test]
    fn edge_and_reflect() {
        // [1, 3] = [[1, 2, 3]], pads [0, 2] before and [0, 2] after (the value is ignored):
        // Edge repeats the border: 1 1 | 1 2 3 | 3 3; Reflect mirrors without repeating it:
        // indices −2, −1 → 2, 1 and 3, 4 → 2·2 − 3 = 1, 0: 3 2 | 1 2 3 | 2 1.
        let x = Value::I8(vec![1, 2, 3]);
        let p = Pad { pads_begin: vec![0, 2], pads_end: vec![0, 2], mode: PadMode::Edge, value: 100 };
        assert_eq!(pad(&p, &[1, 3], &[1, 7], &x), Value::I8(vec![1, 1, 1, 2, 3, 3, 3]));
        let p = Pad { mode: PadMode::Reflect, ..p };
        assert_eq!(pad(&p, &[1, 3], &[1, 7], &x), Value::I8(vec![3, 2, 1, 2, 3, 2, 1]));
        // Along both axes of [2, 2] = [[1, 2], [3, 4]], one before each: the corner comes from
        // mirroring both indices: (−1, −1) → (1, 1) = 4.
        let p = Pad { pads_begin: vec![1, 1], pads_end: vec![0, 0], mode: PadMode::Reflect, value: 0 };
        assert_eq!(pad(&p, &[2, 2], &[3, 3], &Value::I8(vec![1, 2, 3, 4])), Value::I8(vec![4, 3, 4, 2, 1, 2, 4, 3, 4]));
    }

    #[test]
    fn random_pads_match_the_formula() {
        let mut rng = Rng::new(6);
        for case in 0..60 {
            let mode = [PadMode::Constant, PadMode::Edge, PadMode::Reflect][case % 3];
            let shape = rng.shape(1, 4, 4);
            // Reflect needs pads < dim
            let max_pad = |d: u32| if mode == PadMode::Reflect { d as i64 - 1 } else { 2 };
            let pads = |rng: &mut Rng| -> Vec<u32> { shape.iter().map(|&d| rng.range(0, max_pad(d)) as u32).collect() };
            let (pb, pe) = (pads(&mut rng), pads(&mut rng));
            let out: Vec<u32> = (0..shape.len()).map(|d| shape[d] + pb[d] + pe[d]).collect();
            let p = Pad { pads_begin: pb.clone(), pads_end: pe, mode, value: rng.range(-128, 127) };
            let x = rng.i8s(numel(&shape));
            let want: Vec<i8> = (0..numel(&out))
                .map(|i| {
                    let mut src = vec![];
                    for (d, &o) in unravel(i, &out).iter().enumerate() {
                        let (k, n) = (o as i64 - pb[d] as i64, shape[d] as i64);
                        src.push(match mode {
                            _ if (0..n).contains(&k) => k,
                            PadMode::Constant => return p.value as i8,
                            PadMode::Edge => k.max(0).min(n - 1),
                            PadMode::Reflect if k < 0 => -k,
                            PadMode::Reflect => (n - 1) - (k - (n - 1)),
                        } as usize);
                    }
                    x[ravel(&src, &shape)]
                })
                .collect();
            assert_eq!(pad(&p, &shape, &out, &Value::I8(x)), Value::I8(want), "{p:?} {shape:?}");
        }
    }
}
