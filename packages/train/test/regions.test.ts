import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf, reconstructionLoss, resolveConfig, regionWeightMap, augment } from '../src/index.js';
import { Rng } from '../src/rng.js';
import { facePoints } from './face-points.js';

await initEngine({ backend: 'wasm', log: () => undefined });

const R = 32;
const pts = facePoints(64, 0, new Rng(1, 'face'));
/** Mean of a [R, R] map over the pixels within radius rad of a point given in 64 px crop pixels. */
const around = (map: Float32Array, [x, y]: [number, number], rad = 1.5) => {
  let s = 0, n = 0;
  for (let j = 0; j < R; j++) for (let i = 0; i < R; i++) if (Math.hypot(i - x / 2, j - y / 2) <= rad) { s += map[j * R + i]; n++; }
  return s / n;
};
const centre = (a: number, b: number): [number, number] => [pts.slice(a, b).reduce((s, p) => s + p[0], 0) / (b - a), pts.slice(a, b).reduce((s, p) => s + p[1], 0) / (b - a)];

test('region weights raise the loss gradient in the weighted region only', async () => {
  const cfg = resolveConfig({ resolution: R, regionWeights: { mouth: 4 }, loss: { ssim: 0, l1: 1 } }, ['a', 'b']);
  const w = regionWeightMap(pts, 64, R, cfg.loss.regionWeights);
  const rng = new Rng(2, 'img');
  const x = tf.tensor4d(Float32Array.from({ length: R * R * 3 }, () => rng.next()), [1, R, R, 3]);
  const y = tf.tensor4d(Float32Array.from({ length: R * R * 3 }, () => rng.next()), [1, R, R, 3]);
  const grad = async (mask: Float32Array) => {
    const g = tf.grad((t: tf.Tensor) => reconstructionLoss(t as tf.Tensor4D, x, tf.tensor4d(mask, [1, R, R, 1]), cfg.loss))(y);
    const v = await tf.sum(tf.abs(g), 3).data();
    return v as Float32Array;
  };
  const plain = await grad(new Float32Array(R * R).fill(1));
  const weighted = await grad(w);
  const mouth = centre(48, 68), cheek: [number, number] = [0.2 * 64, 0.6 * 64], eye = centre(36, 42);
  const gain = (p: [number, number]) => around(weighted, p) / around(plain, p);
  // the mouth's centre gets 1 + 4 times the weight of a cheek; the eyes (weight 0) stay like the cheek
  assert.ok(gain(mouth) / gain(cheek) > 4, `mouth ${gain(mouth)}, cheek ${gain(cheek)}`);
  assert.ok(Math.abs(gain(eye) / gain(cheek) - 1) < 1e-3, `eye ${gain(eye)}, cheek ${gain(cheek)}`);
  const both = regionWeightMap(pts, 64, R, { eyes: 2, brows: 1, mouth: 0 });
  assert.ok(around(both, eye, 1) > 2 && around(both, centre(17, 22), 1) > 1.5 && around(both, mouth) === 1);
  assert.throws(() => resolveConfig({ regionWeights: { nose: 1 } }, ['a', 'b']), /'regionWeights\.nose': unknown field; must be one of the known fields \(eyes, brows, mouth\)/);
  assert.throws(() => resolveConfig({ regionWeights: { eyes: -1 } }, ['a', 'b']), /'regionWeights\.eyes' = -1: must be a number >= 0/);
});

test('the augmentation warps the region-weighted mask with the crop', () => {
  const w = regionWeightMap(pts, 64, R, { eyes: 3, brows: 0, mouth: 3 });
  // an image that is the weight map itself: after the same warp, image and mask must agree inside the crop
  const x = new Float32Array(R * R * 3);
  for (let i = 0; i < R * R; i++) x[3 * i] = x[3 * i + 1] = x[3 * i + 2] = w[i] / 4;
  const aug = { rotate: 20, scale: 0.1, shift: 0.1, flip: true, colour: 0 };
  let moved = 0;
  for (let seed = 1; seed <= 4; seed++) {
    const a = augment({ x, m: w }, R, aug, new Rng(seed, 'aug'));
    let worst = 0;
    // compared inside the regions (weight > 1): the crop's border is filled differently for image (replicated) and mask (0)
    for (let k = 0; k < R * R; k++) if (a.x[3 * k] * 4 > 1.05) worst = Math.max(worst, Math.abs(a.x[3 * k] * 4 - a.m[k]));
    assert.ok(worst < 1e-4, `seed ${seed}: image and weighted mask differ by ${worst}`);
    moved += a.m.reduce((s, v, k) => s + Math.abs(v - w[k]), 0);
  }
  assert.ok(moved > 10, 'the warp moved the regions');
});
