/**
 * Gradients of the pooling and resize ops (where tfjs 4.22 has bugs this package corrects) against finite
 * differences, on every engine that initialises. Inputs are distinct integers, so max pooling's argmax does
 * not move under the 0.25 step and the finite differences of these piecewise-linear ops are exact up to
 * float32 rounding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, type EngineName } from '../src/index.js';
import { relError, tryEngine } from './helpers.js';

/** A permutation of -n/2 .. n/2-1 (distinct, both signs). */
function distinct(n: number, seed: number): Float32Array {
  const a = Array.from({ length: n }, (_, i) => i - Math.floor(n / 2));
  let s = seed;
  for (let i = n - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return new Float32Array(a);
}

const CASES: [string, number[], (x: tf.Tensor4D) => tf.Tensor][] = [
  ['maxPool 2x2 stride 2 valid', [2, 4, 4, 3], (x) => tf.maxPool(x, 2, 2, 'valid')],
  ['maxPool 3x3 stride 1 same', [2, 5, 5, 2], (x) => tf.maxPool(x, 3, 1, 'same')],
  ['avgPool 2x2 stride 2 valid', [2, 4, 4, 3], (x) => tf.avgPool(x, 2, 2, 'valid')],
  ['avgPool 3x3 stride 2 same', [2, 5, 5, 2], (x) => tf.avgPool(x, 3, 2, 'same')],
  ['avgPool 2x2 stride 1 same', [2, 4, 4, 2], (x) => tf.avgPool(x, 2, 1, 'same')],
  ['resizeNearestNeighbor x2', [2, 3, 3, 2], (x) => tf.image.resizeNearestNeighbor(x, [6, 6])],
  ['resizeNearestNeighbor 3->7 halfPixelCenters', [2, 3, 3, 2], (x) => tf.image.resizeNearestNeighbor(x, [7, 7], false, true)],
  ['resizeNearestNeighbor 3->7 alignCorners', [2, 3, 3, 2], (x) => tf.image.resizeNearestNeighbor(x, [7, 7], true)],
  ['resizeNearestNeighbor down 6->3', [2, 6, 6, 2], (x) => tf.image.resizeNearestNeighbor(x, [3, 3])],
  ['resizeBilinear x2', [2, 3, 3, 2], (x) => tf.image.resizeBilinear(x, [6, 6])],
  ['resizeBilinear 3->7 alignCorners', [2, 3, 3, 2], (x) => tf.image.resizeBilinear(x, [7, 7], true)],
];

for (const engine of ['cpu', 'wasm', 'webgpu', 'tensorflow'] as EngineName[]) {
  test(`${engine}: pooling and resize gradients match finite differences`, async (t) => {
    const why = await tryEngine(engine);
    if (why) { t.skip(why); return; }
    for (const [name, shape, f] of CASES) {
      const n = shape.reduce((a, b) => a * b, 1);
      const xv = distinct(n, 5);
      const x = tf.tensor4d(xv, shape as [number, number, number, number]);
      const y = f(x);
      const w = tf.tensor(distinct(y.size, 9), y.shape);
      const objective = (a: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor4D), w));
      const g = tf.grad(objective)(x);
      const got = await g.data();
      // Finite differences in one batch: n copies of x, each with one element moved by +0.25.
      const eps = 0.25;
      const stacked = new Float32Array(n * n);
      for (let i = 0; i < n; i++) { stacked.set(xv, i * n); stacked[i * n + i] += eps; }
      const per = tf.tidy(() => {
        const xs = tf.tensor4d(stacked, [n * shape[0], shape[1], shape[2], shape[3]]);
        const ys = f(xs);
        const tiled = tf.tile(w, [n, 1, 1, 1]);
        return tf.sum(tf.reshape(tf.mul(ys, tiled), [n, -1]), 1);
      });
      const base = (await objective(x).data())[0];
      const fd = Float32Array.from(await per.data(), (v) => (v - base) / eps);
      const e = relError(got, fd);
      assert.ok(e < 1e-3, `${engine} ${name}: gradient differs from finite differences by ${e.toExponential(2)} (relative)`);
      tf.dispose([x, y, w, g, per]);
    }
  });
}
