/**
 * The f16 variant of our WGSL conv kernels (operands staged and multiplied in f16, f32 accumulation across
 * BK slices; gemm.ts) against the cpu backend on random inputs of odd sizes: forward, fused forward, input
 * gradient and filter gradient, relative error < 1e-2 (the f16 bar), and the f16 shaders really ran. Without
 * shader-f16 it checks that f16 is refused, then skips (a failure under FACECOMB_REQUIRE_WEBGPU=1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, initEngine, setWebgpuPrecision, webgpuHasF16, webgpuRequired } from '../src/index.js';
import { randomValues, relError } from './helpers.js';
import { compiledShaders, webgpuOrSkip } from './webgpu-helpers.js';

const TOL = 1e-2;

type Shape4 = [number, number, number, number];
// [x shape, filter size, out channels, stride, padding, activation]
const CASES: [Shape4, number, number, number, 'same' | 'valid', 'linear' | 'leakyrelu' | 'relu'][] = [
  [[2, 9, 7, 5], 3, 6, 1, 'same', 'leakyrelu'],
  [[3, 11, 13, 8], 3, 12, 2, 'same', 'relu'], // channels divisible by 4: vec4 loads
  [[1, 10, 9, 3], 4, 5, 2, 'valid', 'linear'],
  [[2, 45, 47, 2], 3, 67, 1, 'same', 'leakyrelu'], // long filter-gradient reduction (K = 4230), 8x4 per thread
];

async function outputs([xs, k, co, s, pad, act]: (typeof CASES)[number]): Promise<Float32Array[]> {
  const ws: Shape4 = [k, k, xs[3], co];
  const n = (sh: number[]) => sh.reduce((a, b) => a * b, 1);
  const x = tf.tensor4d(randomValues(n(xs), 11), xs);
  const w = tf.tensor4d(randomValues(n(ws), 12, 0.5), ws);
  const bias = tf.tensor1d(randomValues(co, 13, 0.5));
  const fused = tf.fused.conv2d({ x, filter: w, bias, strides: s, pad, activation: act, leakyreluAlpha: 0.2 });
  const r = tf.tensor(randomValues(fused.size, 14), fused.shape);
  const loss = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad), r));
  const [dx, dw] = tf.grads(loss)([x, w]);
  const y = tf.conv2d(x, w, s, pad);
  const out = await Promise.all([y, fused, dx, dw].map((t) => t.data() as Promise<Float32Array>));
  tf.dispose([x, w, bias, fused, r, dx, dw, y]);
  return out;
}

test('webgpu f16: conv forward, fused forward, input and filter gradient within 1e-2 of cpu', async (t) => {
  await initEngine({ backend: 'cpu', log: () => {} });
  const refs: Float32Array[][] = [];
  for (const c of CASES) refs.push(await outputs(c));
  if (!(await webgpuOrSkip(t))) return;
  if (!webgpuHasF16()) {
    assert.throws(() => setWebgpuPrecision('f16'), /shader-f16/);
    // CI installs lavapipe, which offers shader-f16: there its absence is a failure, not a skip
    assert.ok(!webgpuRequired(), 'FACECOMB_REQUIRE_WEBGPU=1 but the adapter offers no shader-f16 (lavapipe does)');
    t.skip('this adapter has no shader-f16');
    return;
  }
  setWebgpuPrecision('f16');
  try {
    const names = ['forward', 'fused forward', 'input gradient', 'filter gradient'];
    const worst = [0, 0, 0, 0];
    for (let i = 0; i < CASES.length; i++) {
      const got = await outputs(CASES[i]);
      got.forEach((g, j) => {
        const e = relError(g, refs[i][j]);
        worst[j] = Math.max(worst[j], e);
        assert.ok(e < TOL, `${JSON.stringify(CASES[i])}: ${names[j]} relative error ${e.toExponential(2)}`);
      });
    }
    t.diagnostic(`worst relative error: ${names.map((n, j) => `${n} ${worst[j].toExponential(2)}`).join(', ')}`);
    // f16 is not free of error: it must differ from the f32 result (else the f16 path did not run)
    assert.ok(worst.every((e) => e > 1e-6), `f16 errors suspiciously small: ${worst}`);
  } finally {
    setWebgpuPrecision('f32');
  }
  const half = compiledShaders().filter((k) => k.startsWith('facecomb_') && /_h(_|$)/.test(k));
  for (const kind of ['convfwd', 'convdx', 'convdw']) assert.ok(half.some((k) => k.includes(kind)), `no f16 ${kind} shader compiled`);
});
