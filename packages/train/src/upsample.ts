import { tf, type Tensor4D } from './tf.js';

/** Doubles one spatial axis (1: height, 2: width) by half-pixel bilinear interpolation, edges clamped. */
function double(x: Tensor4D, axis: 1 | 2): Tensor4D {
  const n = x.shape[axis];
  const part = (begin: number, size: number) => tf.slice(x, axis === 1 ? [0, begin, 0, 0] : [0, 0, begin, 0], axis === 1 ? [-1, size, -1, -1] : [-1, -1, size, -1]);
  // each input sample's neighbours along the axis, the edge sample standing in past the border
  const prev = n > 1 ? tf.concat([part(0, 1), part(0, n - 1)], axis) : x;
  const next = n > 1 ? tf.concat([part(1, n - 1), part(n - 1, 1)], axis) : x;
  // output 2i sits a quarter sample before input i, output 2i+1 a quarter after
  const even = tf.add(tf.mul(x, 0.75), tf.mul(prev, 0.25));
  const odd = tf.add(tf.mul(x, 0.75), tf.mul(next, 0.25));
  const shape = [...x.shape] as [number, number, number, number];
  shape[axis] = 2 * n;
  return tf.reshape(tf.stack([even, odd], axis + 1), shape);
}

/**
 * 2x bilinear upsampling with half-pixel centres (PyTorch's align_corners=False; tf.image.resizeBilinear with
 * halfPixelCenters), built from slices, concats and sums so its gradient is exact on every engine: the
 * ResizeBilinearGrad kernels of tfjs's cpu and wasm backends ignore halfPixelCenters, so training through
 * tf.image.resizeBilinear(x, size, false, true) got the gradient of another resize and did not learn.
 */
export function upsample2xBilinear(x: Tensor4D): Tensor4D {
  return double(double(x, 1), 2);
}
