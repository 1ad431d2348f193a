//! The sliding-window attributes Conv and the pooling ops share ([`WindowAttrs`]: `strides`,
//! `dilations`, `pads`, `auto_pad`, `ceil_mode`), resolved against an input's spatial shape
//! into a [`Window`], and the window walk both float kernels use ([`for_windows`]).

use super::R;
use crate::ir::Node;

/// `auto_pad`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoPad {
    /// `NOTSET` (and any unknown value): the explicit `pads`.
    NotSet,
    /// `VALID`: no padding; `pads` is ignored.
    Valid,
    /// `SAME_UPPER`: output size `ceil(in / stride)`, the padding split evenly with the odd
    /// element at the end; `pads` is ignored.
    SameUpper,
    /// `SAME_LOWER`: as `SAME_UPPER`, with the odd element at the start.
    SameLower,
}

/// The window attributes as the node gives them (ONNX defaults: strides and dilations 1,
/// pads 0, `NOTSET`, floor mode).
#[derive(Debug, Clone, PartialEq)]
pub struct WindowAttrs {
    /// `strides`, one per spatial axis (default 1 each); negative entries read as 0 and are
    /// rejected by [`WindowAttrs::resolve`].
    pub strides: Option<Vec<usize>>,
    /// `dilations`, one per spatial axis (default 1 each); negative entries read as 0 and are
    /// rejected by [`WindowAttrs::resolve`].
    pub dilations: Option<Vec<usize>>,
    /// `pads`: `[begin…, end…]`, two per spatial axis (default 0), used only with
    /// [`AutoPad::NotSet`].
    pub pads: Option<Vec<i64>>,
    /// `auto_pad` (default `NOTSET`).
    pub auto_pad: AutoPad,
    /// `ceil_mode` (pooling, default 0): output sizes rounded up, the last partial window
    /// kept when it starts inside the input or the begin padding.
    pub ceil_mode: bool,
}

impl WindowAttrs {
    /// The window attributes of node `n` as given (an unknown `auto_pad` reads as `NOTSET`).
    pub fn parse(n: &Node) -> WindowAttrs {
        let get = |k: &str| n.ints(k).map(|v| v.iter().map(|&x| x.max(0) as usize).collect::<Vec<_>>());
        let auto_pad = match n.str("auto_pad", "NOTSET").as_str() {
            "SAME_UPPER" => AutoPad::SameUpper,
            "SAME_LOWER" => AutoPad::SameLower,
            "VALID" => AutoPad::Valid,
            _ => AutoPad::NotSet,
        };
        WindowAttrs {
            strides: get("strides"),
            dilations: get("dilations"),
            pads: n.ints("pads"),
            auto_pad,
            ceil_mode: n.int("ceil_mode", 0) != 0,
        }
    }

    /// The window of `kernel` over an input of spatial shape `in_spatial`.
    pub fn resolve(&self, in_spatial: &[usize], kernel: Vec<usize>) -> R<Window> {
        let s = kernel.len();
        let (strides, dilations) =
            (self.strides.clone().unwrap_or_else(|| vec![1; s]), self.dilations.clone().unwrap_or_else(|| vec![1; s]));
        if strides.len() != s || dilations.len() != s || strides.contains(&0) || dilations.contains(&0) || in_spatial.len() != s {
            return Err("strides/dilations do not match the kernel rank".into());
        }
        // the spec stores every window parameter as a u32; within that, no sum or product
        // below overflows
        let fits = |v: &[usize]| v.iter().all(|&x| x <= u32::MAX as usize);
        if kernel.contains(&0) || !fits(&kernel) || !fits(&strides) || !fits(&dilations) || !fits(in_spatial) {
            return Err(format!(
                "window of kernel {kernel:?}, strides {strides:?} and dilations {dilations:?} over {in_spatial:?}: each must be 1 to 2^32 − 1"
            ));
        }
        let mut pb = vec![0; s];
        let mut pe = vec![0; s];
        match self.auto_pad {
            AutoPad::SameUpper | AutoPad::SameLower => {
                for d in 0..s {
                    let out = in_spatial[d].div_ceil(strides[d]);
                    let span = dilations[d] * (kernel[d] - 1) + 1;
                    let total = (out.saturating_sub(1) * strides[d] + span).saturating_sub(in_spatial[d]);
                    let small = total / 2;
                    if self.auto_pad == AutoPad::SameUpper {
                        pb[d] = small;
                        pe[d] = total - small;
                    } else {
                        pb[d] = total - small;
                        pe[d] = small;
                    }
                }
            }
            AutoPad::Valid => {}
            AutoPad::NotSet => {
                if let Some(p) = &self.pads {
                    if p.len() != 2 * s || p.iter().any(|&x| x < 0) {
                        return Err(format!("pads {p:?} do not match the kernel rank {s}"));
                    }
                    if p.iter().any(|&x| x > u32::MAX as i64) {
                        return Err(format!("pads {p:?}: each must be below 2^32"));
                    }
                    pb = p[..s].iter().map(|&x| x as usize).collect();
                    pe = p[s..].iter().map(|&x| x as usize).collect();
                }
            }
        }
        if self.ceil_mode {
            // ceil mode: extend the end padding so the last partial window exists (for MaxPool
            // padding never wins, so this is exact; AveragePool rejects it in its lowering).
            for d in 0..s {
                let span = dilations[d] * (kernel[d] - 1) + 1;
                let padded = in_spatial[d] + pb[d] + pe[d];
                if padded >= span {
                    let rem = (padded - span) % strides[d];
                    if rem != 0 {
                        let out_ceil = (padded - span).div_ceil(strides[d]) + 1;
                        // ONNX: the last window must start inside the input or the begin padding
                        if (out_ceil - 1) * strides[d] < in_spatial[d] + pb[d] {
                            pe[d] += strides[d] - rem;
                        }
                    }
                }
            }
        }
        Ok(Window { kernel, strides, dilations, pads_begin: pb, pads_end: pe })
    }
}

