/**
 * ResizeNearestNeighborGrad for cpu (tfjs's is wrong for batch > 1 and NaN when downsampling): a scatter-add
 * with the forward kernel's exact source-pixel mapping. Also used by wasm for halfPixelCenters, and its mapping by
 * webgpu's gradient fix. Checked against finite differences by test/fixes.test.ts.
 */
import { tf } from '../tf.js';

type Attrs = Record<string, unknown>;

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

export function cpuNearestGrad(args: { inputs: Record<string, tf.TensorInfo>; attrs?: Attrs; backend: tf.KernelBackend }): tf.TensorInfo {
  const { images, dy } = args.inputs;
  const { alignCorners = false, halfPixelCenters = false } = (args.attrs ?? {}) as { alignCorners?: boolean; halfPixelCenters?: boolean };
  const backend = args.backend;
  const values = nearestGradValues(backend.readSync(dy.dataId) as Float32Array, dy.shape, images.shape, alignCorners, halfPixelCenters);
  return { dataId: backend.write(values, images.shape, 'float32'), shape: images.shape, dtype: 'float32' };
}
