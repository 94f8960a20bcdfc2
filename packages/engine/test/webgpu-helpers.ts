import type { TestContext } from 'node:test';
import { tf } from '../src/index.js';
import { webgpuBackendInternals } from '../src/webgpu/tfjs-internals.js';
import { randomValues, tryEngine } from './helpers.js';

/**
 * Switches to the webgpu engine. Without an adapter the test is skipped with the reason, unless
 * FACECOMB_REQUIRE_WEBGPU=1 (CI with lavapipe installed), where that is a failure.
 */
export async function webgpuOrSkip(t: TestContext): Promise<boolean> {
  const skip = await tryEngine('webgpu');
  if (!skip) return true;
  t.skip(skip);
  return false;
}

/** Shader keys compiled so far by the webgpu backend (to check that our kernels, not tfjs's, ran). */
export function compiledShaders(): string[] {
  return Object.keys(webgpuBackendInternals()?.pipelineCache ?? {});
}

/** A conv test case: NHWC input shape, square filter size, output channels, stride, padding, fused activation. */
export interface ConvCase {
  x: [number, number, number, number]; k: number; co: number; s: number; pad: 'same' | 'valid';
  act?: 'linear' | 'leakyrelu' | 'relu' | 'sigmoid' | 'elu';
}

/**
 * On the active engine: conv2d, the fused conv2d (bias + act, leakyrelu alpha 0.2) and the gradients of
 * sum(conv2d(x, w) * r) w.r.t. x and w (r random, so dy is not constant); data seeded from `seed` (x, w, bias, r).
 */
export async function convOutputs(c: ConvCase, seed = 1): Promise<Float32Array[]> {
  const size = (sh: number[]) => sh.reduce((a, b) => a * b, 1);
  const wShape = [c.k, c.k, c.x[3], c.co] as [number, number, number, number];
  const x = tf.tensor4d(randomValues(size(c.x), seed), c.x);
  const w = tf.tensor4d(randomValues(size(wShape), seed + 1, 0.5), wShape);
  const bias = tf.tensor1d(randomValues(c.co, seed + 2, 0.5));
  const y = tf.conv2d(x, w, c.s, c.pad);
  const r = tf.tensor(randomValues(y.size, seed + 3), y.shape);
  const fused = tf.fused.conv2d({ x, filter: w, bias, strides: c.s, pad: c.pad, activation: c.act ?? 'linear', leakyreluAlpha: 0.2 });
  const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad), r)))([x, w]);
  const out = await Promise.all([y, fused, dx, dw].map((t) => t.data() as Promise<Float32Array>));
  tf.dispose([x, w, bias, y, r, fused, dx, dw]);
  return out;
}
