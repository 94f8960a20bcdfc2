/**
 * y = LeakyReLU(conv2d(x, filter) + bias) as one op with its own gradient, on every backend. tfjs has no
 * gradient for a fused conv with leakyrelu (tf.fused.conv2d even unfuses it inside tf.grad), so a model wrote
 * conv + bias, then tf.leakyRelu: two forward kernels and the pre-activation kept for the backward pass.
 * Here the forward is one FusedConv2D kernel (bias and activation in its epilogue) and the backward uses the
 * saved output y: dy' = dy * (y > 0 ? 1 : alpha), valid for alpha >= 0 (then y > 0 exactly where the
 * pre-activation is > 0; a negative alpha flips the sign and is refused), dx = conv2dBackpropInput(dy'),
 * dW = conv2dBackpropFilter(x, dy'), db = sum(dy'). With our webgpu kernels the dy' multiply is fused into the
 * load of dy in all three gradient kernels (no dy' tensor); elsewhere dy' is formed with the same tf ops as
 * tf.leakyRelu's gradient, so cpu/wasm give the numbers of conv + bias then tf.leakyRelu, bit for bit.
 */
import { tf } from './tf.js';
import { leakyConvGrads, type WebgpuBackend } from './webgpu/conv.js';
import { webgpuKernelsOn } from './webgpu/index.js';

/** off: callers compose conv + leakyRelu; forward: this op, backward from tf ops; full: backward fused on webgpu too. */
export type ConvActFusion = 'off' | 'forward' | 'full';
let mode: ConvActFusion = 'full';

/** For before/after benchmarks and checks (default 'full'). */
export function setConvActFusion(m: ConvActFusion): void {
  if (!['off', 'forward', 'full'].includes(m)) throw new Error(`conv + LeakyReLU fusion '${m}': use off, forward or full`);
  mode = m;
}

export function convActFusion(): ConvActFusion {
  return mode;
}

export interface ConvLeakyOptions {
  pad: 'same' | 'valid';
  /** The LeakyReLU slope for negative inputs (>= 0). */
  alpha: number;
  strides?: number;
  /** false when x is data (an input image): its gradient is then neither computed nor returned. */
  inputGrad?: boolean;
}

type T4 = tf.Tensor4D;
/** dx (null when not wanted), dW, db. */
type Grads = [tf.Tensor | null, tf.Tensor, tf.Tensor];

/** LeakyReLU(conv2d(x, filter) + bias) (NHWC, dilation 1), or null when fusion is off or alpha < 0 (compose tf ops then). */
export function conv2dLeakyRelu(x: T4, filter: T4, bias: tf.Tensor1D, o: ConvLeakyOptions): T4 | null {
  if (mode === 'off' || !(o.alpha >= 0)) return null;
  const strides = o.strides ?? 1;
  const attrs = { strides, pad: o.pad, dataFormat: 'NHWC', dilations: 1, activation: 'leakyrelu', leakyreluAlpha: o.alpha };
  const wantDx = o.inputGrad !== false;
  const fn = tf.customGrad(((...args: unknown[]) => {
    const save = args.pop() as (ts: tf.Tensor[]) => void;
    const [xi, wi, bi] = (wantDx ? args : [x, ...args]) as [T4, T4, tf.Tensor1D];
    const y = tf.engine().runKernel('FusedConv2D', { x: xi, filter: wi, bias: bi }, attrs as unknown as tf.NamedAttrMap) as T4;
    save([xi, wi, y]);
    const gradFunc = (dy: T4, saved: tf.Tensor[]) => {
      const [xs, ws, ys] = saved as T4[];
      const [dx, dw, db] = (mode === 'full' ? fusedGrads(xs, ws, ys, dy) : null) ?? composedGrads(xs, ws, ys, dy);
      return wantDx ? [dx!, dw, db] : [dw, db];
    };
    return { value: y, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);

  /** dx, dW, db from our webgpu kernels with dy' fused into their loads; null off webgpu or when not covered. */
  function fusedGrads(xs: T4, ws: T4, ys: T4, dy: T4): Grads | null {
    if (tf.getBackend() !== 'webgpu' || !webgpuKernelsOn()) return null;
    const be = tf.backend() as unknown as WebgpuBackend;
    const r = leakyConvGrads(be, { x: xs, filter: ws, y: ys, dy }, attrs, o.alpha, wantDx);
    if (!r) return null;
    const make = (info: tf.TensorInfo) => tf.engine().makeTensorFromTensorInfo(info);
    return [r[0] && make(r[0]), make(r[1]), make(r[2])];
  }

  /** The same kernels tf.leakyRelu's and tf.fused.conv2d's gradients run (bit-identical to the unfused model). */
  function composedGrads(xs: T4, ws: T4, ys: T4, dy: T4): Grads {
    const d = tf.where(tf.greater(ys, 0), dy, tf.mul(dy, o.alpha));
    const common = { strides, pad: o.pad, dataFormat: 'NHWC' } as const;
    const dx = wantDx
      ? tf.engine().runKernel('Conv2DBackpropInput', { dy: d, filter: ws }, { ...common, inputShape: xs.shape } as unknown as tf.NamedAttrMap) as tf.Tensor
      : null;
    const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x: xs, dy: d }, { ...common, filterShape: ws.shape } as unknown as tf.NamedAttrMap) as tf.Tensor;
    return [dx, dw, tf.reshape(tf.sum(d, [0, 1, 2]), [ws.shape[3]])];
  }

  return (wantDx ? fn(x, filter, bias) : fn(filter, bias)) as T4;
}
