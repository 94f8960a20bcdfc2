import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createImage, type Image } from '@facecomb/image';
import { checkThresholds, deliveredFigures, findInputs, edgeBand, evenly, gradient, highFrequency, matchDetection, maskedPsnr, maskedSsim, parseScoreParams, rasterise, regionMean, type Figures } from '../src/index.js';

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

test('inputs found by kind; a clear error for what is missing or ambiguous', async () => {
  const root = mkdtempSync(join(tmpdir(), 'facecomb-score-inputs-'));
  try {
    const stage = (name: string, meta: Record<string, unknown>) => {
      mkdirSync(join(root, name));
      writeFileSync(join(root, name, 'meta.json'), JSON.stringify(meta));
      return join(root, name);
    };
    const dirs = {
      swap: stage('swap', { kind: 'swap', source: 'ava', size: 64 }),
      'shot-align': stage('shot-align', { kind: 'align', size: 64, faceType: 'wholeface' }),
      ava: stage('ava', { kind: 'dataset', name: 'ava', faceType: 'wholeface' }),
      bea: stage('bea', { kind: 'dataset', name: 'bea', faceType: 'wholeface' }),
      train: stage('train', { kind: 'train', identities: ['ava', 'bea', 'cleo'] }),
    };
    await assert.rejects(findInputs(dirs, {}), /train stage 'train' has identities \[ava, bea, cleo\], but no dataset stage for 'cleo' is among its needs/);
    const { train: _, ...noTrain } = dirs;
    const inp = await findInputs(noTrain, {});
    assert.equal(inp.source, 'ava');
    assert.deepEqual(inp.identities.map((i) => i.name), ['ava', 'bea']);
    assert.equal(inp.blend, null);
    await assert.rejects(findInputs(noTrain, { target: 'dee' }), /param 'target' is 'dee', not one of the identities \[ava, bea\]/);
    const two = { ...noTrain, swap2: stage('swap2', { kind: 'swap', source: 'bea', size: 64 }) };
    await assert.rejects(findInputs(two, {}), /stages swap and swap2 are all of kind swap; say which with param 'swap: <stage>'/);
    assert.equal((await findInputs(two, { swap: 'swap2' })).source, 'bea');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the delivered face is the detection at the plate face\'s place and size, not another face', () => {
  const plate: [number, number, number, number] = [100, 100, 200, 200];
  const at = (x: number, y: number, s: number) => ({ box: [x, y, s, s] as [number, number, number, number] });
  const near = at(110, 90, 190), elsewhere = at(400, 100, 200), tiny = at(180, 180, 40), nearer = at(102, 101, 200);
  assert.equal(matchDetection([elsewhere, near], plate), near);
  assert.equal(matchDetection([near, nearer], plate), nearer);
  assert.equal(matchDetection([elsewhere, tiny], plate), null, 'a face elsewhere or a fraction of the size is not the plate\'s face');
  assert.equal(matchDetection([], plate), null);
});

test('delivered figures: a frame with no face found counts as neither detected nor retrieved', () => {
  const found = (nearest: string, dA: number) => ({ detected: true, nearest, distances: { A: dA, B: 0.5 }, distTarget: 0.5, landmarkError: 0.1, expressionL1: 0.2, detailMouth: [1, 2] as [number, number] });
  const lost = { detected: false, detailMouth: [1, 2] as [number, number] };
  const f = deliveredFigures([found('A', 0.3), found('B', 0.7), lost, lost], 'A');
  assert.equal(f.deliveredDetectability, 0.5);
  assert.equal(f.deliveredRetrieval, 0.25);
  assert.ok(Math.abs(f.deliveredDistSource! - 0.5) < 1e-12, 'distances average over the faces found');
  assert.equal(f.deliveredDetailMouth, 0.5, 'detail counts every frame measured');
  assert.equal(f.deliveredDetailEyes, null);
  assert.equal(deliveredFigures([], 'A').deliveredRetrieval, null);
});
