/**
 * Corrections for tfjs-backend-webgpu 4.22, found by test/fixes.test.ts and train's test/webgpu.test.ts:
 *   - ResizeNearestNeighborGrad ignores halfPixelCenters (its shader maps dy pixels with floor(o * in / out)),
 *     so the gradient of a non-integer halfPixelCenters resize is wrong (3->7: off by 0.92 relative). That case
 *     is computed as two matrix products with one-hot matrices built from the forward kernel's exact mapping,
 *     dx = R^T dy C; every other case keeps webgpu's kernel.
 *   - readSync (dataSync, arraySync) of a tensor whose values are only on the GPU needs OffscreenCanvas, which
 *     Node lacks: the ReferenceError becomes an error that says what to do.
 */
import { tf } from '../tf.js';
import { nearestSource } from '../cpu/resize-nearest-grad.js';
import { webgpuBackendInternals } from './tfjs-internals.js';

/** One-hot [inSize, outSize] matrix M with M[src(o), o] = 1. */
function oneHot(inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): tf.Tensor2D {
  const m = new Float32Array(inSize * outSize);
  for (let o = 0; o < outSize; o++) m[nearestSource(o, inSize, outSize, alignCorners, halfPixelCenters) * outSize + o] = 1;
  return tf.tensor2d(m, [inSize, outSize]);
}

/** dx[b,i,j,c] = sum over r,s of R[i,r] C[j,s] dy[b,r,s,c], with tf ops (so on the GPU). */
export function nearestGradByMatMul(dy: tf.Tensor4D, imageShape: number[], alignCorners: boolean, halfPixelCenters: boolean): tf.Tensor4D {
  return tf.tidy(() => {
    const [B, H, W, C] = imageShape;
    const [, OH, OW] = dy.shape;
    const rows = oneHot(H, OH, alignCorners, halfPixelCenters);
    const cols = oneHot(W, OW, alignCorners, halfPixelCenters);
    // rows first: [OH, B*OW*C] -> [H, B*OW*C]
    const t = tf.matMul(rows, tf.reshape(tf.transpose(dy, [1, 0, 2, 3]), [OH, B * OW * C]));
    // then columns: [H,B,OW,C] -> [OW, H*B*C] -> [W, H*B*C]
    const u = tf.matMul(cols, tf.reshape(tf.transpose(tf.reshape(t, [H, B, OW, C]), [2, 0, 1, 3]), [OW, H * B * C]));
    return tf.transpose(tf.reshape(u, [W, H, B, C]), [2, 1, 0, 3]) as tf.Tensor4D;
  });
}

const nearestGradConfig: tf.GradConfig = {
  kernelName: 'ResizeNearestNeighbor',
  inputsToSave: ['images'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [images] = saved;
    const { alignCorners = false, halfPixelCenters = false } = attrs as { alignCorners?: boolean; halfPixelCenters?: boolean };
    const d = dy as tf.Tensor4D;
    const integerScale = !alignCorners && d.shape[1] % images.shape[1]! === 0 && d.shape[2] % images.shape[2]! === 0;
    return {
      images: () =>
        tf.getBackend() === 'webgpu' && halfPixelCenters && !integerScale
          ? nearestGradByMatMul(d, images.shape, alignCorners, halfPixelCenters)
          : (tf.engine().runKernel('ResizeNearestNeighborGrad', { images, dy: d }, attrs) as tf.Tensor),
    };
  },
};

let registered = false;

/** Installs the corrections once per process (the gradient is global; it changes nothing off webgpu). */
export function registerWebgpuFixes(): string[] {
  if (!registered) {
    registered = true;
    tf.registerGradient(nearestGradConfig);
    const backend = webgpuBackendInternals();
    if (backend) {
      const original = backend.readSync.bind(backend);
      backend.readSync = (dataId: object) => {
        if (backend.tensorMap.get(dataId)?.values == null && typeof (globalThis as Record<string, unknown>).OffscreenCanvas === 'undefined') {
          throw new Error('dataSync()/arraySync() of a tensor on the webgpu engine needs OffscreenCanvas, which Node lacks: read it with await tensor.data() / tensor.array()');
        }
        return original(dataId);
      };
    }
  }
  return ['ResizeNearestNeighbor gradient on webgpu (halfPixelCenters)', 'webgpu readSync error message'];
}

/**
 * For tests: every synchronous read on the webgpu engine (dataSync, arraySync, readSync, also of values
 * already downloaded) throws until the returned function is called. Counts the attempts.
 */
export function forbidSyncReads(): { attempts: () => number; restore: () => void } {
  const backend = webgpuBackendInternals();
  if (!backend) throw new Error('forbidSyncReads: the webgpu engine is not initialised');
  const current = backend.readSync;
  let n = 0;
  backend.readSync = () => {
    n++;
    throw new Error('synchronous read (dataSync/arraySync/readSync) on the webgpu engine; the webgpu path must read with await data()');
  };
  return { attempts: () => n, restore: () => { backend.readSync = current; } };
}
