import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quantise, warpAffine, createImage, type Image } from '@facecomb/image';
import { blendFace, seamMetric, extractRoi, pyramidSpread, multiband, BLEND_MODES, type BlendMode } from '../src/index.js';
import { gradientPlate, noisyImage, flatFace, ellipseMask, matrixAbout, stats, lowpass, dilatedSupport } from './synth.js';

const W = 200, H = 160, S = 128;
// the crop covers 128 plate px, rotated 8 degrees, centred a bit right of the plate's centre
const M = matrixAbout(108, 82, 1, 8, S);

/** Plate-sized 0/1 map of the pixels where the blend mask is >= thr (from the ROI mask a blend returns). */
function inside(r: ReturnType<typeof blendFace>, thr: number): (x: number, y: number) => boolean {
  const roi = r.roi!, m = r.mask!;
  return (x, y) => {
    const rx = x - roi.x, ry = y - roi.y;
    return rx >= 0 && ry >= 0 && rx < roi.width && ry < roi.height && m.data[ry * roi.width + rx] >= thr;
  };
}

test('a flat face on a gradient-lit plate keeps the plate\'s low frequencies under multiband and poisson, not alpha', () => {
  const plate = gradientPlate(W, H);
  const face = flatFace(S, [0.85, 0.35, 0.3], 0.06); // flat colour + fine texture
  const mask = ellipseMask(S);
  const lpPlate = lowpass(plate, 6);
  const errors: Record<string, number> = {};
  const detail: Record<string, number> = {};
  for (const mode of BLEND_MODES) {
    // this plate has no detail at all, so contrast matching would halve the face's texture: off here
    const r = blendFace(plate, face, mask, M, { mode, feather: 6, contrast: false });
    const core = inside(r, 0.999);
    const lpOut = lowpass(r.image, 6);
    // mean |low-pass(out) - low-pass(plate)| over the mask's core, all channels
    let e = 0, n = 0;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      if (!core(x, y)) continue;
      for (let k = 0; k < 3; k++) e += Math.abs(lpOut.data[(y * W + x) * 3 + k] - lpPlate.data[(y * W + x) * 3 + k]);
      n += 3;
    }
    errors[mode] = e / n;
    // the face's fine texture must come through: std of (out - low-pass(out)) inside the core
    const hp = { ...r.image, data: r.image.data.map((v, i) => v - lpOut.data[i]) };
    detail[mode] = stats(hp, core, 1).std;
  }
  // alpha shows the flat colour: far from the plate's lighting (the red channel alone differs by ~0.4)
  assert.ok(errors.alpha > 0.15, `alpha low-frequency error ${errors.alpha}`);
  assert.ok(errors.multiband < 0.02, `multiband low-frequency error ${errors.multiband}`);
  assert.ok(errors.poisson < 0.02, `poisson low-frequency error ${errors.poisson}`);
  // the face's fine texture comes through as strongly as under alpha (which shows the face as it is)
  assert.ok(detail.alpha > 0.01, `alpha detail ${detail.alpha}`);
  for (const mode of ['multiband', 'poisson']) assert.ok(detail[mode] > 0.8 * detail.alpha, `${mode} lost the face detail: std ${detail[mode]} vs ${detail.alpha}`);
});

