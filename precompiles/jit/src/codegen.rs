//! Native code for loop nests whose every extent is known at prepare, compiled with cranelift.
//!
//! A node's shapes, strides and window offsets are fixed when its model is prepared, so its
//! loops can be compiled for that node alone: every trip count, stride and tap offset an
//! immediate, the taps unrolled, the inner loop over 16 output positions in one 128-bit vector.
//! Each compiled nest is one function in its own [`JITModule`], freed with its plan.
//!
//! Compiled today: [`MaxPoolPlane`], the 2-D MaxPool of one padded plane (see `ops::pool`),
//! with window stride 1 or 2 along the row and output rows of at least 16 positions:
//!
//! ```text
//! for oy in 0..rows:                       // row_start(oy) = oy · row_step
//!     for each block of 16 outputs ox0 (the last block ends at the row's end):
//!         acc = splat(−128)
//!         for t in taps:                   // unrolled, offsets immediate
//!             v = plane[row_start + ox0·step + t + step·l] for l in 0..16
//!                 (stride 1: one load; stride 2: two loads, the even bytes by one shuffle)
//!             acc = smax(acc, v)
//!         out[oy · width + ox0 .. + 16] = acc
//! ```
//!
//! The maximum of codes is exact whatever the order; a block that overlaps the previous one
//! (the row's last) rewrites the same values. Contract of the compiled function
//! `f(plane, out)`: it reads `plane[0 .. last window end + PLANE_SLACK]` — a stride-2 block
//! loads up to 31 bytes past its first tap — and writes exactly `out[0 .. rows · width]`;
//! [`MaxPoolPlane::run`] checks both lengths before calling it.

use cranelift_codegen::{
    ir::{AbiParam, Function, InstBuilder, MemFlagsData, UserFuncName, Value, condcodes::IntCC, types},
    isa::TargetFrontendConfig,
    settings::{self, Configurable},
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module, default_libcall_names};

/// Bytes a compiled plane function may read past the last window's end.
pub(crate) const PLANE_SLACK: usize = 32;

/// Output positions per vector block.
const BLOCK: usize = 16;

/// The geometry of a 2-D MaxPool plane (offsets in the padded plane, row-major).
pub(crate) struct MaxPoolGeometry<'a> {
    /// Output rows.
    pub(crate) rows: usize,
    /// Output positions per row (at least 16).
    pub(crate) width: usize,
    /// Plane offset between the window starts of consecutive output rows.
    pub(crate) row_step: usize,
    /// Plane offset between consecutive windows of a row: 1 or 2.
    pub(crate) step: usize,
    /// Each tap's offset from its window start.
    pub(crate) taps: &'a [u32],
}

impl MaxPoolGeometry<'_> {
    /// Whether this geometry compiles: the vector loop needs rows of a whole block and a
    /// stride of 1 or 2; offsets must fit cranelift's 32-bit immediates.
    fn supported(&self) -> bool {
        let reach = self.rows.saturating_sub(1).saturating_mul(self.row_step)
            + self.width.saturating_sub(1) * self.step
            + self.taps.iter().copied().max().unwrap_or(0) as usize
            + PLANE_SLACK;
        self.width >= BLOCK && (self.step == 1 || self.step == 2) && self.rows > 0 && !self.taps.is_empty() && reach < i32::MAX as usize
    }

    /// The plane bytes the compiled function reads (the last window's end plus the slack).
    pub(crate) fn plane_bytes(&self) -> usize {
        (self.rows - 1) * self.row_step + (self.width - 1) * self.step + *self.taps.iter().max().unwrap_or(&0) as usize + 1 + PLANE_SLACK
    }
}

/// One compiled MaxPool plane function and the module that owns its code.
pub(crate) struct MaxPoolPlane {
    module: Option<JITModule>,
    f: unsafe extern "C" fn(*const i8, *mut i8),
    plane_bytes: usize,
    out_bytes: usize,
    code_bytes: usize,
}

// SAFETY: after `finalize_definitions` the module's code and data are immutable; the function
// only reads its arguments' memory. The module is touched again only by `Drop`, which has
// exclusive access.
unsafe impl Send for MaxPoolPlane {}
// SAFETY: as above: shared use only calls the immutable compiled function.
unsafe impl Sync for MaxPoolPlane {}

impl Drop for MaxPoolPlane {
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // SAFETY: the only pointer into the module's memory is `self.f`, dropped with self.
            unsafe { module.free_memory() };
        }
    }
}

