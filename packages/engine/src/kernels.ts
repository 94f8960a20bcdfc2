/**
 * Kernels that @tensorflow/tfjs-backend-wasm 4.22 lacks, or has slow or wrong, for a conv-net training step,
 * and a faster Conv2DBackpropFilter for the cpu backend.
 *
 * Conv2DBackpropFilter is built from wasm's own XNNPACK kernels (GEMM-based, no per-element JS loop):
 *   - 'conv' (default for filters larger than 1x1): dW is itself a convolution — the input with channels and batch swapped
 *     ([Ci,H,W,B]) convolved with the output gradient used as the filter ([OH,OW,B,Co]), the forward stride
 *     becoming the dilation. XNNPACK runs it as an indirect GEMM (its im2col is a pointer table, no copy).
 *   - 'gemm' (default for 1x1 filters): explicit im2col — the input, channel-major, is sliced once per filter tap and the KH*KW*Ci x M
 *     matrix is multiplied by the M x Co output gradient in one BatchMatMul (M = B*OH*OW), in batch tiles
 *     so the im2col matrix stays under 64 MB.
 * Conv2DBackpropInput replaces wasm's own kernel (a direct loop, ~3 GFLOPS, 10x slower than its forward conv):
 * the input gradient of a stride-s convolution is split into s*s phases; phase (rh, rw) is a stride-1
 * convolution of the output gradient with the flipped, channel-transposed sub-filter W[rh::s, rw::s]. All
 * phases run as ONE XNNPACK convolution (sub-filters zero-padded to ceil(K/s) taps and stacked along the output
 * channels) and DepthToSpace interleaves them; for 3x3 stride 2 that is 16 taps of work instead of 9, but one
 * large GEMM instead of four thin ones (measured about 1.6x faster for 3x3 stride 2). Cases it does not cover (NCHW, different strides
 * along height and width) go to wasm's original kernel.
 * On the cpu backend, tfjs's Conv2DBackpropFilter runs at 0.01 GFLOPS (a 64 px batch-8 3x3 layer: 42 s);
 * the 'conv' formulation above on the cpu backend's Conv2D runs at its ~0.7 GFLOPS.
 * MaxPoolGrad of tfjs-backend-wasm 4.22 is wrong for negative inputs (it is checked against finite differences
 * by test/fixes.test.ts); it is delegated to the cpu kernel, which is right. Its ResizeNearestNeighborGrad
 * ignores halfPixelCenters; that case goes to a scatter-add in JS (fixes.ts).
 * DepthwiseConv2dNativeBackpropFilter/Input and UnsortedSegmentSum (gather gradients) are not on the
 * training path of our models; they are delegated to the cpu backend's kernels with a data copy each way,
 * so graphs that use them run on wasm, slowly.
 */
import { tf } from './tf.js';
import { wasmNearestGrad } from './fixes.js';
import { flags } from './flags.js';

type TensorInfo = tf.TensorInfo;
type NamedTensors = Record<string, TensorInfo>;
type Attrs = Record<string, unknown>;
type Backend = tf.KernelBackend;


