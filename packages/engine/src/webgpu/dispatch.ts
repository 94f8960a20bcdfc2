/**
 * Records a WGSL compute dispatch of our own (not a tfjs program) that reads and writes tfjs tensors' GPU
 * buffers in place: into tfjs's open compute pass, in order with the ops that produced its inputs, so no
 * synchronisation is needed; the buffers are marked as owned by the command queue so that tfjs defers their
 * release until the submit, as for its own programs. Used by the fused Adam and the loss scaler.
 */
import { tf } from '../tf.js';

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
}

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();
let count = 0;

/** Dispatches recorded by dispatchInPlace so far (fused Adam, loss scaling: they bypass runWebGPUProgram; for profiles). */
export function webgpuOwnDispatches(): number {
  return count;
}

/**
 * One dispatch of `code` (entry point `main`, workgroup size 256, global id.y * 256 * groups.x + id.x numbering
 * `threads` invocations): binding i = tensors[i] (the first `written` ones are written in place), then the
 * uniform `params` (if any) at binding tensors.length. `key` names the code (one pipeline per key and device).
 */
export function dispatchInPlace(key: string, code: string, tensors: tf.Tensor[], written: number, params: ArrayBuffer | null, threads: number): void {
  const be = tf.backend() as unknown as Internals;
  let byKey = pipelines.get(be.device);
  if (!byKey) pipelines.set(be.device, (byKey = new Map()));
  let pipeline = byKey.get(key);
  if (!pipeline) {
    pipeline = be.device.createComputePipeline({ layout: 'auto', compute: { module: be.device.createShaderModule({ code }), entryPoint: 'main' } });
    byKey.set(key, pipeline);
  }
  const ids = tensors.map((x) => x.dataId);
  for (const id of ids) be.uploadToGPU(id);
  // a read (data()) caches the values on the CPU and later reads return that copy: a tensor written in place
  // on the GPU must lose it (a checkpoint after the first would save old weights)
  for (const id of ids.slice(0, written)) be.tensorMap.get(id).values = null;
  const entries: GPUBindGroupEntry[] = ids.map((id, i) => ({ binding: i, resource: { buffer: be.tensorMap.get(id).resource! } }));
  if (params) {
    const uniform = be.bufferManager.acquireBuffer(params.byteLength, GPUBufferUsage.COPY_DST | GPUBufferUsage.UNIFORM);
    be.device.queue.writeBuffer(uniform, 0, params);
    be.uniformPendingDisposal.push(uniform);
    entries.push({ binding: ids.length, resource: { buffer: uniform } });
  }
  const bindGroup = be.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  for (const id of ids) be.commandQueueOwnedIds.add(id);
  be.ensureCommandEncoderReady();
  if (!be.computePassEncoder) be.computePassEncoder = be.commandEncoder.beginComputePass({});
  const groups = Math.ceil(threads / 256);
  const x = Math.min(groups, 65535);
  be.computePassEncoder.setPipeline(pipeline);
  be.computePassEncoder.setBindGroup(0, bindGroup);
  be.computePassEncoder.dispatchWorkgroups(x, Math.ceil(groups / x), 1);
  be.dispatchCountInPass++;
  count++;
  if (be.dispatchCountInPass >= tf.env().getNumber('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE')) {
    be.endComputePassEncoder();
    be.submitQueue();
  }
}

/** WGSL of the flat invocation index used by dispatchInPlace (inside `main`). */
export const FLAT_INDEX = 'let i = gid.y * nw.x * 256u + gid.x;';
export const MAIN = '@compute @workgroup_size(256)\nfn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>)';
