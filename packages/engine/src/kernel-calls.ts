/**
 * Running and replacing tfjs kernels from our own kernels (cpu and wasm): a registered kernel of the same
 * backend called directly, intermediates freed together, and tfjs's replaced kernels kept by name.
 */
import { tf } from './tf.js';

export type TensorInfo = tf.TensorInfo;
export type NamedTensors = Record<string, TensorInfo>;
export type Attrs = Record<string, unknown>;
export type Backend = tf.KernelBackend;

/** Name of a backend instance (the kernels below run on wasm and, for the filter gradient, on cpu). */
const backendNames = new WeakMap<Backend, string>();
export function nameOf(backend: Backend): string {
  let n = backendNames.get(backend);
  if (!n) {
    // The engine's registry of initialised backends (findBackend would start initialising missing ones).
    const registry = (tf.engine() as unknown as { registry: Record<string, Backend | undefined> }).registry;
    n = ['wasm', 'cpu'].find((b) => registry[b] === backend);
    if (!n) throw new Error('conv gradient kernel called on an unknown backend');
    backendNames.set(backend, n);
  }
  return n;
}

/** Runs a registered kernel of the same backend directly (no tape, no engine scope). */
export function run(name: string, inputs: NamedTensors, attrs: Attrs, backend: Backend): TensorInfo {
  const b = nameOf(backend);
  const k = tf.getKernel(name, b);
  if (!k) throw new Error(`${b} backend has no ${name} kernel`);
  return k.kernelFunc({ inputs, attrs: attrs as tf.NamedAttrMap, backend }) as TensorInfo;
}

/** Collects intermediates and frees them (wasm disposeData is reference counted). */
export class Temps {
  private list: TensorInfo[] = [];
  constructor(private backend: Backend) {}
  keep(t: TensorInfo): TensorInfo {
    this.list.push(t);
    return t;
  }
  free(): void {
    for (const t of this.list) this.backend.disposeData(t.dataId);
    this.list = [];
  }
}

/** Kernels of tfjs that this module replaced, by "backend/kernel". */
const originals = new Map<string, tf.KernelFunc>();

/** tfjs's own kernel that was replaced here (for reference checks), or undefined. */
export function originalKernel(kernelName: string, backendName: string): tf.KernelFunc | undefined {
  return originals.get(`${backendName}/${kernelName}`);
}

export function replaceKernel(kernelName: string, backendName: string, func: tf.KernelFunc): void {
  const own = tf.getKernel(kernelName, backendName);
  if (own && (own as { facecomb?: boolean }).facecomb) return;
  if (own) {
    originals.set(`${backendName}/${kernelName}`, own.kernelFunc);
    tf.unregisterKernel(kernelName, backendName);
  }
  tf.registerKernel({ kernelName, backendName, kernelFunc: func, facecomb: true } as tf.KernelConfig);
}
