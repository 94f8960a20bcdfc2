/**
 * conv2d forward, input gradient and filter gradient (NHWC, float32) on the webgpu backend as implicit GEMMs
 * of gemm.ts (no im2col buffer; the loaders index the tensors directly):
 *   forward  C[B*OH*OW, Co]     = A[m=(b,oh,ow), k=(kh,kw,ci)] = x[b, oh*sh+kh*dh-pt, ow*sw+kw*dw-pl, ci]
 *                                  x B[k, n=co] = W[kh,kw,ci,co]            (+ bias, activation fused)
 *   dx       C[B*H*W, Ci]       = A[m=(b,h,w), k=(kh,kw,co)] = dy[b, (h+pt-kh)/sh, (w+pl-kw)/sw, co] (when whole)
 *                                  x B[k, n=ci] = W[kh,kw,ci,co]
 *   dW       C[KH*KW*Ci, Co]    = A[m=(kh,kw,ci), k=(b,oh,ow)] = x[b, oh*sh+kh-pt, ow*sw+kw-pl, ci]
 *                                  x B[k, n=co] = dy[b,oh,ow,co]            (split-K over b*oh*ow)
 * One generator for the family (the specs and the GEMM runner); the kernels are conv2d.ts, conv2d-backprop-input.ts,
 * conv2d-backprop-filter.ts and leaky-conv-grads.ts. Anything else (NCHW, other dtypes, prelu) goes to tfjs's own kernel.
 */
import { tf } from '../tf.js';
import { trySubgroupMatrixGemm } from './subgroup-matrix-run.js';
import { chooseTiling, epilogueKey, f, gemmSource, reduceSource, type Epilogue, type GemmSpec } from './gemm.js';
import { flags } from '../flags.js';
import { tfjsProgram as program } from './program.js';
import type { WebgpuInternals } from './tfjs-internals.js';

export { elementwiseProgram } from './program.js';

type TensorInfo = tf.TensorInfo;
type Attrs = Record<string, unknown>;

/** The backend as our kernels see it (its internals: tfjs-internals.ts). */
export type WebgpuBackend = WebgpuInternals;

/** Runs a GEMM (split-K plus reduction when the tiling asks for it); the result has `outShape`. */
export function runGemm(backend: WebgpuBackend, spec: GemmSpec, inputs: { names: string[]; infos: TensorInfo[] },
  outShape: number[], epi: Epilogue, splitK: boolean): TensorInfo {
  const smx = trySubgroupMatrixGemm(backend, spec, inputs, outShape, epi, splitK); // tensor cores, when on
  if (smx) return smx;
  const t = chooseTiling(spec.M, spec.N, spec.K, splitK, flags.webgpuPrecision);
  const key = `${spec.key}_${t.BM}x${t.BN}x${t.BK}_${t.TM}_s${t.S}${t.precision === 'f16' ? '_h' : ''}`;
  const dispatch: [number, number, number] = [t.DX, Math.ceil(t.tiles / t.DX), t.S];
  const wg: [number, number, number] = [t.TX * t.TY, 1, 1];
  const biasInput = epi.bias ? 1 : 0;
  const gemmNames = inputs.names.slice(0, inputs.names.length - biasInput);
  const gemmInfos = inputs.infos.slice(0, inputs.infos.length - biasInput);
  if (t.S === 1) {
    const p = program(`${key}_${epilogueKey(epi)}`, inputs.names, outShape, dispatch, wg, () => gemmSource(spec, t, epi));
    return backend.runWebGPUProgram(p, inputs.infos, 'float32');
  }
  const p = program(`${key}_partial`, gemmNames, [t.S, spec.M * spec.N], dispatch, wg, () => gemmSource(spec, t, null));
  return reducePartials(backend, spec, t.S, backend.runWebGPUProgram(p, gemmInfos, 'float32'), inputs.infos.slice(inputs.infos.length - biasInput), outShape, epi);
}

/** Split-K's second pass: out = epilogue(sum of the S partial slices [S, M*N]); disposes `partial`. */
export function reducePartials(backend: WebgpuBackend, spec: GemmSpec, S: number, partial: TensorInfo, bias: TensorInfo[],
  outShape: number[], epi: Epilogue): TensorInfo {
  try {
    const n = spec.M * spec.N;
    const r = program(`reduce_${n}_${spec.N}_${S}_${epilogueKey(epi)}`, ['partial', ...(epi.bias ? ['bias'] : [])], outShape,
      [Math.ceil(n / 256), 1, 1], [256, 1, 1], () => reduceSource(spec.M, spec.N, S, epi), true);
    return backend.runWebGPUProgram(r, [partial, ...bias], 'float32');
  } finally {
    backend.disposeData(partial.dataId);
  }
}

