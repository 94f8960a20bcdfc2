/**
 * Corrections to tfjs 4.22 gradients that are wrong on every backend or on the cpu backend, found by checking
 * gradients against finite differences (test/fixes.test.ts):
 *   - AvgPool: the gradient divides by the full window area even where the forward pass ('same' or explicit
 *     padding) averaged fewer pixels at the border. Replaced (for every backend) by AvgPoolGrad of dy scaled
 *     by area / valid-count per output pixel.
 *   - ResizeNearestNeighborGrad on cpu: wrong for batch > 1 and NaN when downsampling. Replaced by
 *     cpu/resize-nearest-grad.ts (installed here, before any backend is chosen, as before).
 */
import { tf } from './tf.js';
import { cpuNearestGrad } from './cpu/resize-nearest-grad.js';

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