impl MaxPoolPlane {
    /// Compile the plane function of `g`; `None` when the geometry is not one this compiles
    /// or cranelift refuses the host (the caller keeps its Rust loops).
    pub(crate) fn compile(g: &MaxPoolGeometry<'_>) -> Option<MaxPoolPlane> {
        if !g.supported() {
            return None;
        }
        let mut flags = settings::builder();
        flags.set("opt_level", "speed").ok()?;
        flags.set("is_pic", "false").ok()?;
        let isa = cranelift_native::builder().ok()?.finish(settings::Flags::new(flags)).ok()?;
        let mut module = JITModule::new(JITBuilder::with_isa(isa, default_libcall_names()));
        let mut ctx = module.make_context();
        let ptr = module.target_config().pointer_type();
        ctx.func.signature.params.extend([AbiParam::new(ptr), AbiParam::new(ptr)]);
        let id = module.declare_function("maxpool_plane", Linkage::Local, &ctx.func.signature).ok()?;
        ctx.func.name = UserFuncName::user(0, id.as_u32());
        build_maxpool(&mut ctx.func, g, ptr, module.target_config());
        module.define_function(id, &mut ctx).ok()?;
        let code_bytes = ctx.compiled_code().map_or(0, |c| c.code_buffer().len());
        module.clear_context(&mut ctx);
        module.finalize_definitions().ok()?;
        let code = module.get_finalized_function(id);
        // SAFETY: the function was built with exactly this signature (two pointers, no result)
        // in the host's default calling convention.
        let f = unsafe { std::mem::transmute::<*const u8, unsafe extern "C" fn(*const i8, *mut i8)>(code) };
        Some(MaxPoolPlane { module: Some(module), f, plane_bytes: g.plane_bytes(), out_bytes: g.rows * g.width, code_bytes })
    }

    /// Bytes of machine code.
    pub(crate) fn code_bytes(&self) -> usize {
        self.code_bytes
    }

    /// The plane bytes [`MaxPoolPlane::run`] needs (a padded plane and [`PLANE_SLACK`]).
    pub(crate) fn plane_bytes(&self) -> usize {
        self.plane_bytes
    }

    /// Pool one padded plane into `out`.
    ///
    /// # Panics
    ///
    /// When `plane` or `out` is shorter than the compiled geometry needs (a caller's bug: never
    /// runs code out of bounds).
    pub(crate) fn run(&self, plane: &[i8], out: &mut [i8]) {
        assert!(plane.len() >= self.plane_bytes && out.len() == self.out_bytes, "maxpool plane buffers");
        // SAFETY: the lengths were checked against the geometry the code was compiled for
        // (module docs: what it reads and writes).
        unsafe { (self.f)(plane.as_ptr(), out.as_mut_ptr()) }
    }
}

/// The IR of the plane function (module docs).
fn build_maxpool(func: &mut Function, g: &MaxPoolGeometry<'_>, ptr: types::Type, target: TargetFrontendConfig) {
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(func, &mut fctx);
    let mem = MemFlagsData::new().with_notrap();
    let entry = b.create_block();
    let row_loop = b.create_block();
    let block_loop = b.create_block();
    let row_end = b.create_block();
    let exit = b.create_block();
    b.append_block_params_for_function_params(entry);
    // row_loop(in_row, out_row, rows_left); block_loop(in_row, out_row, rows_left, ox0)
    for _ in 0..3 {
        b.append_block_param(row_loop, ptr);
        b.append_block_param(row_end, ptr);
    }
    for _ in 0..4 {
        b.append_block_param(block_loop, ptr);
    }

    b.switch_to_block(entry);
    let (plane, out) = (b.block_params(entry)[0], b.block_params(entry)[1]);
    let rows = b.ins().iconst(ptr, g.rows as i64);
    b.ins().jump(row_loop, &[plane.into(), out.into(), rows.into()]);

    b.switch_to_block(row_loop);
    let p = b.block_params(row_loop).to_vec();
    let zero = b.ins().iconst(ptr, 0);
    b.ins().jump(block_loop, &[p[0].into(), p[1].into(), p[2].into(), zero.into()]);

    // one block of 16 outputs at ox0, then the next block, or the row's last block, or the row's end
    b.switch_to_block(block_loop);
    let q = b.block_params(block_loop).to_vec();
    let (in_row, out_row, left, ox0) = (q[0], q[1], q[2], q[3]);
    emit_block(&mut b, g, mem, in_row, out_row, ox0);
    let next = b.ins().iadd_imm_s(ox0, BLOCK as i64);
    let last = (g.width - BLOCK) as i64;
    // past the last full block: the row's last block starts at width − 16 (it may overlap)
    let more = b.ins().icmp_imm_s(IntCC::SignedLessThan, next, last);
    let at_last = b.ins().icmp_imm_s(IntCC::Equal, ox0, last);
    let last_v = b.ins().iconst(ptr, last);
    let following = b.ins().select(more, next, last_v);
    b.ins().brif(
        at_last,
        row_end,
        &[in_row.into(), out_row.into(), left.into()],
        block_loop,
        &[in_row.into(), out_row.into(), left.into(), following.into()],
    );

    b.switch_to_block(row_end);
    let r = b.block_params(row_end).to_vec();
    let in_next = b.ins().iadd_imm_s(r[0], g.row_step as i64);
    let out_next = b.ins().iadd_imm_s(r[1], g.width as i64);
    let left_next = b.ins().iadd_imm_s(r[2], -1);
    b.ins().brif(left_next, row_loop, &[in_next.into(), out_next.into(), left_next.into()], exit, &[]);

    b.switch_to_block(exit);
    b.ins().return_(&[]);
    b.seal_all_blocks();
    b.finalize(target);
}

