import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type Image } from '@facecomb/image';
import { checkThresholds, edgeBand, evenly, gradient, highFrequency, maskedPsnr, maskedSsim, parseScoreParams, rasterise, regionMean, type Figures } from '../src/index.js';

/** A deterministic textured RGB image (sums of sines) of side n. */
function texture(n: number, freq: number): Image {
  const img = createImage(n, n, 3);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) for (let c = 0; c < 3; c++) {
    img.data[(y * n + x) * 3 + c] = 0.5 + 0.2 * Math.sin(freq * x + c) * Math.cos(freq * 0.7 * y);
  }
  return img;
}

test('PSNR inside a mask counts only the masked pixels', () => {
  const a = createImage(8, 8, 3, 0.5), b = createImage(8, 8, 3, 0.5), mask = createImage(8, 8, 1);
  for (let p = 0; p < 32; p++) mask.data[p] = 1; // top half
  for (let p = 32 * 3; p < 64 * 3; p++) b.data[p] = 0; // the bottom half differs: not seen
  assert.equal(maskedPsnr(a, b, mask), 99);
  for (let p = 0; p < 32 * 3; p++) b.data[p] = 0.6; // error 0.1 everywhere inside: 20 dB
  assert.ok(Math.abs(maskedPsnr(a, b, mask) - 20) < 1e-4);
});

test('SSIM is 1 for the same image and low against a flat one', () => {
  const a = texture(32, 1.3), mask = createImage(32, 32, 1, 1);
  assert.ok(Math.abs(maskedSsim(a, a, mask) - 1) < 1e-6);
  const flat = createImage(32, 32, 3, 0.5);
  assert.ok(maskedSsim(a, flat, mask) < 0.2);
});

test('high-frequency energy: fine texture has more than coarse', () => {
  const all = new Uint8Array(32 * 32).fill(1);
  const fine = regionMean(highFrequency(texture(32, 2.5), 1), all), coarse = regionMean(highFrequency(texture(32, 0.2), 1), all);
  assert.ok(fine > 20 * coarse, `fine ${fine} vs coarse ${coarse}`);
});

test('a step at the mask border shows as gradient in the edge band', () => {
  const mask = createImage(20, 20, 1);
  const square: [number, number][] = [[5, 5], [14, 5], [14, 14], [5, 14]];
  rasterise(square, 20, 20).forEach((v, p) => (mask.data[p] = v));
  const band = edgeBand(mask, 1);
  assert.equal(band[10 * 20 + 10], 0, 'the centre is not on the edge');
  assert.equal(band[10 * 20 + 5], 1, 'the border is');
  const plate = createImage(20, 20, 3, 0.5);
  const pasted = createImage(20, 20, 3, 0.5);
  for (let p = 0; p < 400; p++) if (mask.data[p]) for (let c = 0; c < 3; c++) pasted.data[p * 3 + c] = 0.7;
  assert.equal(regionMean(gradient(plate), band), 0);
  assert.ok(regionMean(gradient(pasted), band) > 0.02);
});

test('thresholds: breaches name the figure; unmeasured figures say what to add', () => {
  const figures = { identityRetrieval: 0.5, seamRatio: null, landmarkError: 0.1 } as unknown as Figures;
  const b = checkThresholds(figures, { identityRetrieval: { min: 0.9 }, seamRatio: { max: 1.5 }, landmarkError: { max: 0.2 } });
  assert.deepEqual(b.map((x) => x.figure), ['identityRetrieval', 'seamRatio']);
  assert.match(b[0].message, /identityRetrieval = 0\.5000 is below its min 0\.9/);
  assert.match(b[1].message, /seamRatio was not measured .*blend/);
  assert.throws(() => parseScoreParams({ thresholds: { seamRatio: { below: 2 } } }), /thresholds\.seamRatio' must be \{min: number\}/);
  assert.throws(() => parseScoreParams({ perIdentity: 0 }), /perIdentity' must be an integer in \[1, 10000\]/);
});

test('evenly spaced picks keep the first and the last', () => {
  assert.deepEqual(evenly([1, 2, 3, 4, 5, 6, 7], 3), [1, 4, 7]);
  assert.deepEqual(evenly([1, 2], 5), [1, 2]);
});