/// Spatial attributes of Conv and pooling, with `auto_pad` resolved.
#[derive(Debug, Clone)]
pub struct Window {
    /// Kernel size per spatial axis.
    pub kernel: Vec<usize>,
    /// Stride per spatial axis, at least 1.
    pub strides: Vec<usize>,
    /// Dilation per spatial axis, at least 1: taps are `dilation` input elements apart.
    pub dilations: Vec<usize>,
    /// Padding before each spatial axis, in input elements.
    pub pads_begin: Vec<usize>,
    /// Padding after each spatial axis, in input elements (with `ceil_mode`, extended so the
    /// last partial window exists).
    pub pads_end: Vec<usize>,
}

/// The window of node `n`'s attributes over `in_spatial`.
pub fn window(n: &Node, in_spatial: &[usize], kernel: Vec<usize>) -> R<Window> {
    WindowAttrs::parse(n).resolve(in_spatial, kernel)
}

/// The output length of spatial axis `d` of window `w` over an input of length `n`:
/// `(n + pads_begin + pads_end − (dilation · (kernel − 1) + 1)) / stride + 1` (the spec's
/// window output length); an error when the dilated kernel does not fit in the padded input.
pub fn out_len(w: &Window, d: usize, n: usize) -> R<usize> {
    let u = |v: usize| u32::try_from(v).map_err(|_| format!("window parameter {v} is not below 2^32"));
    solidml_spec::validate::window_output_len(
        u(n)?,
        u(w.kernel[d])?,
        u(w.strides[d])?,
        u(w.dilations[d])?,
        u(w.pads_begin[d])?,
        u(w.pads_end[d])?,
    )
    .map(|v| v as usize)
    .ok_or_else(|| "the window does not fit in the padded input".to_string())
}

/// The output spatial shape of window `w` over `in_sp`.
pub fn out_shape(w: &Window, in_sp: &[usize]) -> R<Vec<usize>> {
    (0..w.kernel.len()).map(|d| out_len(w, d, in_sp[d])).collect()
}

/// Calls `f(out_index, taps)` for each output position, `taps` the `(kernel tap, flat spatial
/// input offset)` pairs of the window taps inside the input (padding omitted); returns the
/// output spatial shape. Shared by convolution and pooling.
///
/// The walk visits every (output position, kernel tap) pair: an error before it starts when
/// that is more than [`super::MAX_NODE_WORK`] (or the output more than the element cap).
pub fn for_windows(w: &Window, in_sp: &[usize], mut f: impl FnMut(usize, &[(usize, usize)])) -> R<Vec<usize>> {
    let s = w.kernel.len();
    let out_sp = out_shape(w, in_sp)?;
    super::check_elements(&out_sp, "the window output")?;
    let total: usize = out_sp.iter().product();
    let klen = w.kernel.iter().try_fold(1usize, |a, &k| a.checked_mul(k)).unwrap_or(usize::MAX);
    super::check_work(&[total, klen], &format!("a window of {:?} over {in_sp:?}", w.kernel))?;
    let mut taps = Vec::with_capacity(klen);
    for o in 0..total {
        let mut pos = vec![0usize; s];
        let mut r = o;
        for d in (0..s).rev() {
            pos[d] = r % out_sp[d];
            r /= out_sp[d];
        }
        taps.clear();
        'k: for k in 0..klen {
            let mut r = k;
            let mut off = 0;
            let mut stride = 1;
            let mut coords = vec![0usize; s];
            for d in (0..s).rev() {
                let kd = r % w.kernel[d];
                r /= w.kernel[d];
                let p = (pos[d] * w.strides[d] + kd * w.dilations[d]) as i64 - w.pads_begin[d] as i64;
                if p < 0 || p >= in_sp[d] as i64 {
                    continue 'k;
                }
                coords[d] = p as usize;
            }
            for d in (0..s).rev() {
                off += coords[d] * stride;
                stride *= in_sp[d];
            }
            taps.push((k, off));
        }
        f(o, &taps);
    }
    Ok(out_sp)
}
