import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf, maskedSsim, maskedMsSsim, maskedL1, reconstructionLoss, msScales, resolveConfig } from '../src/index.js';
import { Rng } from '../src/rng.js';

await initEngine({ backend: 'wasm', log: () => undefined });

function noiseImage(r: number, seed: number, b = 2): tf.Tensor4D {
  const rng = new Rng(seed, 'img');
  const v = new Float32Array(b * r * r * 3);
  // smooth structure plus texture, like a face crop
  for (let i = 0; i < b * r * r; i++) {
    const x = i % r, y = Math.floor(i / r) % r;
    for (let c = 0; c < 3; c++) v[i * 3 + c] = 0.5 + 0.3 * Math.sin(x / 3 + c) * Math.cos(y / 4) + 0.1 * (rng.next() - 0.5);
  }
  return tf.tensor4d(v, [b, r, r, 3]);
}

const value = async (t: tf.Tensor) => (await t.data())[0];

test('SSIM is 1 for identical images and falls as noise grows', async () => {
  const a = noiseImage(32, 1);
  const m = tf.ones([2, 32, 32, 1]) as tf.Tensor4D;
  assert.ok(Math.abs((await value(maskedSsim(a, a, m))) - 1) < 1e-5);
  const s1 = await value(maskedSsim(a, tf.clipByValue(tf.add(a, tf.randomNormal(a.shape, 0, 0.05, 'float32', 3)), 0, 1) as tf.Tensor4D, m));
  const s2 = await value(maskedSsim(a, tf.clipByValue(tf.add(a, tf.randomNormal(a.shape, 0, 0.2, 'float32', 3)), 0, 1) as tf.Tensor4D, m));
  assert.ok(s1 < 0.999 && s2 < s1, `ssim ${s1} then ${s2}`);
});

test('masked losses ignore differences outside the mask', async () => {
  const r = 32;
  const a = noiseImage(r, 2);
  const maskV = new Float32Array(2 * r * r);
  for (let i = 0; i < maskV.length; i++) maskV[i] = (i % r) < r / 2 ? 1 : 0; // left half
  const mask = tf.tensor4d(maskV, [2, r, r, 1]);
  // b differs from a only on the right half
  const right = tf.tensor4d(new Float32Array(2 * r * r).map((_, i) => ((i % r) >= r / 2 + 8 ? 1 : 0)), [2, r, r, 1]); // beyond any 7x7 window touching the mask
  const b = tf.add(a, tf.mul(right, 0.3)) as tf.Tensor4D;
  assert.ok((await value(maskedL1(a, b, mask))) < 1e-6);
  assert.ok(Math.abs((await value(maskedSsim(a, b, mask))) - 1) < 1e-4);
  const full = tf.ones([2, r, r, 1]) as tf.Tensor4D;
  assert.ok((await value(maskedL1(a, b, full))) > 0.05);
});

test('MS-SSIM: scales that fit, 1 for identical images, lower for blur', async () => {
  assert.equal(msScales(128, 7), 5);
  assert.equal(msScales(64, 7), 4);
  assert.equal(msScales(16, 7), 2);
  const a = noiseImage(128, 3, 1);
  const m = tf.ones([1, 128, 128, 1]) as tf.Tensor4D;
  assert.ok(Math.abs((await value(maskedMsSsim(a, a, m))) - 1) < 1e-4);
  const blurred = tf.avgPool(a, 3, 1, 'same') as tf.Tensor4D;
  const ms = await value(maskedMsSsim(a, blurred, m));
  assert.ok(ms < 0.999 && ms > 0, `ms-ssim ${ms}`);
});

test('the training loss is L1 + (1 - SSIM)/2 with configurable weights, and has finite gradients', async () => {
  const cfg = resolveConfig({ resolution: 64, startResolution: 16, loss: { ssim: 1, l1: 1 } }, ['a', 'b']);
  const a = noiseImage(32, 4);
  const b = noiseImage(32, 5);
  const m = tf.ones([2, 32, 32, 1]) as tf.Tensor4D;
  const l = await value(reconstructionLoss(a, b, m, cfg.loss));
  const expect = (await value(maskedL1(a, b, m))) + (1 - (await value(maskedSsim(a, b, m)))) / 2;
  assert.ok(Math.abs(l - expect) < 1e-5, `${l} vs ${expect}`);
  const onlyL1 = await value(reconstructionLoss(a, b, m, { ...cfg.loss, ssim: 0, l1: 2 }));
  assert.ok(Math.abs(onlyL1 - 2 * (await value(maskedL1(a, b, m)))) < 1e-6);
  const g = tf.grad((y: tf.Tensor) => reconstructionLoss(y as tf.Tensor4D, b, m, { ...cfg.loss, msssim: true }))(a);
  const gv = await g.data();
  assert.ok(gv.every(Number.isFinite));
  assert.ok(gv.some((v) => v !== 0));
});

test('msssim: true applies from 128 px, a number from that resolution, false never', async () => {
  const { usesMsSsim } = await import('../src/loss.js');
  const w = { ssim: 1, l1: 1, window: 7 };
  assert.equal(usesMsSsim({ ...w, msssim: true }, 64), false);
  assert.equal(usesMsSsim({ ...w, msssim: true }, 128), true);
  assert.equal(usesMsSsim({ ...w, msssim: 32 }, 32), true);
  assert.equal(usesMsSsim({ ...w, msssim: 32 }, 16), false);
  assert.equal(usesMsSsim({ ...w, msssim: false }, 1024), false);
  assert.throws(() => resolveConfig({ loss: { msssim: 24 } }, ['a', 'b']), /'loss\.msssim' = 24: must be a boolean or one of 16, 32/);
});

test('the detail term (gradient L1) is 0 for identical images and grows with blur; its weight adds it to the loss', async () => {
  const { maskedGradientL1 } = await import('../src/loss.js');
  const a = noiseImage(32, 6);
  const m = tf.ones([2, 32, 32, 1]) as tf.Tensor4D;
  assert.ok((await value(maskedGradientL1(a, a, m))) < 1e-7);
  const d3 = await value(maskedGradientL1(tf.avgPool(a, 3, 1, 'same') as tf.Tensor4D, a, m));
  const d5 = await value(maskedGradientL1(tf.avgPool(a, 5, 1, 'same') as tf.Tensor4D, a, m));
  assert.ok(d3 > 0.01 && d5 > d3, `detail ${d3} (3x3 blur), ${d5} (5x5 blur)`);
  // a uniform brightness shift changes L1 but no gradient: the detail term ignores it
  assert.ok((await value(maskedGradientL1(tf.add(a, 0.1) as tf.Tensor4D, a, m))) < 1e-6);
  const cfg = resolveConfig({ resolution: 32, loss: { detail: 2 } }, ['a', 'b']);
  const b = tf.avgPool(a, 3, 1, 'same') as tf.Tensor4D;
  const withDetail = await value(reconstructionLoss(b, a, m, cfg.loss));
  const without = await value(reconstructionLoss(b, a, m, { ...cfg.loss, detail: 0 }));
  assert.ok(Math.abs(withDetail - without - 2 * d3) < 1e-5, `${withDetail} - ${without} vs 2 * ${d3}`);
  assert.throws(() => resolveConfig({ loss: { detail: -1 } }, ['a', 'b']), /'loss\.detail' = -1: must be a number >= 0/);
});
