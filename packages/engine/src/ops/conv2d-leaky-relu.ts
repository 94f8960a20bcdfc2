/**
 * y = LeakyReLU(conv2d(x, filter) + bias) as one op with its own gradient, on every backend. tfjs has no
 * gradient for a fused conv with leakyrelu (tf.fused.conv2d even unfuses it inside tf.grad), so a model wrote
 * conv + bias, then tf.leakyRelu: two forward kernels and the pre-activation kept for the backward pass.
 * Here the forward is one FusedConv2D kernel (bias and activation in its epilogue) and the backward uses the
 * saved output y: dy' = dy * (y > 0 ? 1 : alpha), valid for alpha >= 0 (then y > 0 exactly where the
 * pre-activation is > 0; a negative alpha flips the sign and is refused), dx = conv2dBackpropInput(dy'),
 * dW = conv2dBackpropFilter(x, dy'), db = sum(dy'). Off webgpu dy' is formed with the same tf ops as
 * tf.leakyRelu's gradient, so cpu/wasm give the numbers of conv + bias then tf.leakyRelu, bit for bit.
 *
 * Modes (flag convActFusion), for the webgpu backend with our kernels (elsewhere every mode but 'off' is 'forward'):
 *   off       the reference: conv + bias, then tf.leakyRelu (the model as it was before this fusion)
 *   forward   this op; dy' from tf ops (Greater, Multiply, Select), then the conv gradient kernels and tf.sum
 *   grad      dy' in one elementwise pass of ours, then the conv gradient kernels and tf.sum
 *   prologue  (default) no dy' at all: the derivative is applied as the input, filter and bias gradient
 *             kernels load dy (fewest dispatches and bytes; every tile that reads a dy value also reads its y:
 *             the GEMMs took the same time as on dy' on lavapipe, bench/engine/webgpu-conv-act.ts; to be
 *             measured on a GPU, where 'grad' is the fallback if the extra loads cost more than the pass)
 *
 * The fused form is one kernel for every backend ('*', registered here: it is made of kernels every backend
 * has); webgpu/register.ts registers the four gradient kernels of the grad and prologue modes.
 * test/conv2d-leaky-relu.test.ts checks it against the reference on every engine that initialises.
 */
import { tf } from '../tf.js';
import { flags, type ConvActFusion } from '../flags.js';
import { defineOp } from './registry.js';

/** Kernels of the grad and prologue modes that tfjs does not have (registered on webgpu by webgpu/register.ts). */
export const LEAKY_CONV_GRAD_KERNELS = {
  input: 'FacecombLeakyConv2DBackpropInput',
  filter: 'FacecombLeakyConv2DBackpropFilter',
  bias: 'FacecombLeakyConv2DBiasGrad',
  activation: 'FacecombLeakyReluGradFromOutput',
} as const;

/** The current mode (flag convActFusion). */
export function convActFusion(): ConvActFusion {
  return flags.convActFusion;
}

export interface ConvLeakyOptions {
  pad: 'same' | 'valid';
  /** The LeakyReLU slope for negative inputs (>= 0 for the fused form; a negative one runs the reference). */
  alpha: number;
  strides?: number;
  /** false when x is data (an input image): its gradient is then neither computed nor returned. */
  inputGrad?: boolean;
}

type T4 = tf.Tensor4D;
/** dx (null when not wanted), dW, db. */
type Grads = [tf.Tensor | null, tf.Tensor, tf.Tensor];

/** The reference: tf.fused.conv2d (conv + bias), then tf.leakyRelu. */
export function conv2dLeakyReluReference(x: T4, filter: T4, bias: tf.Tensor1D, o: ConvLeakyOptions): T4 {
  return tf.leakyRelu(tf.fused.conv2d({ x, filter, bias, strides: o.strides ?? 1, pad: o.pad }), o.alpha);
}