interface Geometry {
  B: number; H: number; W: number; Ci: number; OH: number; OW: number; Co: number;
  KH: number; KW: number; sh: number; sw: number; dh: number; dw: number; pt: number; pl: number;
}

export function geometry(xShape: number[], filterShape: number[], attrs: Attrs, depthwise = false): Geometry {
  const { strides, pad, dilations, dimRoundingMode } = attrs as {
    strides: number | [number, number]; pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
    dilations?: number | [number, number]; dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const c = tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number],
    filterShape as [number, number, number, number], strides, dilations ?? 1, pad, dimRoundingMode, depthwise, 'channelsLast');
  return {
    B: c.batchSize, H: c.inHeight, W: c.inWidth, Ci: c.inChannels, OH: c.outHeight, OW: c.outWidth, Co: c.outChannels,
    KH: c.filterHeight, KW: c.filterWidth, sh: c.strideHeight, sw: c.strideWidth, dh: c.dilationHeight, dw: c.dilationWidth,
    pt: c.padInfo.top, pl: c.padInfo.left,
  };
}

function gkey(g: Geometry): string {
  return [g.B, g.H, g.W, g.Ci, g.OH, g.OW, g.Co, g.KH, g.KW, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl].join('_');
}

/** WGSL of four neighbouring values of a flat f32 array (or of a reader function `name(i)`) as a vec4. */
function vec4(name: string, index: string, call = false): string {
  const at = (o: string) => (call ? `${name}(${index}${o})` : `${name}[${index}${o}]`);
  return `vec4<f32>(${at('')}, ${at(' + 1')}, ${at(' + 2')}, ${at(' + 3')})`;
}

/**
 * WGSL of `fn dyAt(i: i32) -> f32`, how the gradient kernels read the output gradient dy: as stored, or
 * (`leak` given: the prologue of a conv fused with bias + LeakyReLU) multiplied on load by the activation's
 * derivative, taken from the saved output `yv`: 1 where y > 0, else leak (the same as at the pre-activation
 * for leak >= 0, since y = leak * z <= 0 exactly where z <= 0).
 */
export function dyReader(leak?: number): string {
  return leak === undefined ? 'fn dyAt(i: i32) -> f32 { return dy[i]; }'
    : `fn dyAt(i: i32) -> f32 { let d = dy[i]; return select(d * ${f(leak)}, d, yv[i] > 0.0); }`;
}

export const leakKey = (leak?: number) => (leak === undefined ? '' : `_leak${leak}`);

/**
 * loadA and its vec4 form loadA4 (four neighbouring k, when `vec4` allows) from one body: `prefix(zero)` decodes
 * the indices and returns `zero` where the element lies in the padding; `index` is the flat offset into `from`
 * (a buffer, or with `call` a reader function).
 */
function loadersA(prefix: (zero: string) => string, from: string, index: string, vec4ok: boolean, call = false): Pick<GemmSpec, 'loadA' | 'loadA4'> {
  return {
    loadA: `${prefix('0.0')}
      return ${call ? `${from}(${index})` : `${from}[${index}]`};`,
    loadA4: vec4ok ? `${prefix('vec4<f32>(0.0)')}
      return ${vec4(from, index, call)};` : undefined,
  };
}

export function forwardSpec(g: Geometry): GemmSpec {
  return {
    key: `convfwd_${gkey(g)}`,
    M: g.B * g.OH * g.OW, N: g.Co, K: g.KH * g.KW * g.Ci,
    ...loadersA((zero) => `let b = m / ${g.OH * g.OW}; let r = m % ${g.OH * g.OW}; let oh = r / ${g.OW}; let ow = r % ${g.OW};
      let kh = k / ${g.KW * g.Ci}; let r2 = k % ${g.KW * g.Ci}; let kw = r2 / ${g.Ci}; let ci = r2 % ${g.Ci};
      let ih = oh * ${g.sh} + kh * ${g.dh} - ${g.pt}; let iw = ow * ${g.sw} + kw * ${g.dw} - ${g.pl};
      if (ih < 0 || ih >= ${g.H} || iw < 0 || iw >= ${g.W}) { return ${zero}; }`,
    'x', `((b * ${g.H} + ih) * ${g.W} + iw) * ${g.Ci} + ci`, g.Ci % 4 === 0),
    loadB: `return wt[k * ${g.Co} + n];`,
    aAlongK: true,
    bAlongK: false,
  };
}

