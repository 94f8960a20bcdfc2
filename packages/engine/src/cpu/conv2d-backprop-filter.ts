/**
 * Conv2DBackpropFilter as a convolution ('conv form'), for the cpu backend (tfjs's runs at 0.01 GFLOPS: a 64 px
 * batch-8 3x3 layer took 42 s; this runs at the cpu Conv2D's ~0.7 GFLOPS) and, for filters larger than 1x1, for
 * wasm (wasm/conv2d-backprop-filter.ts): dW is itself a convolution, the input with channels and batch swapped
 * ([Ci,H,W,B]) convolved with the output gradient used as the filter ([OH,OW,B,Co]), the forward stride becoming
 * the dilation; XNNPACK runs it as an indirect GEMM (its im2col is a pointer table, no copy).
 * Checked against float64 loops by test/kernels.test.ts.
 */
import { tf } from '../tf.js';
import { originalKernel, run, Temps, type Attrs, type Backend, type NamedTensors, type TensorInfo } from '../kernel-calls.js';

export interface FilterGradGeometry {
  B: number; H: number; W: number; Ci: number;
  OH: number; OW: number; Co: number;
  KH: number; KW: number; sh: number; sw: number;
  pt: number; pl: number;
  /** Rows/columns of padding needed after the input (negative: trailing input rows never read). */
  pb: number; pr: number;
}

export function geometry(x: TensorInfo, dy: TensorInfo, attrs: Attrs): FilterGradGeometry {
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as {
    strides: number | [number, number]; pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: [number, number, number, number];
  };
  if (dataFormat === 'NCHW') throw new Error("wasm Conv2DBackpropFilter supports dataFormat 'NHWC' only");
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const [B, H, W, Ci] = x.shape;
  const [, OH, OW, Co] = dy.shape;
  if (OH !== info.outHeight || OW !== info.outWidth) {
    throw new Error(`Conv2DBackpropFilter: dy shape ${dy.shape} does not match the output ${info.outHeight}x${info.outWidth}`);
  }
  const KH = info.filterHeight, KW = info.filterWidth, sh = info.strideHeight, sw = info.strideWidth;
  const pt = info.padInfo.top, pl = info.padInfo.left;
  const pb = (OH - 1) * sh + KH - pt - H;
  const pr = (OW - 1) * sw + KW - pl - W;
  return { B, H, W, Ci, OH, OW, Co, KH, KW, sh, sw, pt, pl, pb, pr };
}

/** x cropped to the rows/columns the convolution reads (when the end padding would be negative). */
export function cropInput(x: TensorInfo, g: FilterGradGeometry, backend: Backend, t: Temps): TensorInfo {
  if (g.pb >= 0 && g.pr >= 0) return x;
  const h = g.H + Math.min(0, g.pb), w = g.W + Math.min(0, g.pr);
  return t.keep(run('Slice', { x }, { begin: [0, 0, 0, 0], size: [g.B, h, w, g.Ci] }, backend));
}

/**
 * dW as a convolution of the input (batch as channels) with the output gradient (stride as dilation).
 * Splitting the sum over output rows into cache-sized bands was measured slower at every size (the per-call
 * operator set-up and input slicing outweigh the cache gain), so the whole gradient is one convolution.
 */
export function filterGradConv(x: TensorInfo, dy: TensorInfo, g: FilterGradGeometry, backend: Backend): TensorInfo {
  const t = new Temps(backend);
  try {
    const xc = cropInput(x, g, backend, t);
    const xt = t.keep(run('Transpose', { x: xc }, { perm: [3, 1, 2, 0] }, backend)); // [Ci, H', W', B]
    const f = t.keep(run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }, backend)); // [OH, OW, B, Co]
    const pad = [[0, 0], [g.pt, Math.max(0, g.pb)], [g.pl, Math.max(0, g.pr)], [0, 0]];
    const out = t.keep(run('Conv2D', { x: xt, filter: f }, {
      strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [g.sh, g.sw], dimRoundingMode: undefined,
    }, backend)); // [Ci, KH, KW, Co]
    if (out.shape[1] !== g.KH || out.shape[2] !== g.KW) throw new Error(`internal: filter gradient came out ${out.shape}`);
    return run('Transpose', { x: out }, { perm: [1, 2, 0, 3] }, backend);
  } finally {
    t.free();
  }
}

/** tfjs's own kernel for NCHW (ours cover NHWC), or null. */
export function nchwFallback(name: string, backendName: string, args: { inputs: NamedTensors; attrs?: Attrs; backend: Backend }): TensorInfo | null {
  if ((args.attrs ?? {}).dataFormat !== 'NCHW') return null;
  const original = originalKernel(name, backendName);
  return original ? (original(args as unknown as Parameters<tf.KernelFunc>[0]) as TensorInfo) : null;
}

export function cpuConv2dBackpropFilter(args: { inputs: NamedTensors; attrs?: Attrs; backend: Backend }): TensorInfo {
  const { x, dy } = args.inputs;
  return nchwFallback('Conv2DBackpropFilter', 'cpu', args) ?? filterGradConv(x, dy, geometry(x, dy, args.attrs ?? {}), args.backend);
}
