import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createImage } from '@facecomb/image';
import { colourTransfer, rgbToLab, labToRgb } from '../src/index.js';
import { noisyImage } from './synth.js';

function labStats(img: ReturnType<typeof createImage>, mask: Float32Array): { mean: number[]; std: number[] } {
  const lab = new Float64Array(3);
  const s = [0, 0, 0], s2 = [0, 0, 0];
  let n = 0;
  for (let p = 0; p < img.width * img.height; p++) {
    if (mask[p] <= 0) continue;
    rgbToLab(img.data[p * 3], img.data[p * 3 + 1], img.data[p * 3 + 2], lab);
    for (let k = 0; k < 3; k++) { s[k] += lab[k]; s2[k] += lab[k] * lab[k]; }
    n++;
  }
  const mean = s.map((v) => v / n);
  return { mean, std: s2.map((v, k) => Math.sqrt(v / n - mean[k] * mean[k])) };
}

test('Lab <-> RGB round trip', () => {
  const lab = new Float64Array(3), rgb = new Float64Array(3);
  for (const c of [[0, 0, 0], [1, 1, 1], [0.2, 0.5, 0.9], [0.9, 0.1, 0.3]]) {
    rgbToLab(c[0], c[1], c[2], lab);
    labToRgb(lab[0], lab[1], lab[2], rgb);
    for (let k = 0; k < 3; k++) assert.ok(Math.abs(rgb[k] - c[k]) < 1e-5, `${c} -> ${[...rgb]}`);
  }
  rgbToLab(1, 1, 1, lab);
  assert.ok(Math.abs(lab[0] - 100) < 0.01 && Math.abs(lab[1]) < 0.01 && Math.abs(lab[2]) < 0.01);
});

test('lab transfer matches the face\'s Lab mean and std to the plate\'s inside the mask', () => {
  const w = 64, h = 64;
  // skin-like colours: a warm plate with strong variation, a cooler, flatter face
  const plate = noisyImage(w, h, 3, 1), face = noisyImage(w, h, 3, 2);
  const pBase = [0.62, 0.45, 0.36], fBase = [0.45, 0.42, 0.48];
  for (let i = 0; i < w * h * 3; i++) {
    plate.data[i] = pBase[i % 3] + 0.25 * (plate.data[i] - 0.5);
    face.data[i] = fBase[i % 3] + 0.1 * (face.data[i] - 0.5);
  }
  const mask = new Float32Array(w * h);
  for (let y = 8; y < 56; y++) for (let x = 8; x < 56; x++) mask[y * w + x] = 1;
  const m = { width: w, height: h, channels: 1, data: mask };
  const before = labStats(face, mask), target = labStats(plate, mask);
  colourTransfer(face, plate, m, 'lab');
  const after = labStats(face, mask);
  for (let k = 0; k < 3; k++) {
    assert.ok(Math.abs(after.mean[k] - target.mean[k]) < 0.05 * Math.abs(before.mean[k] - target.mean[k]) + 0.2, `mean ${k}: ${after.mean[k]} vs ${target.mean[k]} (was ${before.mean[k]})`);
    assert.ok(Math.abs(after.std[k] - target.std[k]) < 0.05 * target.std[k] + 0.2, `std ${k}: ${after.std[k]} vs ${target.std[k]}`);
  }
});

test('histogram match gives the face the plate\'s per-channel distribution inside the mask', () => {
  const w = 80, h = 80;
  const plate = noisyImage(w, h, 3, 9);
  for (let i = 0; i < plate.data.length; i++) plate.data[i] = plate.data[i] ** 2; // skewed distribution
  const face = noisyImage(w, h, 3, 10);
  const mask = new Float32Array(w * h).fill(1);
  colourTransfer(face, plate, { width: w, height: h, channels: 1, data: mask }, 'histogram');
  for (let k = 0; k < 3; k++) {
    const a = Array.from({ length: w * h }, (_, p) => face.data[p * 3 + k]).sort((x, y) => x - y);
    const b = Array.from({ length: w * h }, (_, p) => plate.data[p * 3 + k]).sort((x, y) => x - y);
    for (const q of [0.1, 0.25, 0.5, 0.75, 0.9]) {
      const i = Math.floor(q * (a.length - 1));
      assert.ok(Math.abs(a[i] - b[i]) < 0.01, `channel ${k} quantile ${q}: ${a[i]} vs ${b[i]}`);
    }
  }
});