test('the seam metric is lower for multiband and poisson than for alpha', () => {
  const plate = gradientPlate(W, H, 0.02);
  const face = flatFace(S, [0.8, 0.4, 0.35], 0.03);
  const mask = ellipseMask(S);
  const seam: Record<string, number> = {};
  for (const mode of BLEND_MODES) {
    const r = blendFace(plate, face, mask, M, { mode, feather: 6 });
    seam[mode] = seamMetric(extractRoi(r.image, r.roi!), extractRoi(plate, r.roi!), r.mask!);
  }
  assert.ok(seam.multiband < 0.5 * seam.alpha, `multiband ${seam.multiband} vs alpha ${seam.alpha}`);
  assert.ok(seam.poisson < 0.5 * seam.alpha, `poisson ${seam.poisson} vs alpha ${seam.alpha}`);
  // a paste with no feathering has a larger seam than a feathered alpha
  const hard = blendFace(plate, face, mask, M, { mode: 'alpha', feather: 0 });
  const hardSeam = seamMetric(extractRoi(hard.image, hard.roi!), extractRoi(plate, hard.roi!), hard.mask!);
  assert.ok(hardSeam > seam.alpha, `hard ${hardSeam} vs feathered ${seam.alpha}`);
  // the plate itself has no seam
  assert.ok(seamMetric(extractRoi(plate, hard.roi!), extractRoi(plate, hard.roi!), hard.mask!) === 0);
});

test('pixels outside the (dilated) mask equal the plate\'s bit for bit, 8 and 16 bit', () => {
  const plate = noisyImage(W, H, 3, 3);
  const face = noisyImage(S, S, 3, 4);
  const mask = ellipseMask(S);
  for (const mode of BLEND_MODES as BlendMode[]) {
    const r = blendFace(plate, face, mask, M, { mode, feather: 8 });
    // alpha and poisson touch only mask pixels; multiband's bands (its residual level included: the plate
    // gives no level through the pyramid now) reach pyramidSpread(levels + 1) px further
    const reach = mode === 'multiband' ? pyramidSpread(r.levels! + 1) : 0;
    const near = dilatedSupport(r.mask!, r.roi!, W, H, reach);
    for (const bits of [8, 16] as const) {
      const a = quantise(r.image, bits), b = quantise(plate, bits);
      let outside = 0, changedInside = 0;
      for (let p = 0; p < W * H; p++) {
        for (let k = 0; k < 3; k++) {
          if (near[p]) { if (a[p * 3 + k] !== b[p * 3 + k]) changedInside++; continue; }
          assert.equal(a[p * 3 + k], b[p * 3 + k], `${mode} ${bits}-bit: pixel ${p % W},${Math.floor(p / W)} outside the mask changed`);
        }
        if (!near[p]) outside++;
      }
      assert.ok(outside > W * H * 0.4, `${mode}: only ${outside} pixels outside`);
      assert.ok(changedInside > 1000, `${mode}: the face did not change the plate (${changedInside})`);
    }
    // and the float values themselves are untouched there
    const near0 = dilatedSupport(r.mask!, r.roi!, W, H, reach);
    for (let p = 0; p < W * H; p++) if (!near0[p]) for (let k = 0; k < 3; k++) assert.equal(r.image.data[p * 3 + k], plate.data[p * 3 + k]);
  }
});

test('inside the mask core, alpha shows the face exactly', () => {
  const plate = noisyImage(W, H, 3, 11);
  const face = warpAffine(noisyImage(W, H, 3, 12), M, S, S, { replicate: true });
  const mask = ellipseMask(S);
  const r = blendFace(plate, face, mask, M, { mode: 'alpha', feather: 6 });
  const core = inside(r, 1);
  let maxErr = 0;
  const roi = r.roi!;
  for (let y = 0; y < roi.height; y++) for (let x = 0; x < roi.width; x++) {
    if (!core(x + roi.x, y + roi.y)) continue;
    for (let k = 0; k < 3; k++) maxErr = Math.max(maxErr, Math.abs(r.image.data[((y + roi.y) * W + x + roi.x) * 3 + k] - r.face!.data[(y * roi.width + x) * 3 + k]));
  }
  assert.ok(maxErr < 1e-6, `alpha core error ${maxErr}`);
});