export function inputGradSpec(g: Geometry, leak?: number): GemmSpec {
  return {
    key: `convdx_${gkey(g)}${leakKey(leak)}`,
    prelude: dyReader(leak),
    M: g.B * g.H * g.W, N: g.Ci, K: g.KH * g.KW * g.Co,
    ...loadersA((zero) => `let b = m / ${g.H * g.W}; let r = m % ${g.H * g.W}; let h = r / ${g.W}; let w = r % ${g.W};
      let kh = k / ${g.KW * g.Co}; let r2 = k % ${g.KW * g.Co}; let kw = r2 / ${g.Co}; let co = r2 % ${g.Co};
      let th = h + ${g.pt} - kh; let tw = w + ${g.pl} - kw;
      if (th < 0 || tw < 0 || th % ${g.sh} != 0 || tw % ${g.sw} != 0) { return ${zero}; }
      let oh = th / ${g.sh}; let ow = tw / ${g.sw};
      if (oh >= ${g.OH} || ow >= ${g.OW}) { return ${zero}; }`,
    'dyAt', `((b * ${g.OH} + oh) * ${g.OW} + ow) * ${g.Co} + co`, g.Co % 4 === 0, true),
    loadB: `let t = k / ${g.Co}; let co = k % ${g.Co};
      return wt[(t * ${g.Ci} + n) * ${g.Co} + co];`,
    aAlongK: true,
    bAlongK: true,
  };
}

export function filterGradSpec(g: Geometry, leak?: number): GemmSpec {
  return {
    key: `convdw_${gkey(g)}${leakKey(leak)}`,
    prelude: dyReader(leak),
    M: g.KH * g.KW * g.Ci, N: g.Co, K: g.B * g.OH * g.OW,
    loadA: `let kh = m / ${g.KW * g.Ci}; let r = m % ${g.KW * g.Ci}; let kw = r / ${g.Ci}; let ci = r % ${g.Ci};
      let b = k / ${g.OH * g.OW}; let r2 = k % ${g.OH * g.OW}; let oh = r2 / ${g.OW}; let ow = r2 % ${g.OW};
      let ih = oh * ${g.sh} + kh - ${g.pt}; let iw = ow * ${g.sw} + kw - ${g.pl};
      if (ih < 0 || ih >= ${g.H} || iw < 0 || iw >= ${g.W}) { return 0.0; }
      return x[((b * ${g.H} + ih) * ${g.W} + iw) * ${g.Ci} + ci];`,
    loadB: `return dyAt(k * ${g.Co} + n);`,
    aAlongK: false, // no vec4 loads here: measured slower on lavapipe for the filter gradient
    bAlongK: false,
  };
}

export const LINEAR: Epilogue = { bias: false, activation: 'linear', leakyreluAlpha: 0 };
export const ACTIVATIONS: readonly string[] = ['linear', 'relu', 'relu6', 'leakyrelu', 'elu', 'sigmoid'];

/** Whether our kernels cover these inputs (float32; tfjs's own run the rest). */
export function ours(...infos: (TensorInfo | undefined | null)[]): boolean {
  return infos.every((t) => !t || t.dtype === 'float32');
}

export type KernelArgs = { inputs: Record<string, TensorInfo>; attrs?: Attrs; backend: WebgpuBackend };
export type Fallback = (args: KernelArgs) => TensorInfo;

/** db[n] = sum over the rows (b, oh, ow) of dyAt: a one-row GEMM against ones (split-K over the rows). */
export function biasGradSpec(rows: number, Co: number, leak?: number): GemmSpec {
  return {
    key: `convdb_${rows}_${Co}${leakKey(leak)}`,
    M: 1, N: Co, K: rows,
    prelude: dyReader(leak),
    loadA: 'return 1.0;',
    loadB: `return dyAt(k * ${Co} + n);`,
    aAlongK: false,
    bAlongK: false,
  };
}
