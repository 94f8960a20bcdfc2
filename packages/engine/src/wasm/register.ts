/**
 * The wasm backend's register file: the kernels tfjs-backend-wasm 4.22 lacks, or has slow or wrong, for a
 * conv-net training step (called by initEngine). A new wasm kernel is one file in this folder and one line here.
 */
import { tf } from '../tf.js';
import { replaceKernel } from '../kernel-calls.js';
import { wasmConv2dBackpropFilter } from './conv2d-backprop-filter.js';
import { wasmConv2dBackpropInput } from './conv2d-backprop-input.js';
import { wasmNearestGrad } from './resize-nearest-grad.js';
import { CPU_DELEGATED, delegateToCpu } from './cpu-delegate.js';

/**
 * Registers the missing training kernels on the wasm backend (once; kernels wasm already has are left alone).
 * Returns the names registered by this call or an earlier one.
 */
export function registerWasmTrainingKernels(): string[] {
  const names: string[] = [];
  // Missing on wasm.
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm') || (tf.getKernel('Conv2DBackpropFilter', 'wasm') as { facecomb?: boolean }).facecomb) {
    replaceKernel('Conv2DBackpropFilter', 'wasm', wasmConv2dBackpropFilter as unknown as tf.KernelFunc);
    names.push('Conv2DBackpropFilter');
  }
  // Present on wasm but 10x slower than the forward conv.
  replaceKernel('Conv2DBackpropInput', 'wasm', wasmConv2dBackpropInput as unknown as tf.KernelFunc);
  names.push('Conv2DBackpropInput');
  // Right except with halfPixelCenters at non-integer scales.
  const nearest = tf.getKernel('ResizeNearestNeighborGrad', 'wasm') as { facecomb?: boolean; kernelFunc: tf.KernelFunc } | undefined;
  if (nearest && !nearest.facecomb) replaceKernel('ResizeNearestNeighborGrad', 'wasm', wasmNearestGrad(nearest.kernelFunc) as unknown as tf.KernelFunc);
  if (nearest) names.push('ResizeNearestNeighborGrad');
  // Missing (off our models' training path) or wrong (MaxPoolGrad): the cpu backend's kernel with a copy.
  for (const name of CPU_DELEGATED) {
    const existing = tf.getKernel(name, 'wasm') as { facecomb?: boolean } | undefined;
    if (existing && !existing.facecomb && name !== 'MaxPoolGrad') continue; // wasm has a kernel of its own
    replaceKernel(name, 'wasm', delegateToCpu(name) as unknown as tf.KernelFunc);
    names.push(name);
  }
  return names;
}

