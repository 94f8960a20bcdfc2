/**
 * Corrections to tfjs 4.22 gradients that are wrong on every backend or on the cpu backend, found by checking
 * gradients against finite differences (test/fixes.test.ts):
 *   - AvgPool: the gradient divides by the full window area even where the forward pass ('same' or explicit
 *     padding) averaged fewer pixels at the border. Replaced (for every backend) by AvgPoolGrad of dy scaled
 *     by area / valid-count per output pixel.
 *   - ResizeNearestNeighborGrad on cpu: wrong for batch > 1 and NaN when downsampling. Replaced by a scatter-add
 *     that uses the forward kernel's exact source-pixel mapping.
 */
import { tf } from './tf.js';

type Attrs = Record<string, unknown>;

/** Per-output-pixel factor area / count of in-bounds pixels, or null when no window touches the padding. */
function avgPoolBorderScale(x: tf.Tensor, attrs: Attrs): tf.Tensor | null {
  const { filterSize, strides, pad, dimRoundingMode } = attrs as {
    filterSize: number | [number, number]; strides: number | [number, number];
    pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding; dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const info = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const { top, left } = info.padInfo;
  const { inHeight: H, inWidth: W, outHeight: OH, outWidth: OW, filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const countH = new Float32Array(OH), countW = new Float32Array(OW);
  let partial = false;
  for (let o = 0; o < OH; o++) {
    const s = o * sh - top;
    countH[o] = Math.min(H, s + fh) - Math.max(0, s);
    if (countH[o] !== fh) partial = true;
  }
  for (let o = 0; o < OW; o++) {
    const s = o * sw - left;
    countW[o] = Math.min(W, s + fw) - Math.max(0, s);
    if (countW[o] !== fw) partial = true;
  }
  if (!partial) return null;
  const scale = new Float32Array(OH * OW);
  for (let i = 0; i < OH; i++) for (let j = 0; j < OW; j++) scale[i * OW + j] = (fh * fw) / Math.max(1, countH[i] * countW[j]);
  return tf.tensor4d(scale, [1, OH, OW, 1]);
}

const avgPoolGradConfig: tf.GradConfig = {
  kernelName: 'AvgPool',
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [x] = saved;
    const { filterSize, strides, pad } = attrs as unknown as { filterSize: unknown; strides: unknown; pad: unknown };
    return {
      x: () => {
        const scale = avgPoolBorderScale(x, attrs as unknown as Attrs);
        const dys = scale ? tf.mul(dy as tf.Tensor, scale) : (dy as tf.Tensor);
        return tf.engine().runKernel('AvgPoolGrad', { dy: dys, input: x }, { filterSize, strides, pad } as unknown as tf.NamedAttrMap) as tf.Tensor;
      },
    };
  },
};

/** The forward kernel's source index for output index `o` (tfjs ResizeNearestNeighbor semantics). */
export function nearestSource(o: number, inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): number {
  const effIn = alignCorners && outSize > 1 ? inSize - 1 : inSize;
  const effOut = alignCorners && outSize > 1 ? outSize - 1 : outSize;
  const ratio = effIn / effOut;
  const frac = halfPixelCenters ? ratio * (o + 0.5) : ratio * o;
  let src = Math.min(inSize - 1, alignCorners ? Math.round(frac) : Math.floor(frac));
  if (halfPixelCenters) src = Math.max(0, src);
  return src;
}

/** dx[b, src(r), src(c), ch] += dy[b, r, c, ch] over plain arrays. */
export function nearestGradValues(dy: Float32Array, dyShape: number[], imageShape: number[], alignCorners: boolean, halfPixelCenters: boolean): Float32Array {
  const [B, H, W, C] = imageShape;
  const [, OH, OW] = dyShape;
  const out = new Float32Array(B * H * W * C);
  const rows = Array.from({ length: OH }, (_, r) => nearestSource(r, H, OH, alignCorners, halfPixelCenters));
  const cols = Array.from({ length: OW }, (_, c) => nearestSource(c, W, OW, alignCorners, halfPixelCenters));
  let i = 0;
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < OH; r++) {
      const rowBase = (b * H + rows[r]) * W;
      for (let c = 0; c < OW; c++) {
        const base = (rowBase + cols[c]) * C;
        for (let ch = 0; ch < C; ch++) out[base + ch] += dy[i++];
      }
    }
  }
  return out;
}

function cpuNearestGrad(args: { inputs: Record<string, tf.TensorInfo>; attrs?: Attrs; backend: tf.KernelBackend }): tf.TensorInfo {
  const { images, dy } = args.inputs;
  const { alignCorners = false, halfPixelCenters = false } = (args.attrs ?? {}) as { alignCorners?: boolean; halfPixelCenters?: boolean };
  const backend = args.backend;
  const values = nearestGradValues(backend.readSync(dy.dataId) as Float32Array, dy.shape, images.shape, alignCorners, halfPixelCenters);
  return { dataId: backend.write(values, images.shape, 'float32'), shape: images.shape, dtype: 'float32' };
}

let applied = false;

/** Installs the corrections once per process. */
export function applyTfjsFixes(): string[] {
  if (!applied) {
    applied = true;
    tf.registerGradient(avgPoolGradConfig);
    if (tf.getKernel('ResizeNearestNeighborGrad', 'cpu')) tf.unregisterKernel('ResizeNearestNeighborGrad', 'cpu');
    tf.registerKernel({ kernelName: 'ResizeNearestNeighborGrad', backendName: 'cpu', kernelFunc: cpuNearestGrad as unknown as tf.KernelFunc });
  }
  return ['AvgPool gradient (border windows)', 'ResizeNearestNeighborGrad on cpu'];
}

/**
 * ResizeNearestNeighborGrad for wasm: wasm's own kernel is right but ignores halfPixelCenters, which changes
 * the mapping unless the scale is an integer factor; those cases are done by the scatter-add above.
 */
export function wasmNearestGrad(original: tf.KernelFunc) {
  return (args: { inputs: Record<string, tf.TensorInfo>; attrs?: Attrs; backend: tf.KernelBackend }): tf.TensorInfo => {
    const { images, dy } = args.inputs;
    const { alignCorners = false, halfPixelCenters = false } = (args.attrs ?? {}) as { alignCorners?: boolean; halfPixelCenters?: boolean };
    const sameMapping = !alignCorners && dy.shape[1] % images.shape[1] === 0 && dy.shape[2] % images.shape[2] === 0;
    if (!halfPixelCenters || sameMapping) return original(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    return cpuNearestGrad(args);
  };
}
