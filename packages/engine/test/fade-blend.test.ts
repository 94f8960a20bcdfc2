/**
 * The fade-in blend (src/ops/fade-blend.ts): its webgpu kernel (one dispatch, alpha as a uniform) against the
 * reference tf ops on cpu: output and both gradients at two alphas; off webgpu the op is the reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, initEngine, fadeBlend, fadeBlendReference } from '../src/index.js';
import { randomValues, relError } from './helpers.js';
import { compiledShaders, webgpuOrSkip } from './webgpu-helpers.js';

const TOL = 1e-4;

/** alpha * a + (1 - alpha) * b and its gradients for a random upstream gradient, at two alphas. */
async function blend(fused: boolean): Promise<Float32Array[]> {
  const shape = [3, 7, 5, 3];
  const a = tf.tensor(randomValues(105 * 3, 21), shape), b = tf.tensor(randomValues(105 * 3, 22), shape);
  const r = tf.tensor(randomValues(105 * 3, 23), shape);
  const out: Float32Array[] = [];
  for (const alpha of [0.3, 0.85]) {
    const f = (x: tf.Tensor, y: tf.Tensor) => (fused ? fadeBlend(x, y, alpha) : fadeBlendReference(x, y, alpha));
    const y = f(a, b);
    const grads = tf.grads((x: tf.Tensor, z: tf.Tensor) => tf.sum(tf.mul(f(x, z), r)))([a, b]);
    for (const t of [y, ...grads]) out.push((await t.data()) as Float32Array);
    tf.dispose([y, ...grads]);
  }
  tf.dispose([a, b, r]);
  return out;
}

test('fadeBlend: one dispatch on webgpu matches the reference on the cpu backend', async (t) => {
  await initEngine({ backend: 'cpu', log: () => {} });
  const ref = await blend(false);
  assert.deepEqual(await blend(true), ref, 'off webgpu the op is the reference');
  if (!(await webgpuOrSkip(t))) return;
  const before = tf.memory().numTensors;
  const got = await blend(true);
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  for (let i = 0; i < ref.length; i++) {
    const e = relError(got[i], ref[i]);
    assert.ok(e < TOL, `blend output/gradient ${i}: relative error ${e.toExponential(2)}`);
  }
  assert.equal(compiledShaders().filter((k) => k.startsWith('facecomb_blend_')).length, 1, 'one shader for both alphas');
  await initEngine({ backend: 'wasm', log: () => {} });
});
