//! One file per operator, mirroring `solidml-cpu`'s `ops/`: each packs its node's parameters
//! (shapes, zero points, multipliers) into a `params` word array and its constant data
//! (weights, biases, tables) into a `data` buffer, and records its dispatches through its node
//! entry (`impl Kernels { fn <entry>(…) }`, named by the spec's operator table,
//! `solidml_spec::for_each_op!`). [`build`] dispatches a node to its entry with the `match` the
//! table generates, exhaustive over `Op`; `Builder` holds what they share.
//!
//! The `mod` declarations are generated with it, so `cargo fmt` does not reach the op files:
//! `scripts/test.sh` checks them with `rustfmt --check` by name.

use solidml_spec::{Model, Node, Op, arith::Multiplier};
use wgpu::util::DeviceExt;

use crate::GpuError;
use crate::context::GpuContext;
use crate::executor::{Dispatch, words};
use crate::shaders::{self, Shader};

/// The unit of the long-axis splits. lavapipe (llvmpipe, the software Vulkan device CI uses)
/// ends an invocation's loops after about 65,535 loop iterations in all (nested ones included),
/// so no kernel walks a long axis in one invocation: Reduce (spans of `CHUNK / 4`), MaxPool /
/// AvgPool (`CHUNK / 2` taps), Normalize, InstanceNorm, CumSum (`CHUNK`), ArgMax (`CHUNK`,
/// doubled up to √dim), Dense (`CHUNK / 4` words, doubled up to √kw), DenseWide (`CHUNK`
/// inputs, doubled up to √K), Conv and ConvTranspose (`CHUNK / 2` reduction indices, doubled
/// up to √) put partial results in scratch and combine them in a further pass; Softmax and LogSoftmax walk lanes ≤ 2^15 once per pass. Each op's
/// module doc states its per-invocation bound: at most 16,384 loop iterations, except Conv /
/// ConvTranspose reductions over 2^22 MACs per output (chunk · (s + 2) with chunk ≤ 2·√MACs).
pub(crate) const CHUNK: u64 = 4096;

/// The most (output, chunk) partials one batch of [`dispatch_batched`] holds: bounds its
/// scratch buffer.
pub(crate) const BATCH_PARTIALS: u64 = 1 << 21;

/// The two passes of a chunked reduction over `total` outputs of `chunks` partials each, in
/// batches of at most [`BATCH_PARTIALS`] partials: entry `partial` (one invocation per partial)
/// then `combine` (one per output of the batch). `params[first_at]` and `params[first_at + 1]`
/// are set to the batch's first output and its length; the scratch holds `words_per_partial`
/// words per partial of a batch.
#[allow(clippy::too_many_arguments)]
pub(crate) fn dispatch_batched(
    b: &mut Builder<'_>,
    shader: Shader,
    (partial, combine): (&'static str, &'static str),
    total: u64,
    chunks: u64,
    words_per_partial: u64,
    params: &mut [u32],
    first_at: usize,
    binds: Binds<'_>,
) -> Result<(), GpuError> {
    let batch = (BATCH_PARTIALS / chunks).max(1).min(total);
    let scratch = b.scratch(words_per_partial * batch * chunks)?;
    let binds = Binds { scratch: Some(&scratch), ..binds };
    let mut first = 0;
    while first < total {
        let len = batch.min(total - first);
        params[first_at] = first as u32;
        params[first_at + 1] = len as u32;
        b.dispatch(shader, partial, len * chunks, params, binds)?;
        b.dispatch(shader, combine, len, params, binds)?;
        first += len;
    }
    b.keep(scratch);
    Ok(())
}

/// What a fallible node reports when its status slot records a failure.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FailKind {
    /// Take / GatherDynamic: the index and the length it must be below.
    Index { len: usize },
    /// IntBinary: operand a of the first element without an i64 result (an overflow, or a
    /// division by zero when the slot's reason word is 1).
    Overflow,
}

/// The buffers a dispatch binds (unused slots get a dummy buffer).
#[derive(Default, Clone, Copy)]
pub(crate) struct Binds<'a> {
    pub out: Option<&'a wgpu::Buffer>,
    pub in0: Option<&'a wgpu::Buffer>,
    pub in1: Option<&'a wgpu::Buffer>,
    pub data: Option<&'a wgpu::Buffer>,
    pub scratch: Option<&'a wgpu::Buffer>,
}

