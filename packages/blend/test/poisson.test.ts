import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createImage } from '@facecomb/image';
import { poissonBlend, blendFace, multiband, reduce } from '../src/index.js';
import { noisyImage, gradientPlate, ellipseMask, matrixAbout } from './synth.js';

function discMask(w: number, h: number, cx: number, cy: number, r: number, feather = 0): ReturnType<typeof createImage> {
  const m = createImage(w, h, 1);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const d = Math.hypot(x - cx, y - cy);
    m.data[y * w + x] = d <= r - feather ? 1 : d >= r ? 0 : (r - d) / feather;
  }
  return m;
}

test('poisson on a constant-offset source reproduces the plate inside the mask (to 1e-4)', () => {
  const w = 120, h = 100;
  const plate = noisyImage(w, h, 3, 21);
  for (const feather of [0, 10]) {
    const mask = discMask(w, h, 58, 47, 38, feather);
    const source = { ...plate, data: plate.data.map((v, i) => v + 0.1 + 0.05 * (i % 3)) };
    const r = poissonBlend(plate, source, mask, { tolerance: 1e-8 });
    assert.ok(r.unknowns > 4000, `${r.unknowns} unknowns`);
    let maxErr = 0;
    for (let p = 0; p < w * h; p++) {
      if (mask.data[p] <= 0) continue;
      for (let k = 0; k < 3; k++) maxErr = Math.max(maxErr, Math.abs(r.image.data[p * 3 + k] - plate.data[p * 3 + k]));
    }
    assert.ok(maxErr < 1e-4, `feather ${feather}: max error ${maxErr} after ${r.iterations} iterations`);
    // a fast solver: far fewer iterations than the ~n^2 of plain Jacobi on a 76 px wide region
    assert.ok(Math.max(...r.iterations) < 150, `iterations ${r.iterations}`);
  }
});

test('poisson keeps the source gradients inside and matches the plate on the boundary', () => {
  // a source with its own detail on a different base level: the result inside is source + a harmonic
  // correction, so its Laplacian equals the source's away from the boundary
  const w = 90, h = 90;
  const plate = gradientPlate(w, h);
  const source = noisyImage(w, h, 3, 5);
  for (let i = 0; i < source.data.length; i++) source.data[i] = 0.3 * source.data[i] + 0.6;
  const mask = discMask(w, h, 45, 45, 30);
  const r = poissonBlend(plate, source, mask, { tolerance: 1e-9 });
  let maxLap = 0;
  const lap = (d: Float32Array, p: number, k: number) => 4 * d[p * 3 + k] - d[(p - 1) * 3 + k] - d[(p + 1) * 3 + k] - d[(p - w) * 3 + k] - d[(p + w) * 3 + k];
  for (let y = 1; y < h - 1; y++) for (let x = 1; x < w - 1; x++) {
    const p = y * w + x;
    if (mask.data[p] <= 0) continue;
    // every pixel of the region: with the plate's values on the outside neighbours the equation holds exactly
    for (let k = 0; k < 3; k++) maxLap = Math.max(maxLap, Math.abs(lap(r.image.data, p, k) - lap(source.data, p, k) + 0) * (isInterior(mask.data, p, w) ? 1 : 0));
  }
  assert.ok(maxLap < 1e-5, `Laplacian mismatch ${maxLap}`);
  // outside the region nothing moved
  for (let p = 0; p < w * h; p++) if (mask.data[p] <= 0) for (let k = 0; k < 3; k++) assert.equal(r.image.data[p * 3 + k], plate.data[p * 3 + k]);
});

function isInterior(m: Float32Array, p: number, w: number): boolean {
  return m[p - 1] > 0 && m[p + 1] > 0 && m[p - w] > 0 && m[p + w] > 0;
}

test('poisson of a flat source on a linearly lit plate gives back the plate (the harmonic fill of a ramp is the ramp)', () => {
  const w = 140, h = 110;
  const plate = gradientPlate(w, h);
  const flat = createImage(w, h, 3);
  for (let p = 0; p < w * h; p++) { flat.data[p * 3] = 0.9; flat.data[p * 3 + 1] = 0.2; flat.data[p * 3 + 2] = 0.2; }
  const r = poissonBlend(plate, flat, discMask(w, h, 70, 55, 45), { tolerance: 1e-9 });
  let maxErr = 0;
  for (let i = 0; i < plate.data.length; i++) maxErr = Math.max(maxErr, Math.abs(r.image.data[i] - plate.data[i]));
  assert.ok(maxErr < 1e-4, `max error ${maxErr}`);
});

test('poisson through blendFace: a face warped from the plate plus an offset lands back on the plate', () => {
  const W = 160, H = 130, S = 96;
  const plate = noisyImage(W, H, 3, 8);
  const m = matrixAbout(80, 66, 1, 0, S);
  // an integer-shift crop of the plate, brightened: a constant-offset source in crop space
  const crop = createImage(S, S, 3);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) for (let k = 0; k < 3; k++) {
    crop.data[(y * S + x) * 3 + k] = plate.data[((y + 66 - S / 2) * W + x + 80 - S / 2) * 3 + k] + 0.15;
  }
  // chroma 0: the crop's colour as it is (the default smoothing would change this noisy crop's colours)
  const r = blendFace(plate, crop, ellipseMask(S), m, { mode: 'poisson', feather: 8, tolerance: 1e-9, chroma: 0 });
  let maxErr = 0;
  for (let i = 0; i < plate.data.length; i++) maxErr = Math.max(maxErr, Math.abs(r.image.data[i] - plate.data[i]));
  assert.ok(maxErr < 1e-4, `max error ${maxErr}`);
  assert.ok(r.iterations && r.iterations.length === 3 && r.iterations[0] > 0);
});

test('poisson, multiband and the pyramids refuse channel counts they are not written for, saying what they take', () => {
  const grey = noisyImage(16, 16, 1, 3), rgba = noisyImage(16, 16, 4, 4), mask = discMask(16, 16, 8, 8, 5);
  assert.throws(() => poissonBlend(grey, grey, mask), /poisson: the plate has 1 channel\(s\); the solver is written for RGB/);
  assert.throws(() => multiband(rgba, rgba, mask, { levels: 1 }), /multiband: the face has 4 channel\(s\); the blend is written for RGB/);
  assert.throws(() => reduce(rgba.data, 16, 16, 4, new Float32Array(8 * 8 * 4), new Float32Array(16 * 8 * 4)), /pyramid: 4 channels; images are RGB \(3\) and masks 1/);
});
