/**
 * Conv2DBackpropFilter for wasm (which lacks it), from wasm's own XNNPACK kernels (GEMM-based, no per-element
 * JS loop), in one of two forms (flag wasmFilterGrad):
 *   - 'conv' (default for filters larger than 1x1): cpu/conv2d-backprop-filter.ts's conv form.
 *   - 'gemm' (default for 1x1 filters): explicit im2col, the input, channel-major, sliced once per filter tap and
 *     the KH*KW*Ci x M matrix multiplied by the M x Co output gradient in one BatchMatMul (M = B*OH*OW), in batch
 *     tiles so the im2col matrix stays under 64 MB.
 * Checked against float64 loops by test/kernels.test.ts (both forms).
 */
import { flags } from '../flags.js';
import { run, Temps, type Attrs, type Backend, type NamedTensors, type TensorInfo } from '../kernel-calls.js';
import { cropInput, filterGradConv, geometry, nchwFallback, type FilterGradGeometry } from '../cpu/conv2d-backprop-filter.js';

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

export function wasmConv2dBackpropFilter(args: { inputs: NamedTensors; attrs?: Attrs; backend: Backend }): TensorInfo {
  const { x, dy } = args.inputs;
  const nchw = nchwFallback('Conv2DBackpropFilter', 'wasm', args);
  if (nchw) return nchw;
  const g = geometry(x, dy, args.attrs ?? {});
  // auto: 1x1 filters are a plain matrix product (gemm measured 1.7x faster); larger ones use the conv form,
  // which avoids the KH*KW-fold im2col copy (1.2-10x faster, most on stride 2).
  const method = flags.wasmFilterGrad;
  const gemm = method === 'gemm' || (method === 'auto' && g.KH * g.KW === 1);
  return gemm ? filterGradGemm(x, dy, g, args.backend) : filterGradConv(x, dy, g, args.backend);
}
