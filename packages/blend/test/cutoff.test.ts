import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type Image } from '@facecomb/image';
import { blendFace, boxBlur, cutoffSigma, DEFAULT_PLATE_CUTOFF, type BlendOptions } from '../src/index.js';
import { parseParams } from '../src/stages.js';
import { ellipseMask, gradientPlate, matrixAbout } from './synth.js';

const W = 240, H = 200, S = 128;
const M = matrixAbout(120, 100, 1, 0, S); // crop px = plate px, the crop centred on the plate
const mask = ellipseMask(S);
// the face width the blend uses: the square root of the mask's bounding-box area (crop px = plate px here)
const FACE = Math.sqrt(87 * 107);
const CYCLES = 6; // a feature scale: eyes, nose and mouth shading lie at 4-12 cycles per face width
const AMP = 0.08;
const k = (2 * Math.PI * CYCLES) / FACE;
// a box one period of the stripes wide averages them away
const R = Math.round(FACE / CYCLES / 2);

/** Box mean of radius R per channel (clamped borders). */
function boxMean(img: Image): Image {
  const out = createImage(img.width, img.height, img.channels);
  for (let c = 0; c < img.channels; c++) {
    const plane = { width: img.width, height: img.height, channels: 1, data: new Float32Array(img.width * img.height) };
    for (let p = 0; p < plane.data.length; p++) plane.data[p] = img.data[p * img.channels + c];
    boxBlur(plane, R, 1);
    for (let p = 0; p < plane.data.length; p++) out.data[p * img.channels + c] = plane.data[p];
  }
  return out;
}

/** The target's features in the plate: horizontal stripes at CYCLES per face width, on gradient light. */
function plateWithFeatures(): Image {
  const img = gradientPlate(W, H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < 3; c++) img.data[(y * W + x) * 3 + c] += AMP * Math.sin(k * y);
  return img;
}

/** The swap: another skin colour and its own features, vertical stripes at the same scale. */
function swapFace(): Image {
  const img = createImage(S, S, 3);
  const rgb = [0.8, 0.45, 0.4];
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) for (let c = 0; c < 3; c++) img.data[(y * S + x) * 3 + c] = rgb[c] + AMP * Math.sin(k * (x - S / 2 + 120));
  return img;
}

/**
 * Amplitude of the pattern sin(k·coord) (coord x or y of the plate) in the green channel over the mask's
 * core, measured on the image less its box mean (the light and the skin colour taken out).
 */
function amplitude(img: Image, lp: Image, core: (x: number, y: number) => boolean, along: 'x' | 'y'): number {
  let s = 0, q = 0;
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    if (!core(x, y)) continue;
    const ph = k * (along === 'x' ? x : y), i = (y * W + x) * 3 + 1;
    // in quadrature: the amplitude whatever the phase
    s += (img.data[i] - lp.data[i]) * Math.sin(ph);
    q += (img.data[i] - lp.data[i]) * Math.cos(ph);
  }
  return (2 / countCore(core)) * Math.hypot(s, q);
}

function countCore(core: (x: number, y: number) => boolean): number {
  let c = 0;
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (core(x, y)) c++;
  return c;
}

/** Mean |low-pass(out) − low-pass(plate light)| over the core, all channels (the stripes averaged away). */
function lightError(lp: Image, core: (x: number, y: number) => boolean): number {
  const b = boxMean(gradientPlate(W, H));
  let e = 0;
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (core(x, y)) for (let c = 0; c < 3; c++) e += Math.abs(lp.data[(y * W + x) * 3 + c] - b.data[(y * W + x) * 3 + c]);
  return e / (3 * countCore(core));
}

function deliver(opts: BlendOptions) {
  const r = blendFace(plateWithFeatures(), swapFace(), mask, M, { mode: 'multiband', feather: 6, contrast: false, ...opts });
  const roi = r.roi!, m = r.mask!;
  // the core: mask 1 and at least half a period from its edge, where a blend must show the swap alone
  const margin = Math.ceil(FACE / CYCLES / 2);
  const core = (x: number, y: number): boolean => {
    for (const [dx, dy] of [[0, 0], [margin, 0], [-margin, 0], [0, margin], [0, -margin]]) {
      const rx = x + dx - roi.x, ry = y + dy - roi.y;
      if (rx < 0 || ry < 0 || rx >= roi.width || ry >= roi.height || m.data[ry * roi.width + rx] < 0.999) return false;
    }
    return true;
  };
  const lp = boxMean(r.image);
  return { swap: amplitude(r.image, lp, core, 'x') / AMP, target: amplitude(r.image, lp, core, 'y') / AMP, light: lightError(lp, core) };
}

