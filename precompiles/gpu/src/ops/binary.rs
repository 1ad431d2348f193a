//! The broadcasting element-wise ops: Binary (Add/Sub/Mul, `shaders/binary.wgsl`), Extremum
//! (`extremum.wgsl`), BinaryLut (`binary_lut.wgsl`) and IntBinary (`int_binary.wgsl`, fallible).

use solidml_spec::{Binary, BinaryKind, Extremum, IntBinaryKind};

use super::{Builder, FailKind, NodeRef, broadcast_block, mult_words, numel};
use crate::GpuError;
use crate::shaders::Shader;

/// `binary.wgsl`: quantized Add / Sub / Mul with broadcasting (spec §Op: Binary).
pub(crate) const BINARY: Shader = crate::shader!("binary", false);

/// `extremum.wgsl`: element-wise Max / Min with broadcasting (spec §Op: Extremum).
pub(crate) const EXTREMUM: Shader = crate::shader!("extremum", false);

/// `binary_lut.wgsl`: BinaryLut, a 65536-entry table of two codes (spec §Op: BinaryLut).
pub(crate) const BINARY_LUT: Shader = crate::shader!("binary_lut", false);

/// `int_binary.wgsl`: exact i64 Add / Sub / Mul / Div / Mod / Rem / Max / Min / And / Or /
/// Xor, an
/// overflow or a division by zero a run-time error (spec §Op: IntBinary).
pub(crate) const INT_BINARY: Shader = crate::shader!("int_binary", false);

/// The shaders of this file (`crate::ops::all_shaders`).
pub(crate) const SHADERS: &[Shader] = &[BINARY, EXTREMUM, BINARY_LUT, INT_BINARY];

fn kind_word(k: BinaryKind) -> u32 {
    match k {
        BinaryKind::Add => 0,
        BinaryKind::Sub => 1,
        BinaryKind::Mul => 2,
    }
}

fn bcast(n: &NodeRef<'_>) -> Vec<u32> {
    broadcast_block(&n.input(0).shape, &n.input(1).shape, &n.output().shape)
}

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, bin: &Binary) -> Result<(), GpuError> {
    let total = numel(&n.output().shape);
    let mut params = vec![total as u32, kind_word(bin.kind), bin.a_zero_point as u32, bin.b_zero_point as u32, bin.left_shift];
    for m in [bin.a_multiplier, bin.b_multiplier, bin.output_multiplier] {
        params.extend(mult_words(m));
    }
    params.extend([bin.output_zero_point as u32, bin.clamp_min as i32 as u32, bin.clamp_max as i32 as u32]);
    params.extend(bcast(n));
    b.dispatch(BINARY, "main", total, &params, n.binds(b, 2))
}

pub(crate) fn build_extremum(b: &mut Builder<'_>, n: &NodeRef<'_>, e: Extremum) -> Result<(), GpuError> {
    let total = numel(&n.output().shape);
    let mut params = vec![total as u32, (e == Extremum::Min) as u32];
    params.extend(bcast(n));
    b.dispatch(EXTREMUM, "main", total, &params, n.binds(b, 2))
}

pub(crate) fn build_lut(b: &mut Builder<'_>, n: &NodeRef<'_>, table: &[i8]) -> Result<(), GpuError> {
    let total = numel(&n.output().shape);
    let mut params = vec![total as u32];
    params.extend(bcast(n));
    let data: Vec<u32> = table.iter().map(|&v| v as i32 as u32).collect();
    let buf = b.data(&format!("{} table", n.label()), &data)?;
    let mut binds = n.binds(b, 2);
    binds.data = buf.as_ref();
    b.dispatch(BINARY_LUT, "main", total, &params, binds)?;
    if let Some(buf) = buf {
        b.keep(buf);
    }
    Ok(())
}

pub(crate) fn build_int(b: &mut Builder<'_>, n: &NodeRef<'_>, kind: IntBinaryKind) -> Result<(), GpuError> {
    let total = numel(&n.output().shape);
    let slot = b.slot(n.index, FailKind::Overflow);
    // the kind's encoding index is the shader's kind word
    let mut params = vec![total as u32, kind as u32, slot];
    params.extend(bcast(n));
    b.dispatch(INT_BINARY, "main", total, &params, n.binds(b, 2))?;
    if total > 0 {
        b.dispatch(INT_BINARY, "report", 1, &params, n.binds(b, 2))?;
    }
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Binary`] (`solidml_spec::for_each_op!`).
    pub(crate) fn binary(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, op: &solidml_spec::Binary) -> super::BuildResult {
        build(b, n, op)
    }

    /// The node entry of [`solidml_spec::Op::Extremum`] (`solidml_spec::for_each_op!`).
    pub(crate) fn extremum(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, op: &solidml_spec::Extremum) -> super::BuildResult {
        build_extremum(b, n, *op)
    }

    /// The node entry of [`solidml_spec::Op::BinaryLut`] (`solidml_spec::for_each_op!`).
    pub(crate) fn binary_lut(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, table: &[i8]) -> super::BuildResult {
        build_lut(b, n, table)
    }

    /// The node entry of [`solidml_spec::Op::IntBinary`] (`solidml_spec::for_each_op!`).
    pub(crate) fn int_binary(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, kind: &solidml_spec::IntBinaryKind) -> super::BuildResult {
        build_int(b, n, *kind)
    }
}
