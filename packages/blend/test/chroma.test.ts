import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type Image } from '@facecomb/image';
import { blendFace, smoothChroma } from '../src/index.js';
import { parseParams } from '../src/stages.js';
import { ellipseMask, gradientPlate, matrixAbout } from './synth.js';

const S = 64;
const luma = (img: Image, p: number): number => 0.2126 * img.data[3 * p] + 0.7152 * img.data[3 * p + 1] + 0.0722 * img.data[3 * p + 2];

/**
 * A decoder-like crop: skin with a dark eye (luma detail), a red mouth 16 px wide (coarse colour) and the
 * decoder's green-magenta checkerboard at equal luma (finest colour).
 */
function decodedCrop(noise: number): Image {
  const img = createImage(S, S, 3);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const p = y * S + x;
      let [r, g, b] = [0.8, 0.6, 0.5];
      if (Math.hypot(x - 20, y - 24) < 4) [r, g, b] = [0.15, 0.12, 0.1];
      if (Math.abs(x - 32) < 8 && Math.abs(y - 46) < 3) [r, g, b] = [0.75, 0.3, 0.3];
      // green vs magenta at equal luma: +n on G, the luma it adds taken back from R and B
      const s = (x + y) % 2 === 0 ? noise : -noise;
      const dg = s, dRB = (-0.7152 * s) / (0.2126 + 0.0722);
      img.data.set([r + dRB, g + dg, b + dRB], 3 * p);
    }
  }
  return img;
}

/** Mean |pixel - its 3x3 mean| of the G - Y colour difference: the checkerboard's amplitude. */
function fineColour(img: Image, x0: number, y0: number, x1: number, y1: number): number {
  const c = (x: number, y: number) => img.data[3 * (y * img.width + x) + 1] - luma(img, y * img.width + x);
  let s = 0, n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      let m = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) m += c(x + dx, y + dy) / 9;
      s += Math.abs(c(x, y) - m);
      n++;
    }
  }
  return s / n;
}

test('smoothChroma keeps the luma exactly and takes out the checkerboard colour, not the coarse colour', () => {
  const crop = decodedCrop(0.05);
  const out = smoothChroma(crop, 1);
  for (let p = 0; p < S * S; p++) assert.ok(Math.abs(luma(out, p) - luma(crop, p)) < 1e-5, `luma changed at pixel ${p}`);
  const before = fineColour(crop, 4, 4, 60, 60), after = fineColour(out, 4, 4, 60, 60);
  assert.ok(after < before / 10, `checkerboard colour ${before.toFixed(4)} -> ${after.toFixed(4)}`);
  // the mouth's red, 16 px wide, stays: R - G at its centre within 5 %
  const p = 46 * S + 32;
  const redIn = crop.data[3 * p] - crop.data[3 * p + 1], redOut = out.data[3 * p] - out.data[3 * p + 1];
  const clean = decodedCrop(0);
  const redClean = clean.data[3 * p] - clean.data[3 * p + 1];
  assert.ok(Math.abs(redOut - redClean) < 0.05 * redClean, `mouth colour ${redClean.toFixed(3)} -> ${redOut.toFixed(3)} (with noise ${redIn.toFixed(3)})`);
  // 0 is off: a copy
  assert.deepEqual(smoothChroma(crop, 0).data, crop.data);
});

test('the blend with chroma smoothing delivers less of the decoder colour noise, the same luma detail', () => {
  const plate = gradientPlate(160, 160);
  const m = matrixAbout(80, 80, 1, 0, S);
  const mask = ellipseMask(S);
  const crop = decodedCrop(0.05);
  const off = blendFace(plate, crop, mask, m, { chroma: 0 }).image;
  const on = blendFace(plate, crop, mask, m, { chroma: 1 }).image;
  // the crop is centred: crop (x, y) is plate (x + 48, y + 48); the eye's surroundings
  const [x0, y0] = [48 + 12, 48 + 16];
  const fOff = fineColour(off, x0, y0, x0 + 16, y0 + 16), fOn = fineColour(on, x0, y0, x0 + 16, y0 + 16);
  assert.ok(fOn < fOff / 4, `fine colour around the eye ${fOff.toFixed(4)} -> ${fOn.toFixed(4)}`);
  const eye = (160 * (48 + 24) + 48 + 20);
  assert.ok(Math.abs(luma(on, eye) - luma(off, eye)) < 0.01, 'the eye keeps its luma');
});

test('a bad chroma param names the param and its range', () => {
  assert.throws(() => parseParams({ chroma: -1 }), /param 'chroma' must be a number 0-8/);
  assert.throws(() => parseParams({ chroma: 'soft' }), /param 'chroma'/);
  assert.equal(parseParams({ chroma: 1.5 }).chroma, 1.5);
});