/** Name of a backend instance (the kernels below run on wasm and, for the filter gradient, on cpu). */
const backendNames = new WeakMap<Backend, string>();
function nameOf(backend: Backend): string {
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
function run(name: string, inputs: NamedTensors, attrs: Attrs, backend: Backend): TensorInfo {
  const b = nameOf(backend);
  const k = tf.getKernel(name, b);
  if (!k) throw new Error(`${b} backend has no ${name} kernel`);
  return k.kernelFunc({ inputs, attrs: attrs as tf.NamedAttrMap, backend }) as TensorInfo;
}

/** Collects intermediates and frees them (wasm disposeData is reference counted). */
class Temps {
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

interface FilterGradGeometry {
  B: number; H: number; W: number; Ci: number;
  OH: number; OW: number; Co: number;
  KH: number; KW: number; sh: number; sw: number;
  pt: number; pl: number;
  /** Rows/columns of padding needed after the input (negative: trailing input rows never read). */
  pb: number; pr: number;
}

function geometry(x: TensorInfo, dy: TensorInfo, attrs: Attrs): FilterGradGeometry {
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
function cropInput(x: TensorInfo, g: FilterGradGeometry, backend: Backend, t: Temps): TensorInfo {
  if (g.pb >= 0 && g.pr >= 0) return x;
  const h = g.H + Math.min(0, g.pb), w = g.W + Math.min(0, g.pr);
  return t.keep(run('Slice', { x }, { begin: [0, 0, 0, 0], size: [g.B, h, w, g.Ci] }, backend));
}

/**
 * dW as a convolution of the input (batch as channels) with the output gradient (stride as dilation).
 * Splitting the sum over output rows into cache-sized bands was measured slower at every size (the per-call
 * operator set-up and input slicing outweigh the cache gain), so the whole gradient is one convolution.
 */
function filterGradConv(x: TensorInfo, dy: TensorInfo, g: FilterGradGeometry, backend: Backend): TensorInfo {
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

const IM2COL_BYTES = 64 * 1024 * 1024;

/** dW by explicit im2col (channel-major, one strided slice per tap) and one matrix product per batch tile. */
function filterGradGemm(x: TensorInfo, dy: TensorInfo, g: FilterGradGeometry, backend: Backend): TensorInfo {
  const t = new Temps(backend);
  try {
    const xc = cropInput(x, g, backend, t);
    const xp = g.pt || g.pl || g.pb > 0 || g.pr > 0
      ? t.keep(run('PadV2', { x: xc }, {
        paddings: [[0, 0], [g.pt, Math.max(0, g.pb)], [g.pl, Math.max(0, g.pr)], [0, 0]], constantValue: 0,
      }, backend))
      : xc;
    const xt = t.keep(run('Transpose', { x: xp }, { perm: [3, 0, 1, 2] }, backend)); // [Ci, B, Hp, Wp]
    const [, , Hp, Wp] = xt.shape;
    const perImage = g.KH * g.KW * g.Ci * g.OH * g.OW * 4;
    const tile = Math.max(1, Math.min(g.B, Math.floor(IM2COL_BYTES / perImage)));
    let acc: TensorInfo | null = null;
    for (let b0 = 0; b0 < g.B; b0 += tile) {
      const nb = Math.min(tile, g.B - b0);
      const tt = new Temps(backend);
      try {
        const xb = nb === g.B ? xt : tt.keep(run('Slice', { x: xt }, { begin: [0, b0, 0, 0], size: [g.Ci, nb, Hp, Wp] }, backend));
        const taps: TensorInfo[] = [];
        for (let kh = 0; kh < g.KH; kh++) {
          for (let kw = 0; kw < g.KW; kw++) {
            taps.push(tt.keep(run('StridedSlice', { x: xb }, {
              begin: [0, 0, kh, kw], end: [g.Ci, nb, kh + (g.OH - 1) * g.sh + 1, kw + (g.OW - 1) * g.sw + 1],
              strides: [1, 1, g.sh, g.sw], beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
            }, backend)));
          }
        }
        const col = taps.length === 1 ? taps[0] : tt.keep(run('Concat', taps as unknown as NamedTensors, { axis: 0 }, backend));
        const M = nb * g.OH * g.OW;
        const a = tt.keep(run('Reshape', { x: col }, { shape: [1, g.KH * g.KW * g.Ci, M] }, backend));
        const dyb = nb === g.B ? dy : tt.keep(run('Slice', { x: dy }, { begin: [b0, 0, 0, 0], size: [nb, g.OH, g.OW, g.Co] }, backend));
        const bm = tt.keep(run('Reshape', { x: dyb }, { shape: [1, M, g.Co] }, backend));
        const prod = run('BatchMatMul', { a, b: bm }, { transposeA: false, transposeB: false }, backend);
        if (acc) {
          const sum = run('Add', { a: acc, b: prod }, {}, backend);
          backend.disposeData(acc.dataId);
          backend.disposeData(prod.dataId);
          acc = sum;
        } else {
          acc = prod;
        }
      } finally {
        tt.free();
      }
    }
    const res = run('Reshape', { x: acc! }, { shape: [g.KH, g.KW, g.Ci, g.Co] }, backend);
    backend.disposeData(acc!.dataId);
    return res;
  } finally {
    t.free();
  }
}

/** Kernels of tfjs that this module replaced, by "backend/kernel". */
const originals = new Map<string, tf.KernelFunc>();

/** tfjs's own kernel that was replaced here (for reference checks), or undefined. */
export function originalKernel(kernelName: string, backendName: string): tf.KernelFunc | undefined {
  return originals.get(`${backendName}/${kernelName}`);
}

function replaceKernel(kernelName: string, backendName: string, func: tf.KernelFunc): void {
  const own = tf.getKernel(kernelName, backendName);
  if (own && (own as { facecomb?: boolean }).facecomb) return;
  if (own) {
    originals.set(`${backendName}/${kernelName}`, own.kernelFunc);
    tf.unregisterKernel(kernelName, backendName);
  }
  tf.registerKernel({ kernelName, backendName, kernelFunc: func, facecomb: true } as tf.KernelConfig);
}

/** dx of a conv2d as s*s stride-1 convolutions (one per output phase) interleaved by DepthToSpace. */
function conv2dBackpropInput(args: { inputs: NamedTensors; attrs?: Attrs; backend: Backend }): TensorInfo {
  const { dy, filter } = args.inputs;
  const backend = args.backend;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = (args.attrs ?? {}) as {
    strides: number | [number, number]; pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode?: 'floor' | 'round' | 'ceil'; inputShape: [number, number, number, number];
  };
  const info = dataFormat === 'NCHW' ? null : tf.backend_util.computeConv2DInfo(
    inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  if (!info || info.strideHeight !== info.strideWidth) {
    const original = originalKernel('Conv2DBackpropInput', 'wasm');
    if (!original) throw new Error('wasm Conv2DBackpropInput: unsupported attributes and no fallback kernel');
    return original(args as unknown as Parameters<tf.KernelFunc>[0]) as TensorInfo;
  }
  const [B, H, W, Ci] = inputShape;
  const [, OH, OW, Co] = dy.shape;
  const KH = info.filterHeight, KW = info.filterWidth, s = info.strideHeight;
  const pt = info.padInfo.top, pl = info.padInfo.left;
  const Q = Math.ceil((H + pt) / s), QW = Math.ceil((W + pl) / s);
  const t = new Temps(backend);
  try {
    const dyc = Q < OH || QW < OW
      ? t.keep(run('Slice', { x: dy }, { begin: [0, 0, 0, 0], size: [B, Math.min(Q, OH), Math.min(QW, OW), Co] }, backend))
      : dy;
    // One sub-filter per phase (rh, rw): W[rh::s, rw::s], flipped, in/out channels swapped, zero-padded at the
    // front to a common M x MW, and stacked along the output channels, so that a single stride-1 conv of dy
    // computes every phase: its output channel (rh*s + rw)*Ci + ci is exactly DepthToSpace's layout.
    const M = Math.ceil(KH / s), MW = Math.ceil(KW / s);
    const blocks: TensorInfo[] = [];
    for (let rh = 0; rh < s; rh++) {
      for (let rw = 0; rw < s; rw++) {
        const mh = Math.max(0, Math.ceil((KH - rh) / s)), mw = Math.max(0, Math.ceil((KW - rw) / s));
        if (mh === 0 || mw === 0) {
          blocks.push(t.keep(run('Fill', {}, { shape: [M, MW, Co, Ci], value: 0, dtype: 'float32' }, backend)));
          continue;
        }
        const sub = s === 1 ? filter : t.keep(run('StridedSlice', { x: filter }, {
          begin: [rh, rw, 0, 0], end: [KH, KW, Ci, Co], strides: [s, s, 1, 1],
          beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
        }, backend));
        const flipped = t.keep(run('Reverse', { x: sub }, { dims: [0, 1] }, backend));
        let wt = t.keep(run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] }, backend)); // [mh, mw, Co, Ci]
        if (mh < M || mw < MW) {
          wt = t.keep(run('PadV2', { x: wt }, { paddings: [[M - mh, 0], [MW - mw, 0], [0, 0], [0, 0]], constantValue: 0 }, backend));
        }
        blocks.push(wt);
      }
    }
    const wAll = blocks.length === 1 ? blocks[0] : t.keep(run('Concat', blocks as unknown as NamedTensors, { axis: 3 }, backend));
    const padding = [[0, 0], [M - 1, Math.max(0, Q - OH)], [MW - 1, Math.max(0, QW - OW)], [0, 0]];
    const stacked = t.keep(run('Conv2D', { x: dyc, filter: wAll }, {
      strides: [1, 1], pad: padding, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined,
    }, backend)); // [B, Q, QW, s*s*Ci]
    const grid = s === 1 ? stacked : t.keep(run('DepthToSpace', { x: stacked }, { blockSize: s, dataFormat: 'NHWC' }, backend));
    if (grid.shape[1] === H && grid.shape[2] === W && pt === 0 && pl === 0) {
      backend.incRef(grid.dataId);
      return { dataId: grid.dataId, shape: grid.shape, dtype: grid.dtype };
    }
    return run('Slice', { x: grid }, { begin: [0, pt, pl, 0], size: [B, H, W, Ci] }, backend);
  } finally {
    t.free();
  }
}

function conv2dBackpropFilter(args: { inputs: NamedTensors; attrs?: Attrs; backend: Backend }): TensorInfo {
  const { x, dy } = args.inputs;
  const attrs = args.attrs ?? {};
  if (attrs.dataFormat === 'NCHW') {
    const original = originalKernel('Conv2DBackpropFilter', nameOf(args.backend));
    if (original) return original(args as unknown as Parameters<tf.KernelFunc>[0]) as TensorInfo;
  }
  const g = geometry(x, dy, attrs);
  if (nameOf(args.backend) === 'cpu') return filterGradConv(x, dy, g, args.backend);
  // auto: 1x1 filters are a plain matrix product (gemm measured 1.7x faster); larger ones use the conv form,
  // which avoids the KH*KW-fold im2col copy (1.2-10x faster, most on stride 2).
  const method = flags.wasmFilterGrad;
  const gemm = method === 'gemm' || (method === 'auto' && g.KH * g.KW === 1);
  return gemm ? filterGradGemm(x, dy, g, args.backend) : filterGradConv(x, dy, g, args.backend);
}

/**
 * Runs the cpu backend's kernel on copies of the inputs and writes the result back into wasm memory.
 * Last resort for kernels off the training path of our models.
 */
function delegateToCpu(kernelName: string) {
  return (args: { inputs: NamedTensors; attrs?: Attrs; backend: Backend }): TensorInfo | TensorInfo[] => {
    const cpu = tf.engine().findBackend('cpu');
    const k = tf.getKernel(kernelName, 'cpu');
    if (!cpu || !k) throw new Error(`${kernelName} on wasm needs the cpu backend's kernel, which is not registered`);
    const wasm = args.backend;
    const inputs: NamedTensors = {};
    for (const [key, t] of Object.entries(args.inputs)) {
      const values = wasm.readSync(t.dataId) as tf.backend_util.BackendValues;
      inputs[key] = { dataId: cpu.write(values, t.shape, t.dtype), shape: t.shape, dtype: t.dtype };
    }
    try {
      const out = k.kernelFunc({ inputs, attrs: (args.attrs ?? {}) as tf.NamedAttrMap, backend: cpu });
      const outs = Array.isArray(out) ? out : [out];
      const res = outs.map((o) => {
        const values = cpu.readSync(o.dataId) as tf.backend_util.BackendValues;
        const r: TensorInfo = { dataId: wasm.write(values, o.shape, o.dtype), shape: o.shape, dtype: o.dtype };
        cpu.disposeData(o.dataId);
        return r;
      });
      return Array.isArray(out) ? res : res[0];
    } finally {
      for (const t of Object.values(inputs)) cpu.disposeData(t.dataId);
    }
  };
}

const CPU_DELEGATED = ['MaxPoolGrad', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'UnsortedSegmentSum'];

/**
 * Registers the missing training kernels on the wasm backend (once; kernels wasm already has are left alone).
 * Returns the names registered by this call or an earlier one.
 */
/**
 * Replaces the cpu backend's Conv2DBackpropFilter (a scattered loop at 0.01 GFLOPS) by the same convolution
 * formulation running on the cpu backend's own Conv2D (about 0.7 GFLOPS). Returns the kernel names replaced.
 */
export function registerCpuTrainingKernels(): string[] {
  replaceKernel('Conv2DBackpropFilter', 'cpu', conv2dBackpropFilter as unknown as tf.KernelFunc);
  return ['Conv2DBackpropFilter'];
}

export function registerWasmTrainingKernels(): string[] {
  const names: string[] = [];
  // Missing on wasm.
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm') || (tf.getKernel('Conv2DBackpropFilter', 'wasm') as { facecomb?: boolean }).facecomb) {
    replaceKernel('Conv2DBackpropFilter', 'wasm', conv2dBackpropFilter as unknown as tf.KernelFunc);
    names.push('Conv2DBackpropFilter');
  }
  // Present on wasm but 10x slower than the forward conv.
  replaceKernel('Conv2DBackpropInput', 'wasm', conv2dBackpropInput as unknown as tf.KernelFunc);
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