/// Shared state while an executor records its nodes.
pub(crate) struct Builder<'a> {
    ctx: &'a GpuContext,
    pub packed: bool,
    tensors: &'a [Option<wgpu::Buffer>],
    status: &'a wgpu::Buffer,
    dummy_read: wgpu::Buffer,
    dummy_rw: wgpu::Buffer,
    dummy_scratch: wgpu::Buffer,
    dispatches: Vec<Dispatch>,
    fallible: Vec<(usize, FailKind)>,
    owned: Vec<wgpu::Buffer>,
}

impl<'a> Builder<'a> {
    pub(crate) fn new(ctx: &'a GpuContext, packed: bool, tensors: &'a [Option<wgpu::Buffer>], status: &'a wgpu::Buffer) -> Self {
        let dummy = |label, usage| {
            ctx.device.create_buffer(&wgpu::BufferDescriptor { label: Some(label), size: 16, usage, mapped_at_creation: false })
        };
        Builder {
            ctx,
            packed,
            tensors,
            status,
            dummy_read: dummy("dummy", wgpu::BufferUsages::STORAGE),
            dummy_rw: dummy("dummy out", wgpu::BufferUsages::STORAGE),
            dummy_scratch: dummy("dummy scratch", wgpu::BufferUsages::STORAGE),
            dispatches: vec![],
            fallible: vec![],
            owned: vec![],
        }
    }

    pub(crate) fn finish(self) -> (Vec<Dispatch>, Vec<(usize, FailKind)>, Vec<wgpu::Buffer>) {
        let mut owned = self.owned;
        owned.extend([self.dummy_read, self.dummy_rw, self.dummy_scratch]);
        (self.dispatches, self.fallible, owned)
    }

    /// The buffer of tensor `id` (defined: validation guarantees it).
    pub(crate) fn tensor(&self, id: u32) -> &'a wgpu::Buffer {
        self.tensors[id as usize].as_ref().expect("validated: tensor is defined")
    }

    /// A read-only buffer of constant words; `None` for no words. Checked against the binding limit.
    pub(crate) fn data(&mut self, what: &str, words: &[u32]) -> Result<Option<wgpu::Buffer>, GpuError> {
        if words.is_empty() {
            return Ok(None);
        }
        let bytes = words.len() as u64 * 4;
        let max = self.ctx.max_binding_bytes();
        if bytes > max {
            return Err(GpuError::TooLarge { what: what.to_string(), bytes, limit: max });
        }
        Ok(Some(self.ctx.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(what),
            contents: bytemuck::cast_slice(words),
            usage: wgpu::BufferUsages::STORAGE,
        })))
    }

    /// A read-write scratch buffer of `words` words.
    pub(crate) fn scratch(&mut self, words: u64) -> Result<wgpu::Buffer, GpuError> {
        let bytes = (words * 4).max(16);
        let max = self.ctx.max_binding_bytes();
        if bytes > max {
            return Err(GpuError::TooLarge { what: "scratch".into(), bytes, limit: max });
        }
        Ok(self.ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("scratch"),
            size: bytes,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        }))
    }

    /// Keep a buffer alive as long as the executor.
    pub(crate) fn keep(&mut self, b: wgpu::Buffer) {
        self.owned.push(b);
    }

    /// The status slot of node `index`, which can fail at run time (at most one per node: the
    /// status buffer holds one slot per node).
    pub(crate) fn slot(&mut self, index: usize, kind: FailKind) -> u32 {
        debug_assert!(self.fallible.last().is_none_or(|&(last, _)| last < index), "node {index} takes a second status slot");
        self.fallible.push((index, kind));
        (self.fallible.len() - 1) as u32
    }

    /// Record a dispatch of `threads` invocations of `entry` (64-thread workgroups; entries with
    /// `@workgroup_size(1)` pass `threads = 1` and get one group). Nothing for 0 threads.
    pub(crate) fn dispatch(
        &mut self,
        shader: Shader,
        entry: &'static str,
        threads: u64,
        params: &[u32],
        binds: Binds<'_>,
    ) -> Result<(), GpuError> {
        if threads == 0 {
            return Ok(());
        }
        let groups = threads.div_ceil(64);
        let max_dim = self.ctx.limits.max_compute_workgroups_per_dimension as u64;
        let x = groups.min(max_dim);
        let y = groups.div_ceil(x);
        if y > max_dim {
            return Err(GpuError::TooLarge {
                what: format!("{} dispatch of {threads} threads", shader.name()),
                bytes: threads,
                limit: max_dim * max_dim * 64,
            });
        }
        let pipeline = self.ctx.pipeline(shader, entry, self.packed)?;
        let params = self.ctx.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("params"),
            contents: bytemuck::cast_slice(params),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let entries = [
            (shaders::PARAMS, &params),
            (shaders::OUT, binds.out.unwrap_or(&self.dummy_rw)),
            (shaders::IN0, binds.in0.unwrap_or(&self.dummy_read)),
            (shaders::IN1, binds.in1.unwrap_or(&self.dummy_read)),
            (shaders::DATA, binds.data.unwrap_or(&self.dummy_read)),
            (shaders::STATUS, self.status),
            (shaders::SCRATCH, binds.scratch.unwrap_or(&self.dummy_scratch)),
        ];
        let entries: Vec<wgpu::BindGroupEntry<'_>> =
            entries.iter().map(|(b, buf)| wgpu::BindGroupEntry { binding: *b, resource: buf.as_entire_binding() }).collect();
        let bind_group = self.ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(shader.name()),
            layout: &self.ctx.layout,
            entries: &entries,
        });
        self.owned.push(params);
        self.dispatches.push(Dispatch { pipeline, bind_group, groups: (x as u32, y as u32) });
        Ok(())
    }
}

