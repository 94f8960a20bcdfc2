/**
 * The webgpu backend's register file: our WGSL kernels registered over tfjs's own (kept as fallbacks for the
 * cases ours do not cover, and reachable through `webgpuOriginalKernel` for reference checks and benchmarks),
 * the kernels tfjs does not have, and our ops' webgpu kernels. A new webgpu kernel is one file in this folder
 * and one line here.
 */
import { tf } from '../tf.js';
import { flags, setFlag, type Precision } from '../flags.js';
import { LEAKY_CONV_GRAD_KERNELS } from '../ops/conv2d-leaky-relu.js';
import { fadeBlendOp } from '../ops/fade-blend.js';
import { adamOp } from '../ops/adam.js';
import { ssimL1LossOp } from '../ops/ssim-l1-loss.js';
import { webgpuFadeBlend } from './fade-blend.js';
import { webgpuAdamSteps } from './adam.js';
import { webgpuSsimL1Loss } from './ssim-loss.js';
import type { WebgpuBackend } from './conv.js';
import { conv2d, fusedConv2d } from './conv2d.js';
import { conv2dBackpropInput } from './conv2d-backprop-input.js';
import { conv2dBackpropFilter } from './conv2d-backprop-filter.js';
import { leakyConv2dBackpropFilter, leakyConv2dBackpropInput, leakyConv2dBiasGrad, leakyReluGradFromOutput } from './leaky-conv-grads.js';
import { webgpuHasF16 } from './features.js';
import { checkWebgpuInternals } from './tfjs-internals.js';

type Args = { inputs: Record<string, tf.TensorInfo>; attrs?: Record<string, unknown>; backend: WebgpuBackend };
type OurKernel = (args: Args, fallback: (args: Args) => tf.TensorInfo) => tf.TensorInfo;

const KERNELS: Record<string, OurKernel> = {
  Conv2D: conv2d,
  FusedConv2D: fusedConv2d,
  Conv2DBackpropInput: conv2dBackpropInput,
  Conv2DBackpropFilter: conv2dBackpropFilter,
};

/** Kernels tfjs does not have (called by ops/conv2d-leaky-relu.ts when ours are on). */
const NEW_KERNELS: Record<string, (args: Args) => tf.TensorInfo> = {
  [LEAKY_CONV_GRAD_KERNELS.input]: leakyConv2dBackpropInput,
  [LEAKY_CONV_GRAD_KERNELS.filter]: leakyConv2dBackpropFilter,
  [LEAKY_CONV_GRAD_KERNELS.bias]: leakyConv2dBiasGrad,
  [LEAKY_CONV_GRAD_KERNELS.activation]: leakyReluGradFromOutput,
};

const originals = new Map<string, tf.KernelFunc>();

/** tfjs-backend-webgpu's own kernel that ours replaced (for reference checks and benchmarks). */
export function webgpuOriginalKernel(kernelName: string): tf.KernelFunc | undefined {
  return originals.get(kernelName);
}

/**
 * Operand precision of our conv kernels (forward, input and filter gradient): 'f16' needs the webgpu engine on a
 * device with shader-f16 and throws otherwise (the caller decides whether to fall back); 'f32' is the default.
 */
export function setWebgpuPrecision(p: Precision): void {
  if (p === 'f16' && !webgpuHasF16()) {
    throw new Error(tf.getBackend() === 'webgpu' ? 'this WebGPU adapter does not offer shader-f16' : `f16 needs the webgpu engine (active: ${tf.getBackend()})`);
  }
  setFlag('webgpuPrecision', p);
}

/**
 * Registers our kernels on the webgpu backend (idempotent; call after the backend is registered).
 * Returns the kernel names now served by this package.
 */
export function registerWebgpuKernels(): string[] {
  checkWebgpuInternals();
  for (const [name, ours] of Object.entries(KERNELS)) {
    const own = tf.getKernel(name, 'webgpu') as (tf.KernelConfig & { facecomb?: boolean }) | undefined;
    if (!own) throw new Error(`tfjs-backend-webgpu has no ${name} kernel to replace (is the backend imported?)`);
    if (own.facecomb) continue;
    const original = own.kernelFunc;
    originals.set(name, original);
    tf.unregisterKernel(name, 'webgpu');
    const fallback = (args: Args) => original(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    const kernelFunc = (args: Args) => (flags.webgpuKernels ? ours(args, fallback) : fallback(args));
    tf.registerKernel({ kernelName: name, backendName: 'webgpu', kernelFunc, facecomb: true } as unknown as tf.KernelConfig);
  }
  for (const [name, kernelFunc] of Object.entries(NEW_KERNELS)) {
    if (!tf.getKernel(name, 'webgpu')) tf.registerKernel({ kernelName: name, backendName: 'webgpu', kernelFunc } as unknown as tf.KernelConfig);
  }
  fadeBlendOp.register('webgpu', webgpuFadeBlend);
  adamOp.register('webgpu', (items, h, scaler) => webgpuAdamSteps(items, h, scaler) || null);
  ssimL1LossOp.register('webgpu', webgpuSsimL1Loss);
  return [...Object.keys(KERNELS), ...Object.keys(NEW_KERNELS), fadeBlendOp.name, adamOp.name, ssimL1LossOp.name];
}
