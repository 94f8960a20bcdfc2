/**
 * The one place that knows tfjs-backend-webgpu's (4.22) private fields. Our kernels record dispatches into its
 * command stream, read its device and tensor map, and run programs through it; every access goes through
 * `webgpuInternals()`. `checkWebgpuInternals()` runs when our kernels are registered: after a tfjs upgrade
 * that renames or removes one of these, the webgpu engine fails to initialise with the field's name (and auto
 * falls back to wasm), instead of a kernel failing somewhere in a training step.
 */
import { tf } from '../tf.js';

/** A tensor's entry in the backend's tensor map. */
export interface TensorData {
  resource: GPUBuffer | null;
  /** Values cached on the CPU by a read (null once written on the GPU). */
  values: unknown;
  dtype: string;
}

/** The fields and methods of WebGPUBackend that this package uses. */
export interface WebgpuInternals {
  device: GPUDevice;
  tensorMap: { get(id: object): TensorData };
  runWebGPUProgram(program: object, inputs: tf.TensorInfo[], dtype: string, uniforms?: unknown[]): tf.TensorInfo;
  makeTensorInfo(shape: number[], dtype: string): tf.TensorInfo;
  disposeData(dataId: object): boolean;
  readSync(dataId: object): unknown;
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
  activeTimers?: { name: string; query: Promise<number> }[] | null;
  supportTimestampQuery: boolean;
  querySet: GPUQuerySet | null;
  querySetCount: number;
  getQueryTime(): Promise<number>;
  /** Compiled pipelines by shader key (tests check which of ours ran). */
  pipelineCache: Record<string, unknown>;
}

/**
 * What each field must be on a freshly initialised backend ('nullable': present, any value; 'optional': set only
 * while a tf.profile runs, so not checked: a rename there would only leave our dispatches untimed).
 */
const EXPECTED: Record<keyof WebgpuInternals, 'function' | 'object' | 'number' | 'boolean' | 'nullable' | 'optional'> = {
  device: 'object', tensorMap: 'object', runWebGPUProgram: 'function', makeTensorInfo: 'function', disposeData: 'function',
  readSync: 'function', uploadToGPU: 'function', ensureCommandEncoderReady: 'function', commandEncoder: 'nullable',
  computePassEncoder: 'nullable', dispatchCountInPass: 'number', commandQueueOwnedIds: 'object', uniformPendingDisposal: 'object',
  bufferManager: 'object', endComputePassEncoder: 'function', submitQueue: 'function', activeTimers: 'optional',
  supportTimestampQuery: 'boolean', querySet: 'nullable', querySetCount: 'number', getQueryTime: 'function', pipelineCache: 'object',
};

/** Every field of `backend` that is missing or of another kind, as a sentence each (empty: all as expected). */
export function internalsMismatches(backend: object): string[] {
  const out: string[] = [];
  const b = backend as Record<string, unknown>;
  const an = (k: string) => (/^[aeiou]/.test(k) ? `an ${k}` : `a ${k}`);
  for (const [name, kind] of Object.entries(EXPECTED)) {
    if (kind === 'optional') continue;
    if (!(name in b)) out.push(`${name} is missing (expected ${kind === 'nullable' ? 'a field' : an(kind)})`);
    else if (kind !== 'nullable' && (typeof b[name] !== kind || b[name] === null)) out.push(`${name} is ${b[name] === null ? 'null' : an(typeof b[name])}, expected ${an(kind)}`);
  }
  if (typeof b.tensorMap === 'object' && b.tensorMap && typeof (b.tensorMap as { get?: unknown }).get !== 'function') out.push('tensorMap.get is not a function');
  if (typeof b.bufferManager === 'object' && b.bufferManager && typeof (b.bufferManager as { acquireBuffer?: unknown }).acquireBuffer !== 'function') {
    out.push('bufferManager.acquireBuffer is not a function');
  }
  return out;
}

/** Throws, naming every changed field, unless the webgpu backend has the internals listed above. */
export function checkWebgpuInternals(backend: object = tf.findBackend('webgpu') as object): void {
  if (!backend) throw new Error('the webgpu backend is not initialised');
  const bad = internalsMismatches(backend);
  if (bad.length) {
    throw new Error(`tfjs-backend-webgpu's internals changed (src/webgpu/tfjs-internals.ts lists what our kernels use): ${bad.join('; ')}`);
  }
}

/** The active webgpu backend's internals (the active backend must be webgpu). */
export function webgpuInternals(): WebgpuInternals {
  return tf.backend() as unknown as WebgpuInternals;
}

/** The webgpu backend's internals whether or not it is active (null when it was never initialised). */
export function webgpuBackendInternals(): WebgpuInternals | null {
  return tf.findBackend('webgpu') as unknown as WebgpuInternals | null;
}