/** The fused form, or null (the reference runs) when the mode is 'off' or alpha < 0. */
function fusedConv2dLeakyRelu(x: T4, filter: T4, bias: tf.Tensor1D, o: ConvLeakyOptions): T4 | null {
  const mode = flags.convActFusion;
  if (mode === 'off' || !(o.alpha >= 0)) return null;
  const strides = o.strides ?? 1;
  const attrs = { strides, pad: o.pad, dataFormat: 'NHWC', dilations: 1, activation: 'leakyrelu', leakyreluAlpha: o.alpha };
  const wantDx = o.inputGrad !== false;
  const run = (name: string, inputs: tf.NamedTensorMap, extra: Record<string, unknown> = {}) =>
    tf.engine().runKernel(name, inputs, { ...attrs, ...extra } as unknown as tf.NamedAttrMap) as tf.Tensor;
  const grads = (xs: T4, ws: T4, ys: T4, dy: T4): Grads => {
    const ours = tf.getBackend() === 'webgpu' && flags.webgpuKernels && [xs, ws, ys, dy].every((t) => t.dtype === 'float32');
    if (ours && mode === 'prologue') return prologueGrads(run, wantDx, xs, ws, ys, dy);
    const d = ours && mode === 'grad' ? run(LEAKY_CONV_GRAD_KERNELS.activation, { dy, y: ys }) : tf.where(tf.greater(ys, 0), dy, tf.mul(dy, o.alpha));
    return convGrads(wantDx, { strides, pad: o.pad }, xs, ws, d);
  };
  const fn = tf.customGrad(((...args: unknown[]) => {
    const save = args.pop() as (ts: tf.Tensor[]) => void;
    const [xi, wi, bi] = (wantDx ? args : [x, ...args]) as [T4, T4, tf.Tensor1D];
    const y = run('FusedConv2D', { x: xi, filter: wi, bias: bi }) as T4;
    save([xi, wi, y]);
    const gradFunc = (dy: T4, saved: tf.Tensor[]) => {
      const [dx, dw, db] = grads(...(saved as [T4, T4, T4]), dy);
      return wantDx ? [dx!, dw, db] : [dw, db];
    };
    return { value: y, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (wantDx ? fn(x, filter, bias) : fn(filter, bias)) as T4;
}

type RunKernel = (name: string, inputs: tf.NamedTensorMap, extra?: Record<string, unknown>) => tf.Tensor;

/** dx, dW, db from our webgpu kernels with the derivative fused into their loads of dy. */
function prologueGrads(run: RunKernel, wantDx: boolean, xs: T4, ws: T4, ys: T4, dy: T4): Grads {
  return [
    wantDx ? run(LEAKY_CONV_GRAD_KERNELS.input, { dy, y: ys, filter: ws }, { inputShape: xs.shape }) : null,
    run(LEAKY_CONV_GRAD_KERNELS.filter, { x: xs, dy, y: ys }, { filterShape: ws.shape }),
    run(LEAKY_CONV_GRAD_KERNELS.bias, { dy, y: ys }),
  ];
}

/** The kernels tf.fused.conv2d's gradient runs on dy' = d (bit-identical to the reference). */
function convGrads(wantDx: boolean, c: { strides: number; pad: 'same' | 'valid' }, xs: T4, ws: T4, d: tf.Tensor): Grads {
  const common = { ...c, dataFormat: 'NHWC' } as const;
  const dx = wantDx
    ? tf.engine().runKernel('Conv2DBackpropInput', { dy: d, filter: ws }, { ...common, inputShape: xs.shape } as unknown as tf.NamedAttrMap) as tf.Tensor
    : null;
  const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x: xs, dy: d }, { ...common, filterShape: ws.shape } as unknown as tf.NamedAttrMap) as tf.Tensor;
  return [dx, dw, tf.reshape(tf.sum(d, [0, 1, 2]), [ws.shape[3]])];
}

export const conv2dLeakyReluOp = defineOp('FacecombConv2DLeakyRelu', conv2dLeakyReluReference);
conv2dLeakyReluOp.register('*', fusedConv2dLeakyRelu);

/** LeakyReLU(conv2d(x, filter) + bias) (NHWC, dilation 1) as one op with its own gradient. */
export function conv2dLeakyRelu(x: T4, filter: T4, bias: tf.Tensor1D, o: ConvLeakyOptions): T4 {
  return conv2dLeakyReluOp.run(x, filter, bias, o);
}