test('the plate cut-off keeps the swap\'s features and the plate\'s light; the old plate levels hand the target\'s features back', () => {
  const now = deliver({});
  // the swap's mid-frequency features survive whole, the target's are gone, the light is the plate's
  assert.ok(now.swap > 0.9, `default: swap features at ${now.swap.toFixed(3)} of their amplitude`);
  assert.ok(now.target < 0.05, `default: target features at ${now.target.toFixed(3)} of their amplitude`);
  assert.ok(now.light < 0.01, `default: low-pass differs from the plate's light by ${now.light.toFixed(4)}`);
  // no light transfer: the swap's own skin colour (0.8, 0.45, 0.4 against the plate's grey ramp) shows
  const none = deliver({ plateCutoff: 0 });
  assert.ok(none.light > 0.1, `cutoff 0: low-pass error ${none.light.toFixed(4)}`);
  assert.ok(none.swap > 0.9 && none.target < 0.05, `cutoff 0: swap ${none.swap}, target ${none.target}`);
  // the old default (the two coarsest pyramid levels from the plate) shows the target's features, not the swap's
  const old = deliver({ plateLevels: 2 });
  // (measured: about half of each, a double exposure of the two faces' features)
  assert.ok(old.target > 0.3, `plateLevels 2: target features at ${old.target.toFixed(3)}`);
  assert.ok(old.swap < 0.75, `plateLevels 2: swap features at ${old.swap.toFixed(3)}`);
  // a cut-off above the features' scale hands them back too: the cut-off is what decides
  const high = deliver({ plateCutoff: 4 * CYCLES });
  assert.ok(high.target > 0.5 && high.swap < 0.5, `cutoff ${4 * CYCLES}: swap ${high.swap.toFixed(3)}, target ${high.target.toFixed(3)}`);
});

test('the cut-off is in cycles per face width: the same pattern scaled with the face gives the same share', () => {
  // the sigma of the low-pass grows with the face
  assert.ok(Math.abs(cutoffSigma(2, 400) - 2 * cutoffSigma(2, 200)) < 1e-9);
  // half response at the cut-off
  const s = cutoffSigma(DEFAULT_PLATE_CUTOFF, FACE), f = DEFAULT_PLATE_CUTOFF / FACE;
  assert.ok(Math.abs(Math.exp(-2 * Math.PI ** 2 * s * s * f * f) - 0.5) < 1e-9);
});

test('bad plate-share params give clear errors', () => {
  assert.throws(() => parseParams({ plateCutoff: 2, plateLevels: 2 }), /give 'plateCutoff' or 'plateLevels', not both.*use 'plateCutoff'/);
  assert.throws(() => parseParams({ plateCutoff: -1 }), /param 'plateCutoff' must be a number >= 0 \(cycles per face width/);
  assert.throws(() => parseParams({ plateCutoff: 'low' }), /param 'plateCutoff' must be a number >= 0/);
  assert.throws(() => parseParams({ plateLevels: 1.5 }), /param 'plateLevels' must be an integer >= 0.*prefer 'plateCutoff'/);
  assert.throws(() => blendFace(plateWithFeatures(), swapFace(), mask, M, { plateCutoff: 2, plateLevels: 2 }), /plateCutoff or plateLevels, not both/);
  assert.throws(() => blendFace(plateWithFeatures(), swapFace(), mask, M, { plateCutoff: Number.NaN }), /plateCutoff must be a number >= 0/);
  // old pipelines still run: plateLevels alone is the old blend
  assert.equal(parseParams({ plateLevels: 2 }).plateLevels, 2);
  assert.equal(parseParams({}).plateLevels, undefined);
});
