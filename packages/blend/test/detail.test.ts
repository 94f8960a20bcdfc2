import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type Image } from '@facecomb/image';
import { blendFace } from '../src/index.js';
import { parseParams } from '../src/stages.js';
import { ellipseMask, gradientPlate, matrixAbout } from './synth.js';

// a 32 px crop of a face 128 plate px across: 0.25 crop px per plate px, the crop's Nyquist frequency is
// 0.125 cycles per plate px
const W = 200, S = 32, SCALE = 0.25;
const M = matrixAbout(100, 100, SCALE, 0, S);
const FINE = 0.375; // cycles per plate px: pores and lashes, far above anything the crop holds
const FEATURE = 6 / 128; // cycles per plate px: 6 per face width, where people differ

/** The plate: light, the target's features (horizontal stripes) and a fine texture (vertical stripes). */
function plate(): Image {
  const img = gradientPlate(W, W);
  for (let y = 0; y < W; y++) for (let x = 0; x < W; x++) {
    const v = 0.06 * Math.sin(2 * Math.PI * FEATURE * y) + 0.04 * Math.sin(2 * Math.PI * FINE * x);
    for (let c = 0; c < 3; c++) img.data[(y * W + x) * 3 + c] += v;
  }
  return img;
}

/** The swap at 32 px: skin with its own features (vertical stripes at 6 per face width). */
function swap(): Image {
  const img = createImage(S, S, 3);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
    const v = 0.5 + 0.06 * Math.sin((2 * Math.PI * FEATURE * x) / SCALE);
    img.data.set([v + 0.1, v, v - 0.05], (y * S + x) * 3);
  }
  return img;
}

/** Amplitude of a frequency along x or y in the green channel over the face's middle, 64 px: 3 periods of FEATURE, 24 of FINE. */
function amplitude(img: Image, f: number, axis: 'x' | 'y'): number {
  let s = 0, c = 0, n = 0;
  for (let y = 68; y < 132; y++) for (let x = 68; x < 132; x++) {
    const t = 2 * Math.PI * f * (axis === 'x' ? x : y);
    const v = img.data[(y * W + x) * 3 + 1];
    s += v * Math.sin(t); c += v * Math.cos(t); n++;
  }
  return (2 * Math.hypot(s, c)) / n;
}

test('plate detail adds the plate\'s texture above the crop\'s resolution, not the plate\'s features', () => {
  const p = plate(), mask = ellipseMask(S);
  const off = blendFace(p, swap(), mask, M, { plateDetail: 0, chroma: 0 }).image;
  const on = blendFace(p, swap(), mask, M, { plateDetail: 2, chroma: 0 }).image;
  // the fine texture: absent from the upscaled crop, the plate's (0.04, 0.79 of it above the cut-off) with plate detail
  assert.ok(amplitude(off, FINE, 'x') < 0.005, `fine texture without plate detail ${amplitude(off, FINE, 'x').toFixed(4)}`);
  assert.ok(amplitude(on, FINE, 'x') > 0.025, `fine texture with plate detail ${amplitude(on, FINE, 'x').toFixed(4)}`);
  // the swap's features stay, the target's do not come back
  assert.ok(amplitude(on, FEATURE, 'x') > 0.04, `the swap's features ${amplitude(on, FEATURE, 'x').toFixed(4)}`);
  assert.ok(amplitude(on, FEATURE, 'y') < 0.01, `the target's features ${amplitude(on, FEATURE, 'y').toFixed(4)}`);
  // a crop as fine as the plate gets nothing added
  const same = matrixAbout(100, 100, 1, 0, 128);
  const big = createImage(128, 128, 3).data.fill(0.5);
  const crop = { width: 128, height: 128, channels: 3, data: big };
  const a = blendFace(p, crop, ellipseMask(128), same, { plateDetail: 2, chroma: 0 }).image;
  const b = blendFace(p, crop, ellipseMask(128), same, { plateDetail: 0, chroma: 0 }).image;
  assert.deepEqual(a.data, b.data);
});

test('plateDetail params: range checked, off with the old blend', () => {
  assert.throws(() => parseParams({ plateDetail: -1 }), /param 'plateDetail' must be a number 0-4/);
  assert.throws(() => parseParams({ plateLevels: 2, plateDetail: 1 }), /'plateDetail' works with 'plateCutoff'/);
  assert.equal(parseParams({ plateLevels: 2 }).plateDetail, 0);
  assert.equal(parseParams({}).plateDetail, 2);
});
