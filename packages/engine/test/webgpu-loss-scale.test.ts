/**
 * Dynamic loss scaling on the GPU (src/webgpu/loss-scale.ts with the fused Adam): a good step equals Adam on
 * the unscaled gradient at the count of good steps (skipped steps do not count for the bias correction), a step
 * with an inf or NaN anywhere in its gradients is skipped (weights and moments unchanged, scale halved, the
 * variables' skip counters up), and the scale doubles after growthInterval good steps, with nothing read back
 * between steps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, LossScaler, webgpuAdamStep } from '../src/index.js';
import { randomValues, relError } from './helpers.js';
import { webgpuOrSkip } from './webgpu-helpers.js';

const H = { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

test('webgpu loss scaling: unscaled Adam on good steps, skip on a non-finite gradient, growth after N good steps', async (t) => {
  if (!(await webgpuOrSkip(t))) return;
  const tensors = tf.memory().numTensors;
  const n = [1037, 29];
  const fresh = (seed: number) => tf.tidy(() => n.map((k, i) => tf.variable(tf.tensor1d(randomValues(k, seed + i)), false)));
  const zeros = () => tf.tidy(() => n.map((k) => tf.variable(tf.zeros([k]), false)));
  const [w, m, v] = [fresh(1), zeros(), zeros()];
  const [w2, m2, v2] = [fresh(1), zeros(), zeros()]; // reference: plain Adam on the unscaled gradient
  const scaler = new LossScaler({ initial: 8, growthInterval: 3 });
  const skips = tf.tidy(() => n.map(() => tf.variable(tf.zeros([1], 'int32'), false)));
  let step = 0;
  let good = 0;
  const all = async (xs: tf.Variable[]) => Promise.all(xs.map((x) => x.data() as Promise<Float32Array>));

  for (const expected of [
    { poison: undefined, scale: 8, goodSteps: 1, skipped: 0 },
    { poison: Infinity, scale: 4, goodSteps: 0, skipped: 1 },
    { poison: NaN, scale: 2, goodSteps: 0, skipped: 2 },
    { poison: undefined, scale: 2, goodSteps: 1, skipped: 2 },
    { poison: undefined, scale: 2, goodSteps: 2, skipped: 2 },
    { poison: undefined, scale: 4, goodSteps: 0, skipped: 2 }, // third good step in a row: doubled
  ]) {
    const { scale } = await scaler.read(); // the loss would be multiplied by it: here the gradients are
    const before = await all([...w, ...m, ...v]);
    step++;
    const values = n.map((k, i) => randomValues(k, 100 * step + i, 0.1));
    const gs = values.map((x) => tf.tensor1d(x));
    // `poison` goes into the second variable's gradient only: the whole step is skipped all the same
    const scaled = values.map((x, i) => {
      const y = x.map((e) => e * scale);
      if (expected.poison !== undefined && i === 1) y[7] = expected.poison;
      return tf.tensor1d(y);
    });
    for (const g of scaled) scaler.check(g);
    for (let i = 0; i < n.length; i++) assert.ok(webgpuAdamStep(w[i], m[i], v[i], scaled[i], step, H, { scaler, skips: skips[i] }));
    scaler.update();
    if (expected.poison === undefined) {
      good++;
      for (let i = 0; i < n.length; i++) webgpuAdamStep(w2[i], m2[i], v2[i], gs[i], good, H);
    }
    tf.dispose([...gs, ...scaled]);
    const st = await scaler.read();
    assert.deepEqual({ ...st, poison: expected.poison }, expected, `step ${step}`);
    const after = await all([...w, ...m, ...v]);
    if (expected.poison !== undefined) {
      after.forEach((a, j) => assert.deepEqual(a, before[j], `step ${step} skipped: tensor ${j} changed`));
    } else {
      const ref = await all([...w2, ...m2, ...v2]);
      after.forEach((a, j) => {
        const e = relError(a, ref[j]);
        // 1e-5: the scaled kernel computes the bias correction with f32 pow (it knows the skips, the CPU does not)
        assert.ok(e < 1e-5, `step ${step}: tensor ${j} differs from unscaled Adam by ${e}`);
      });
      assert.ok(after.some((a, j) => relError(a, before[j]) > 1e-4), `step ${step}: nothing was updated`);
    }
  }
  const counted = tf.concat(skips);
  assert.deepEqual([...(await counted.data())], [2, 2], 'skipped steps counted per variable');
  counted.dispose();
  tf.dispose([...w, ...m, ...v, ...w2, ...m2, ...v2, ...skips]);
  scaler.dispose();
  assert.equal(tf.memory().numTensors, tensors, 'tensors leaked');
});
