/**
 * Records a WGSL compute dispatch of our own (not a tfjs program) that reads and writes tfjs tensors' GPU
 * buffers in place: into tfjs's open compute pass, in order with the ops that produced its inputs, so no
 * synchronisation is needed; the buffers are marked as owned by the command queue so that tfjs defers their
 * release until the submit, as for its own programs. Used by the fused Adam, the loss scaler and the
 * subgroup-matrix GEMMs (whose WGSL needs `enable` directives that tfjs's program wrapper cannot emit).
 */
import { tf } from '../tf.js';
import { webgpuInternals } from './tfjs-internals.js';

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();
let count = 0;

/** Dispatches recorded by dispatchInPlace so far (fused Adam, loss scaling: they bypass runWebGPUProgram; for profiles). */
export function webgpuOwnDispatches(): number {
  return count;
}

/** One dispatch of ours: see recordDispatch. */
export interface OwnDispatch {
  /** Names the code: one pipeline per key and device (the code is generated only on a miss). */
  key: string;
  code: string | (() => string);
  /** Data ids bound at 0, 1, ... (the first `written` are written in place: their CPU copies are dropped). */
  ids: object[];
  written: number;
  /** A uniform bound after the ids. */
  params?: ArrayBuffer | null;
  groups: [number, number, number];
  /** Timed under this name while a tf.profile runs (as tfjs times its programs); untimed when absent. */
  timer?: string;
}

/** Records one dispatch into tfjs's command stream. */
export function recordDispatch(d: OwnDispatch): void {
  const be = webgpuInternals();
  let byKey = pipelines.get(be.device);
  if (!byKey) pipelines.set(be.device, (byKey = new Map()));
  let pipeline = byKey.get(d.key);
  if (!pipeline) {
    const code = typeof d.code === 'function' ? d.code() : d.code;
    pipeline = be.device.createComputePipeline({ layout: 'auto', compute: { module: be.device.createShaderModule({ code }), entryPoint: 'main' } });
    byKey.set(d.key, pipeline);
  }
  for (const id of d.ids) be.uploadToGPU(id);
  // a read (data()) caches the values on the CPU and later reads return that copy: a tensor written in place
  // on the GPU must lose it (a checkpoint after the first would save old weights)
  for (const id of d.ids.slice(0, d.written)) be.tensorMap.get(id).values = null;
  const entries: GPUBindGroupEntry[] = d.ids.map((id, i) => ({ binding: i, resource: { buffer: be.tensorMap.get(id).resource! } }));
  if (d.params) {
    const uniform = be.bufferManager.acquireBuffer(d.params.byteLength, GPUBufferUsage.COPY_DST | GPUBufferUsage.UNIFORM);
    be.device.queue.writeBuffer(uniform, 0, d.params);
    be.uniformPendingDisposal.push(uniform);
    entries.push({ binding: d.ids.length, resource: { buffer: uniform } });
  }
  const bindGroup = be.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  for (const id of d.ids) be.commandQueueOwnedIds.add(id);
  be.ensureCommandEncoderReady();
  const timed = d.timer !== undefined && be.activeTimers != null && be.supportTimestampQuery;
  if (timed) {
    be.endComputePassEncoder();
    be.querySet ??= be.device.createQuerySet({ type: 'timestamp', count: be.querySetCount });
    be.computePassEncoder = be.commandEncoder.beginComputePass({ timestampWrites: { querySet: be.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
  } else if (!be.computePassEncoder) {
    be.computePassEncoder = be.commandEncoder.beginComputePass({});
  }
  be.computePassEncoder!.setPipeline(pipeline);
  be.computePassEncoder!.setBindGroup(0, bindGroup);
  be.computePassEncoder!.dispatchWorkgroups(...d.groups);
  be.dispatchCountInPass++;
  if (timed) {
    be.endComputePassEncoder();
    be.activeTimers!.push({ name: d.timer!, query: be.getQueryTime() });
  } else if (be.dispatchCountInPass >= tf.env().getNumber('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE')) {
    be.endComputePassEncoder();
    be.submitQueue();
  }
}

/**
 * One dispatch of `code` (entry point `main`, workgroup size 256, global id.y * 256 * groups.x + id.x numbering
 * `threads` invocations): binding i = tensors[i] (the first `written` ones are written in place), then the
 * uniform `params` (if any) at binding tensors.length. `key` names the code (one pipeline per key and device).
 */
export function dispatchInPlace(key: string, code: string, tensors: tf.Tensor[], written: number, params: ArrayBuffer | null, threads: number): void {
  const groups = Math.ceil(threads / 256);
  const x = Math.min(groups, 65535);
  recordDispatch({ key, code, ids: tensors.map((t) => t.dataId), written, params, groups: [x, Math.ceil(groups / x), 1] });
  count++;
}

/** WGSL of the flat invocation index used by dispatchInPlace (inside `main`). */
export const FLAT_INDEX = 'let i = gid.y * nw.x * 256u + gid.x;';
export const MAIN = '@compute @workgroup_size(256)\nfn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>)';
