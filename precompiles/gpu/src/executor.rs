//! [`GpuExecutor`]: one model on one [`GpuContext`], with the CPU executor's semantics.
//!
//! `new` validates the model, allocates one storage buffer per defined tensor (int8, int16 and
//! int32: one `i32` per element, sign-extended; i64: two `u32` words, low first), uploads the
//! constants and every node's parameters and weights once, and records the node list as
//! dispatches. `run` checks the inputs as every executor does (`solidml_exec::check_inputs`),
//! uploads them, records the whole model in one command encoder (one compute pass, one
//! dispatch or a few per node), copies the outputs and the status buffer to staging buffers in
//! the same submission, and reads them back. Run-time failures (Take and GatherDynamic indices,
//! IntBinary overflow) are written by the shaders into the status buffer and reported as the
//! CPU reports them: the first failing node, its first failing element.

use std::sync::{Mutex, mpsc};

use solidml_exec::{ExecError, InputLayout, Value, check_inputs};
use solidml_spec::{DType, Model, validate::validate};

use crate::GpuError;
use crate::context::{DotMode, GpuContext, Pipeline};
use crate::ops::{self, FailKind};

/// One recorded compute dispatch.
pub(crate) struct Dispatch {
    pub pipeline: Pipeline,
    pub bind_group: wgpu::BindGroup,
    pub groups: (u32, u32),
}

/// What `run` needs of the model (the executor owns it: no borrow of the model or context,
/// so nodes can cache executors per model).
struct ModelIo {
    name: String,
    /// The input tensors, in order, and what `run` checks of them.
    inputs: Vec<usize>,
    layout: InputLayout,
    /// (tensor, elements, dtype) per output.
    outputs: Vec<(usize, usize, DType)>,
    node_names: Vec<String>,
}

/// Runs one validated model on the GPU. Build once, run many times; owns its buffers and
/// handles to the context's device and queue.
pub struct GpuExecutor {
    device: wgpu::Device,
    queue: wgpu::Queue,
    io: ModelIo,
    tensors: Vec<Option<wgpu::Buffer>>,
    dispatches: Vec<Dispatch>,
    /// One slot per fallible node, in node order: (node index, kind).
    fallible: Vec<(usize, FailKind)>,
    status: wgpu::Buffer,
    status_readback: wgpu::Buffer,
    readback: Vec<wgpu::Buffer>,
    packed: bool,
    run_lock: Mutex<()>,
    /// Parameter, weight and scratch buffers (kept alive with the bind groups that use them).
    _owned: Vec<wgpu::Buffer>,
}

/// Words per element of a tensor's GPU buffer.
pub(crate) fn words(dtype: DType) -> u64 {
    match dtype {
        DType::I8 | DType::I16 | DType::I32 => 1,
        DType::I64 => 2,
    }
}

impl GpuExecutor {
    /// Validate `model` and prepare it on `ctx`, with the context's default [`DotMode`].
    pub fn new(ctx: &GpuContext, model: &Model) -> Result<Self, GpuError> {
        Self::with_dot_mode(ctx, model, DotMode::Auto)
    }