/// The node entries of the operators, one per `Op` variant, each added by its op's file.
pub(crate) struct Kernels;

/// What an entry returns.
pub(crate) type BuildResult = Result<(), GpuError>;

/// `mod` per file and the dispatch `match`, from the operator table.
macro_rules! dispatch {
    ($($file:ident { $($entry:ident : $variant:ident $(($op:ident))? $({ $($field:ident),* })? );* $(;)? })*) => {
        $(pub mod $file;)*

        /// Every op shader, file by file.
        pub(crate) fn all_shaders() -> Vec<Shader> {
            [$($file::SHADERS),*].concat()
        }

        /// Record the dispatches of node `index`.
        pub(crate) fn build(b: &mut Builder<'_>, model: &Model, index: usize, node: &Node) -> BuildResult {
            let n = NodeRef { model, node, index };
            match &node.op {
                $($(Op::$variant $(($op))? $({ $($field),* })? => Kernels::$entry(b, &n, $($op)? $($($field),*)?),)*)*
            }
        }
    };
}
solidml_spec::for_each_op!(dispatch);

/// A node and the model it belongs to.
pub(crate) struct NodeRef<'a> {
    pub model: &'a Model,
    pub node: &'a Node,
    pub index: usize,
}

impl NodeRef<'_> {
    pub(crate) fn input(&self, i: usize) -> &solidml_spec::TensorInfo {
        self.model.tensor(self.node.inputs[i])
    }
    pub(crate) fn output(&self) -> &solidml_spec::TensorInfo {
        self.model.tensor(self.node.outputs[0])
    }
    /// Words per element of the output.
    pub(crate) fn words(&self) -> u32 {
        words(self.output().dtype) as u32
    }
    /// Binds with the node's output and first input(s).
    pub(crate) fn binds<'b>(&self, b: &Builder<'b>, inputs: usize) -> Binds<'b> {
        Binds {
            out: Some(b.tensor(self.node.outputs[0])),
            in0: (inputs >= 1).then(|| b.tensor(self.node.inputs[0])),
            in1: (inputs >= 2).then(|| b.tensor(self.node.inputs[1])),
            ..Default::default()
        }
    }
    pub(crate) fn label(&self) -> String {
        format!("node `{}` ({})", self.node.name, self.node.op.kind())
    }
}

/// Product of dimensions as u64.
pub(crate) fn numel(shape: &[u32]) -> u64 {
    shape.iter().map(|&d| d as u64).product()
}

/// A multiplier as two words.
pub(crate) fn mult_words(m: Multiplier) -> [u32; 2] {
    [m.multiplier as u32, m.shift as u32]
}

/// The numpy broadcasting block of `bindings.wgsl`'s `broadcast_offsets`: rank, output dims,
/// then each operand's strides (0 on broadcast axes).
pub(crate) fn broadcast_block(sa: &[u32], sb: &[u32], so: &[u32]) -> Vec<u32> {
    let mut p = vec![so.len() as u32];
    p.extend_from_slice(so);
    for s in [sa, sb] {
        p.extend(solidml_exec::index::broadcast_strides(s, so).iter().map(|&x| x as u32));
    }
    p
}

/// int8 weights packed four to a word (lane 0 in the low byte), rows of `kw` words.
pub(crate) fn pack_row(row: impl Iterator<Item = i8>, kw: usize, out: &mut Vec<u32>) {
    let start = out.len();
    out.resize(start + kw, 0);
    for (i, w) in row.enumerate() {
        out[start + i / 4] |= (w as u8 as u32) << (8 * (i % 4));
    }
}
