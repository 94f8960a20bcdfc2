import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createImage, warpAffine, applyAffine, invertAffine, type Affine } from '@facecomb/image';
import { unwarp, plateRoi, cropToRoi, reduce, expand, half } from '../src/index.js';
import { gradientPlate, noisyImage, matrixAbout } from './synth.js';

test('unwarp of a crop taken by an integer shift lands bit for bit where it came from', () => {
  const plate = noisyImage(90, 70, 3, 7);
  const m: Affine = [1, 0, -23, 0, 1, -11]; // crop (x, y) = plate (x + 23, y + 11)
  const crop = warpAffine(plate, m, 40, 40);
  const ones = createImage(40, 40, 1, 1);
  const u = unwarp(crop, ones, m, plate.width, plate.height, 0)!;
  assert.ok(u.roi.x <= 23 && u.roi.y <= 11 && u.roi.x + u.roi.width >= 63 && u.roi.y + u.roi.height >= 51, JSON.stringify(u.roi));
  let checked = 0;
  for (let y = 11; y < 51; y++) for (let x = 23; x < 63; x++) {
    for (let k = 0; k < 3; k++) {
      const a = u.face.data[((y - u.roi.y) * u.roi.width + (x - u.roi.x)) * 3 + k];
      const b = plate.data[(y * plate.width + x) * 3 + k];
      assert.equal(a, b, `pixel (${x}, ${y}) channel ${k}`);
    }
    assert.equal(u.mask.data[(y - u.roi.y) * u.roi.width + (x - u.roi.x)], 1);
    checked++;
  }
  assert.equal(checked, 1600);
});

test('unwarp inverts warpAffine under rotation and scale (no half-pixel shift)', () => {
  // bilinear sampling reproduces a linear image exactly, so a round trip through the crop must return the
  // plate's values wherever the crop covered it; any half-pixel or matrix-direction error shows up here
  const plate = gradientPlate(120, 100);
  const size = 96;
  const m = matrixAbout(61.3, 47.8, 1.7, 23, size); // plate -> crop, 1.7 crop px per plate px, rotated
  const crop = warpAffine(plate, m, size, size);
  const ones = createImage(size, size, 1, 1);
  const u = unwarp(crop, ones, m, plate.width, plate.height, 0)!;
  let checked = 0, maxErr = 0;
  for (let y = u.roi.y; y < u.roi.y + u.roi.height; y++) for (let x = u.roi.x; x < u.roi.x + u.roi.width; x++) {
    const [cx, cy] = applyAffine(m, x, y);
    if (cx < 1 || cy < 1 || cx > size - 2 || cy > size - 2) continue; // inside the crop, away from its edge
    for (let k = 0; k < 3; k++) {
      const a = u.face.data[((y - u.roi.y) * u.roi.width + (x - u.roi.x)) * 3 + k];
      maxErr = Math.max(maxErr, Math.abs(a - plate.data[(y * plate.width + x) * 3 + k]));
    }
    checked++;
  }
  assert.ok(checked > 2000, `only ${checked} pixels checked`);
  assert.ok(maxErr < 1e-5, `round-trip error ${maxErr}`);
  // a half-pixel shift would have moved values by half a gradient step (0.6 / 119 / 2 per px at least)
  assert.ok(0.6 / 119 / 2 / 1.7 > 100 * maxErr);
});

test('the ROI covers the warped mask and is clipped to the plate', () => {
  const m = matrixAbout(50, 40, 2, 30, 64);
  const roi = plateRoi([0, 0, 63, 63], m, 100, 80, 3)!;
  const inv = invertAffine(m);
  for (const [cx, cy] of [[0, 0], [63, 0], [0, 63], [63, 63]]) {
    const [px, py] = applyAffine(inv, cx, cy);
    assert.ok(px >= roi.x && px <= roi.x + roi.width - 1 && py >= roi.y && py <= roi.y + roi.height - 1, `corner ${cx},${cy} -> ${px},${py} outside ${JSON.stringify(roi)}`);
  }
  const clipped = plateRoi([0, 0, 63, 63], matrixAbout(2, 2, 0.5, 0, 64), 100, 80, 10)!;
  assert.equal(clipped.x, 0);
  assert.equal(clipped.y, 0);
  assert.ok(clipped.x + clipped.width <= 100 && clipped.y + clipped.height <= 80);
});

test('pyramid reduce/expand keep constants and linear ramps, and a Laplacian pyramid collapses back', () => {
  for (const [w, h] of [[37, 23], [64, 64], [5, 9]]) {
    const c = 3;
    const ramp = createImage(w, h, c);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) ramp.data[(y * w + x) * c + k] = 0.3 + 0.01 * x - 0.02 * y + 0.1 * k;
    const small = new Float32Array(half(w) * half(h) * c);
    const tmp = new Float32Array(w * h * c);
    reduce(ramp.data, w, h, c, small, tmp);
    // away from the clamped borders a linear ramp stays linear at half resolution
    for (let y = 1; y < half(h) - 1; y++) for (let x = 1; x < half(w) - 1; x++) {
      const want = 0.3 + 0.01 * 2 * x - 0.02 * 2 * y;
      assert.ok(Math.abs(small[(y * half(w) + x) * c] - want) < 1e-5, `reduce (${x},${y}) of ${w}x${h}`);
    }
    const back = new Float32Array(w * h * c);
    expand(small, w, h, c, back, tmp);
    const konst = new Float32Array(half(w) * half(h) * c).fill(0.42);
    expand(konst, w, h, c, back, tmp);
    for (const v of back) assert.ok(Math.abs(v - 0.42) < 1e-6);
    // Laplacian band + expanded coarse level = the image, exactly up to float rounding
    const noisy = noisyImage(w, h, c, w);
    const g1 = new Float32Array(half(w) * half(h) * c);
    reduce(noisy.data, w, h, c, g1, tmp);
    const up = new Float32Array(w * h * c);
    expand(g1, w, h, c, up, tmp);
    const band = noisy.data.map((v, i) => v - up[i]);
    expand(g1, w, h, c, band, tmp, true);
    for (let i = 0; i < band.length; i++) assert.ok(Math.abs(band[i] - noisy.data[i]) < 1e-6);
  }
});

test('unwarp samples exactly as warpAffine does (face edge-replicated, mask zero beyond the crop)', () => {
  const crop = noisyImage(64, 64, 3, 31);
  const mask = noisyImage(64, 64, 1, 32);
  const m = matrixAbout(70, 50, 1.3, -17, 64);
  const u = unwarp(crop, mask, m, 140, 110, 6)!;
  const toRoi = cropToRoi(m, u.roi);
  const face = warpAffine(crop, toRoi, u.roi.width, u.roi.height, { replicate: true });
  const mk = warpAffine(mask, toRoi, u.roi.width, u.roi.height, { border: 0 });
  let e = 0;
  for (let i = 0; i < face.data.length; i++) e = Math.max(e, Math.abs(face.data[i] - u.face.data[i]));
  for (let i = 0; i < mk.data.length; i++) e = Math.max(e, Math.abs(mk.data[i] - u.mask.data[i]));
  assert.ok(e < 1e-5, `max difference ${e}`);
});