    /// As [`GpuExecutor::new`], forcing how Dense, Conv and MatMul compute their dot products
    /// (tests run both paths). [`DotMode::Packed`] fails where `dot4I8Packed` is unavailable.
    pub fn with_dot_mode(ctx: &GpuContext, model: &Model, dot: DotMode) -> Result<Self, GpuError> {
        validate(model).map_err(ExecError::from)?;
        let packed = ctx.resolve_dot(dot)?;
        let device = &ctx.device;
        let max = ctx.max_binding_bytes();
        // which tensors hold values
        let mut defined = vec![false; model.tensors.len()];
        for &i in &model.inputs {
            defined[i as usize] = true;
        }
        for (i, _) in &model.constants {
            defined[*i as usize] = true;
        }
        for n in &model.nodes {
            for &o in &n.outputs {
                defined[o as usize] = true;
            }
        }
        let mut tensors = Vec::with_capacity(model.tensors.len());
        for (i, t) in model.tensors.iter().enumerate() {
            if !defined[i] {
                tensors.push(None);
                continue;
            }
            let bytes = t.len() as u64 * 4 * words(t.dtype);
            if bytes > max {
                return Err(GpuError::TooLarge { what: format!("tensor `{}`", t.name), bytes, limit: max });
            }
            tensors.push(Some(device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(&t.name),
                size: bytes.max(16),
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            })));
        }
        for (id, c) in &model.constants {
            let words = match c {
                solidml_spec::ConstData::I8(v) => i8_words(v),
                solidml_spec::ConstData::I64(v) => i64_words(v),
            };
            if !words.is_empty() {
                ctx.queue.write_buffer(tensors[*id as usize].as_ref().unwrap(), 0, bytemuck::cast_slice(&words));
            }
        }
        // at most a slot per node: the status buffer is bound while the nodes are recorded, and a
        // fallible node takes its slot then (`ops::Builder::slot`); only the slots taken are
        // reset and read back per run
        let status = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("status"),
            size: model.nodes.len().max(1) as u64 * 16,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });

        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let mut builder = ops::Builder::new(ctx, packed, &tensors, &status);
        for (index, node) in model.nodes.iter().enumerate() {
            ops::build(&mut builder, model, index, node)?;
        }
        let (dispatches, fallible, owned) = builder.finish();
        let status_readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("status readback"),
            size: fallible.len().max(1) as u64 * 16,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(GpuError::Device(format!("preparing model `{}`: {e}", model.name)));
        }
        let readback = model
            .outputs
            .iter()
            .map(|&o| {
                let t = model.tensor(o);
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("output readback"),
                    size: (t.len() as u64 * 4 * words(t.dtype)).max(16),
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                })
            })
            .collect();
        let io = ModelIo {
            name: model.name.clone(),
            inputs: model.inputs.iter().map(|&i| i as usize).collect(),
            layout: InputLayout::of(model),
            outputs: model.outputs.iter().map(|&o| (o as usize, model.tensor(o).len(), model.tensor(o).dtype)).collect(),
            node_names: model.nodes.iter().map(|n| n.name.clone()).collect(),
        };
        Ok(GpuExecutor {
            device: ctx.device.clone(),
            queue: ctx.queue.clone(),
            io,
            tensors,
            dispatches,
            fallible,
            status,
            status_readback,
            readback,
            packed,
            run_lock: Mutex::new(()),
            _owned: owned,
        })
    }

    /// Whether this executor's GEMM-like kernels use `dot4I8Packed`.
    pub fn uses_packed_dot(&self) -> bool {
        self.packed
    }

    /// Number of compute dispatches one run records.
    pub fn dispatch_count(&self) -> usize {
        self.dispatches.len()
    }

    /// Run one inference; returns the model's outputs in order (as every executor: `solidml_exec::PreparedModel::run`).
    pub fn run(&self, inputs: &[Value]) -> Result<Vec<Value>, GpuError> {
        let m = &self.io;
        check_inputs(&m.layout, inputs)?;
        let _guard = self.run_lock.lock().unwrap_or_else(|e| e.into_inner());
        let (device, queue) = (&self.device, &self.queue);
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        for (id, v) in m.inputs.iter().zip(inputs) {
            let words = match v {
                Value::I8(x) => i8_words(x),
                Value::I64(x) => i64_words(x),
                Value::I16(x) => x.iter().map(|&c| c as i32 as u32).collect(),
                Value::I32(x) => x.iter().map(|&c| c as u32).collect(),
            };
            if !words.is_empty() {
                queue.write_buffer(self.tensors[*id].as_ref().unwrap(), 0, bytemuck::cast_slice(&words));
            }
        }
        let slots = self.status_readback.size() as usize / 16;
        let init: Vec<u32> = (0..slots).flat_map(|_| [u32::MAX, 0, 0, 0]).collect();
        queue.write_buffer(&self.status, 0, bytemuck::cast_slice(&init));

        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("solidml run") });
        {
            let mut pass =
                encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("solidml model"), timestamp_writes: None });
            for d in &self.dispatches {
                pass.set_pipeline(&d.pipeline);
                pass.set_bind_group(0, &d.bind_group, &[]);
                pass.dispatch_workgroups(d.groups.0, d.groups.1, 1);
            }
        }
        let mut sizes = Vec::with_capacity(m.outputs.len());
        for (&(o, len, dtype), rb) in m.outputs.iter().zip(&self.readback) {
            let bytes = len as u64 * 4 * words(dtype);
            if bytes > 0 {
                encoder.copy_buffer_to_buffer(self.tensors[o].as_ref().unwrap(), 0, rb, 0, bytes);
            }
            sizes.push(bytes);
        }
        encoder.copy_buffer_to_buffer(&self.status, 0, &self.status_readback, 0, self.status_readback.size());
        queue.submit([encoder.finish()]);

        // map everything, wait once
        let (tx, rx) = mpsc::channel();
        let mut pending = 0;
        for (rb, &bytes) in self.readback.iter().zip(&sizes) {
            if bytes > 0 {
                let tx = tx.clone();
                rb.slice(..bytes).map_async(wgpu::MapMode::Read, move |r| drop(tx.send(r)));
                pending += 1;
            }
        }
        {
            let tx = tx.clone();
            self.status_readback.slice(..).map_async(wgpu::MapMode::Read, move |r| drop(tx.send(r)));
            pending += 1;
        }
        device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| GpuError::Device(format!("waiting for the GPU: {e}")))?;
        for _ in 0..pending {
            rx.recv()
                .map_err(|e| GpuError::Device(format!("buffer mapping: {e}")))?
                .map_err(|e| GpuError::Device(format!("buffer mapping: {e}")))?;
        }
        if let Some(e) = pollster::block_on(scope.pop()) {
            for rb in self.readback.iter().chain([&self.status_readback]) {
                rb.unmap();
            }
            return Err(GpuError::Device(format!("running model `{}`: {e}", m.name)));
        }
        let status: Vec<u32> =
            bytemuck::cast_slice(&self.status_readback.slice(..).get_mapped_range().map_err(|e| GpuError::Device(e.to_string()))?).to_vec();
        self.status_readback.unmap();
        let mut outputs = Vec::with_capacity(m.outputs.len());
        for ((&(_, _, dtype), rb), &bytes) in m.outputs.iter().zip(&self.readback).zip(&sizes) {
            let words: Vec<u32> = if bytes > 0 {
                let w = bytemuck::cast_slice(&rb.slice(..bytes).get_mapped_range().map_err(|e| GpuError::Device(e.to_string()))?).to_vec();
                rb.unmap();
                w
            } else {
                vec![]
            };
            outputs.push(match dtype {
                DType::I8 => Value::I8(words.iter().map(|&w| w as i32 as i8).collect()),
                DType::I16 => Value::I16(words.iter().map(|&w| w as i32 as i16).collect()),
                DType::I32 => Value::I32(words.iter().map(|&w| w as i32).collect()),
                DType::I64 => Value::I64(words.chunks_exact(2).map(|p| (p[0] as u64 | (p[1] as u64) << 32) as i64).collect()),
            });
        }
        // the first failing node, as the CPU stops there
        for (slot, (node, kind)) in self.fallible.iter().enumerate() {
            let elem = status[4 * slot];
            if elem != u32::MAX {
                let value = (status[4 * slot + 1] as u64 | (status[4 * slot + 2] as u64) << 32) as i64;
                let node = m.node_names[*node].clone();
                return Err(match *kind {
                    FailKind::Index { len } => ExecError::IndexOutOfRange { node, index: value, len },
                    FailKind::Overflow if status[4 * slot + 3] == 1 => ExecError::DivisionByZero { node, value },
                    FailKind::Overflow => ExecError::Overflow { node, value },
                }
                .into());
            }
        }
        Ok(outputs)
    }
}

pub(crate) fn i8_words(v: &[i8]) -> Vec<u32> {
    v.iter().map(|&x| x as i32 as u32).collect()
}

pub(crate) fn i64_words(v: &[i64]) -> Vec<u32> {
    v.iter().flat_map(|&x| [x as u64 as u32, (x as u64 >> 32) as u32]).collect()
}