test('contrast correction brings the face\'s detail contrast to the plate\'s', () => {
  const w = 96, h = 96;
  const tex = (amp: number, base: number): Image => {
    const img = createImage(w, h, 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < 3; k++) {
      img.data[(y * w + x) * 3 + k] = base + amp * Math.sin(x * 0.9 + k) * Math.cos(y * 0.7) + amp * 0.5 * Math.sin(x * 0.25 - y * 0.3);
    }
    return img;
  };
  const mask = createImage(w, h, 1);
  for (let y = 20; y < 76; y++) for (let x = 20; x < 76; x++) mask.data[y * w + x] = 1;
  const plate = tex(0.09, 0.5), face = tex(0.06, 0.4); // same pattern, two thirds of the contrast
  const on = multiband(plate, face, mask, { levels: 5, plateLevels: 2, contrast: true });
  assert.ok(Math.abs(on.gain - 1.5) < 0.1, `gain ${on.gain}`);
  const off = multiband(plate, face, mask, { levels: 5, plateLevels: 2, contrast: false });
  assert.equal(off.gain, 1);
  // with the gain the blended centre is the plate's own texture again (same pattern, same contrast)
  let eOn = 0, eOff = 0;
  for (let y = 36; y < 60; y++) for (let x = 36; x < 60; x++) for (let k = 0; k < 3; k++) {
    const i = (y * w + x) * 3 + k;
    eOn += Math.abs(on.image.data[i] - plate.data[i]);
    eOff += Math.abs(off.image.data[i] - plate.data[i]);
  }
  assert.ok(eOn < 0.5 * eOff, `with gain ${eOn}, without ${eOff}`);
});

test('multiband on a window of a larger frame equals multiband on that region cut out, and a reused pool changes nothing', async () => {
  const { multibandInto, BufferPool } = await import('../src/index.js');
  const Wf = 90, Hf = 70, w = 60, h = 50, x0 = 17, y0 = 9;
  const frame = noisyImage(Wf, Hf, 3, 41);
  const face = noisyImage(w, h, 3, 42);
  const mask = createImage(w, h, 1);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const ex = (x - 30) / 18, ey = (y - 25) / 15;
    mask.data[y * w + x] = Math.max(0, Math.min(1, (1 - (ex * ex + ey * ey)) * 3));
  }
  const region = createImage(w, h, 3);
  for (let y = 0; y < h; y++) region.data.set(frame.data.subarray(((y + y0) * Wf + x0) * 3, ((y + y0) * Wf + x0 + w) * 3), y * w * 3);
  const ref = multiband(region, face, mask, { levels: 5, plateLevels: 2 });
  const out = new Float32Array(frame.data);
  const window = (data: Float32Array) => ({ data, offset: (y0 * Wf + x0) * 3, stride: Wf * 3 });
  const gain = multibandInto(window(frame.data), face, mask, { levels: 5, plateLevels: 2 }, window(out));
  assert.equal(gain, ref.gain);
  for (let y = 0; y < Hf; y++) for (let x = 0; x < Wf; x++) for (let k = 0; k < 3; k++) {
    const i = (y * Wf + x) * 3 + k;
    const inside = x >= x0 && x < x0 + w && y >= y0 && y < y0 + h;
    assert.equal(out[i], inside ? ref.image.data[((y - y0) * w + x - x0) * 3 + k] : frame.data[i], `pixel ${x},${y}`);
  }
  // blendFace with one pool over frames of different content gives what a fresh pool gives
  const pool = new BufferPool();
  const plate2 = noisyImage(W, H, 3, 43);
  for (const [seed, feather] of [[44, 8], [45, 20], [44, 8]] as const) {
    const crop = noisyImage(S, S, 3, seed);
    const a = blendFace(plate2, crop, ellipseMask(S), M, { feather, pool });
    const b = blendFace(plate2, crop, ellipseMask(S), M, { feather });
    assert.deepEqual(a.roi, b.roi);
    for (let i = 0; i < a.image.data.length; i++) if (a.image.data[i] !== b.image.data[i]) assert.fail(`pooled blend differs at ${i}`);
  }
});
