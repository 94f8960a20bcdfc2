/**
 * The fade-in blend alpha * a + (1 - alpha) * b of two same-shaped tensors (progressive training's fade of a
 * new resolution). Kernel: webgpu/fade-blend.ts (one dispatch); test/fade-blend.test.ts checks it against
 * the reference below.
 */
import { tf } from '../tf.js';
import { defineOp } from './registry.js';

/** The reference: three tf ops (mul, mul, add); gradient dy * alpha and dy * (1 - alpha). */
export function fadeBlendReference<T extends tf.Tensor>(a: T, b: T, alpha: number): T {
  return tf.add(tf.mul(a, alpha), tf.mul(b, 1 - alpha)) as T;
}

export const fadeBlendOp = defineOp('FacecombFadeBlend', fadeBlendReference as (a: tf.Tensor, b: tf.Tensor, alpha: number) => tf.Tensor);

/** alpha * a + (1 - alpha) * b, differentiable w.r.t. a and b. */
export function fadeBlend<T extends tf.Tensor>(a: T, b: T, alpha: number): T {
  return fadeBlendOp.run(a, b, alpha) as T;
}
