/**
 * Fused Adam on the webgpu backend: one dispatch per variable updates w, m and v in place (torch.optim.Adam:
 * bias-corrected, eps outside the square root), where tf ops take about a dozen dispatches and three new
 * buffers. The dispatch is recorded into tfjs's open compute pass, in order with the ops that produced the
 * gradient, so no synchronisation is needed; the buffers are marked as owned by the command queue so that
 * tfjs defers their release until the submit, as for its own programs.
 */
import { tf } from '../tf.js';

const WGSL = /* wgsl */ `
struct Params { lr: f32, beta1: f32, beta2: f32, eps: f32, bc1: f32, sqrtBc2: f32, n: u32, pad: u32 };
@group(0) @binding(0) var<storage, read_write> w: array<f32>;
@group(0) @binding(1) var<storage, read_write> m: array<f32>;
@group(0) @binding(2) var<storage, read_write> v: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.y * nw.x * 256u + gid.x;
  if (i >= p.n) { return; }
  let gi = g[i];
  let mi = p.beta1 * m[i] + (1.0 - p.beta1) * gi;
  let vi = p.beta2 * v[i] + (1.0 - p.beta2) * gi * gi;
  m[i] = mi;
  v[i] = vi;
  w[i] = w[i] - (p.lr / p.bc1) * (mi / (sqrt(vi) / p.sqrtBc2 + p.eps));
}
`;

interface Internals {
  device: GPUDevice;
  tensorMap: { get(id: object): { resource: GPUBuffer | null; values: unknown } };
  uploadToGPU(id: object): void;
  ensureCommandEncoderReady(): void;
  commandEncoder: GPUCommandEncoder;
  computePassEncoder: GPUComputePassEncoder | null;
  dispatchCountInPass: number;
  commandQueueOwnedIds: WeakSet<object>;
  uniformPendingDisposal: GPUBuffer[];
  bufferManager: { acquireBuffer(size: number, usage: number): GPUBuffer };
  endComputePassEncoder(): void;
  submitQueue(): void;
  activeTimers?: unknown;
}

const pipelines = new WeakMap<GPUDevice, GPUComputePipeline>();
let enabled = true;
let dispatched = 0;

/** Dispatches recorded by webgpuAdamStep so far (they bypass tfjs's runWebGPUProgram; for profiles). */
export function webgpuAdamDispatches(): number {
  return dispatched;
}

/** Turns the fused Adam off (callers fall back to tf ops), for before/after benchmarks; see useWebgpuKernels. */
export function setWebgpuAdam(on: boolean): void {
  enabled = on;
}

export interface AdamHyper { lr: number; beta1: number; beta2: number; epsilon: number }

/**
 * w, m, v (variables) <- one Adam step with gradient g at step t (1-based). Returns false (nothing done)
 * when the active backend is not webgpu or a tensor is not float32 of the same size: the caller then runs
 * its tf-ops Adam.
 */
export function webgpuAdamStep(w: tf.Variable, m: tf.Variable, v: tf.Variable, g: tf.Tensor, t: number, h: AdamHyper): boolean {
  if (!enabled || tf.getBackend() !== 'webgpu') return false;
  if ([w, m, v, g].some((x) => x.dtype !== 'float32' || x.size !== w.size)) return false;
  const be = tf.backend() as unknown as Internals;
  let pipeline = pipelines.get(be.device);
  if (!pipeline) {
    pipeline = be.device.createComputePipeline({ layout: 'auto', compute: { module: be.device.createShaderModule({ code: WGSL }), entryPoint: 'main' } });
    pipelines.set(be.device, pipeline);
  }
  const ids = [w, m, v, g].map((x) => x.dataId);
  for (const id of ids) be.uploadToGPU(id);
  // a read (data()) caches the values on the CPU and later reads return that copy: w, m and v are written in
  // place on the GPU, so their copies go stale (a checkpoint after the first would save old weights)
  for (const id of ids.slice(0, 3)) be.tensorMap.get(id).values = null;
  const params = new ArrayBuffer(32);
  new Float32Array(params, 0, 6).set([h.lr, h.beta1, h.beta2, h.epsilon, 1 - h.beta1 ** t, Math.sqrt(1 - h.beta2 ** t)]);
  new Uint32Array(params, 24, 2).set([w.size, 0]);
  const uniform = be.bufferManager.acquireBuffer(32, GPUBufferUsage.COPY_DST | GPUBufferUsage.UNIFORM);
  be.device.queue.writeBuffer(uniform, 0, params);
  be.uniformPendingDisposal.push(uniform);
  const bindGroup = be.device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [...ids.map((id, i) => ({ binding: i, resource: { buffer: be.tensorMap.get(id).resource! } })), { binding: 4, resource: { buffer: uniform } }],
  });
  for (const id of ids) be.commandQueueOwnedIds.add(id);
  be.ensureCommandEncoderReady();
  if (!be.computePassEncoder) be.computePassEncoder = be.commandEncoder.beginComputePass({});
  const groups = Math.ceil(w.size / 256);
  const x = Math.min(groups, 65535);
  be.computePassEncoder.setPipeline(pipeline);
  be.computePassEncoder.setBindGroup(0, bindGroup);
  be.computePassEncoder.dispatchWorkgroups(x, Math.ceil(groups / x), 1);
  be.dispatchCountInPass++;
  dispatched++;
  if (be.dispatchCountInPass >= tf.env().getNumber('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE')) {
    be.endComputePassEncoder();
    be.submitQueue();
  }
  return true;
}