/// `out_row[ox0 .. ox0 + 16] = max over taps` of the block's windows.
fn emit_block(b: &mut FunctionBuilder<'_>, g: &MaxPoolGeometry<'_>, mem: MemFlagsData, in_row: Value, out_row: Value, ox0: Value) {
    let first = if g.step == 1 { ox0 } else { b.ins().imul_imm_s(ox0, g.step as i64) };
    let base = b.ins().iadd(in_row, first);
    let min = b.ins().iconst(types::I8, i8::MIN as i64);
    let mut acc = b.ins().splat(types::I8X16, min);
    // the even bytes of two 16-byte vectors: positions 0, 2, …, 30
    let evens = (g.step == 2).then(|| {
        let mask: Vec<u8> = (0..16).map(|i| 2 * i as u8).collect();
        b.func.dfg.immediates.push(mask.into())
    });
    for &t in g.taps {
        let v = match evens {
            None => b.ins().load(types::I8X16, mem, base, t as i32),
            Some(mask) => {
                let lo = b.ins().load(types::I8X16, mem, base, t as i32);
                let hi = b.ins().load(types::I8X16, mem, base, t as i32 + 16);
                b.ins().shuffle(lo, hi, mask)
            }
        };
        acc = b.ins().smax(acc, v);
    }
    let dst = b.ins().iadd(out_row, ox0);
    b.ins().store(mem, acc, dst, 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The compiled plane function against a plain loop, both strides, ragged widths.
    #[test]
    fn compiled_max_pool_planes_equal_the_plain_loops() {
        let mut s = 0x9e37_79b9u32;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s
        };
        for (rows, width, step, k) in [(1, 16, 1, 1), (3, 17, 1, 3), (5, 40, 2, 3), (2, 16, 2, 2), (4, 33, 2, 1), (7, 64, 1, 2)] {
            let plane_w = (width - 1) * step + k;
            let plane_h = (rows - 1) * step + k;
            let taps: Vec<u32> = (0..k * k).map(|t| ((t / k) * plane_w + t % k) as u32).collect();
            let g = MaxPoolGeometry { rows, width, row_step: step * plane_w, step, taps: &taps };
            let code = MaxPoolPlane::compile(&g).expect("compiles on this host");
            assert!(code.code_bytes() > 0);
            let mut plane: Vec<i8> = (0..plane_w * plane_h).map(|_| next() as i8).collect();
            plane.resize(code.plane_bytes().max(plane.len()), 0);
            let mut got = vec![0i8; rows * width];
            code.run(&plane, &mut got);
            let want: Vec<i8> = (0..rows * width)
                .map(|o| {
                    let start = (o / width) * step * plane_w + (o % width) * step;
                    taps.iter().map(|&t| plane[start + t as usize]).max().unwrap()
                })
                .collect();
            assert_eq!(got, want, "{rows}x{width} stride {step} kernel {k}");
        }
    }

    #[test]
    fn geometries_it_cannot_vectorize_are_left_to_the_caller() {
        let taps = [0u32, 1];
        assert!(MaxPoolPlane::compile(&MaxPoolGeometry { rows: 2, width: 15, row_step: 20, step: 1, taps: &taps }).is_none());
        assert!(MaxPoolPlane::compile(&MaxPoolGeometry { rows: 2, width: 16, row_step: 60, step: 3, taps: &taps }).is_none());
    }
}
