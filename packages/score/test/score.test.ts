import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { buildFixture, runScore, type Fixture } from './fixture.js';

interface ScoreJson {
  source: string;
  cropReadings: { cached: number; read: number };
  target: string | null;
  counts: { frames: number; scored: number; noFace: number; missing: number };
  summary: Record<string, number | null>;
  frames: { frame: number; status: string; nearest?: string; delivered?: { detected: boolean; nearest?: string; landmarkError?: number } }[];
}

const readScore = async (dir: string) => JSON.parse(await readFile(join(dir, 'score.json'), 'utf8')) as ScoreJson;

// Swaps made without training, on real footage: person A's aligned crops put where person B's swapped faces
// go, against a copy of B's own crops; both blended into B's plate by the real blend stage.
describe('score: a swap measured against the plate and the trained identities', () => {
  let fx: Fixture;
  let swap: ScoreJson, copy: ScoreJson;
  let tables = '';

  before(async () => {
    fx = await buildFixture();
    const inputs = (s: string, b: string) => ({ plate: fx.plate, 'plate-align': fx.plateAlign, swap: s, blend: b, A: fx.setA, B: fx.setB });
    const r1 = await runScore(join(fx.root, 'score-ab'), {}, inputs(fx.swapAB, fx.blendAB), join(fx.root, 'stage-cache'));
    assert.equal(r1.code, 0, r1.stderr);
    const r2 = await runScore(join(fx.root, 'score-copy'), { reconstruction: true }, inputs(fx.copyB, fx.blendCopy));
    assert.equal(r2.code, 0, r2.stderr);
    // the tables as the stage prints them, for the test log
    tables = [r1, r2].map((r) => r.stdout.split('\n').filter((l) => !l.startsWith('::')).join('\n')).join('\n');
    swap = await readScore(join(fx.root, 'score-ab'));
    copy = await readScore(join(fx.root, 'score-copy'));
  });

  after(async () => {
    if (fx?.root) await rm(fx.root, { recursive: true, force: true });
  });

  test('a swap of A onto B scores nearer A than a copy of B does', (t) => {
    for (const line of tables.split('\n')) t.diagnostic(line);
    assert.equal(swap.target, 'B', 'the plate is B: found as the identity nearest its faces');
    assert.ok(swap.summary.distSource! < copy.summary.distSource!, `distance to A: swap ${swap.summary.distSource} vs copy ${copy.summary.distSource}`);
    assert.ok(swap.summary.distTarget! > copy.summary.distTarget!, `distance to B: swap ${swap.summary.distTarget} vs copy ${copy.summary.distTarget}`);
    assert.equal(swap.summary.identityRetrieval, 1);
    assert.equal(copy.summary.identityRetrieval, 0);
    assert.ok(swap.frames.filter((f) => f.status === 'scored').every((f) => f.nearest === 'A'));
  });

  test('the copy keeps the performance exactly and reconstructs the plate', () => {
    assert.equal(copy.summary.landmarkError, 0);
    assert.equal(copy.summary.expressionL1, 0);
    assert.equal(copy.summary.changeRatio, 1);
    assert.equal(copy.summary.detailMouth, 1);
    assert.equal(copy.summary.ssim, 1);
    // another person's face moves the landmarks and the expression
    assert.ok(swap.summary.landmarkError! > 0.02, `landmark error of A's faces on B: ${swap.summary.landmarkError}`);
    assert.equal(swap.summary.ssim, null, 'no reconstruction figures when the source is not the target');
  });

  test('seams: a blend of the plate\'s own crop is seamless, detectability is measured', () => {
    assert.ok(copy.summary.seamRatio! >= 1 && copy.summary.seamRatio! < 1.01, `seam ratio of the copy: ${copy.summary.seamRatio}`);
    assert.ok(swap.summary.seamRatio! >= 1, `seam ratio of the swap: ${swap.summary.seamRatio}`);
    assert.equal(copy.summary.detectabilityPlate, copy.summary.detectability);
    assert.ok(swap.summary.detectabilityPlate! > 0.5);
  });

  test('the delivered plate is measured: the face found again in the blended frames', () => {
    // the copy's blend is the plate's own face: found in every frame, nearest B, in the plate's pose
    assert.equal(copy.summary.deliveredDetectability, 1);
    assert.equal(copy.summary.deliveredRetrieval, 0);
    assert.ok(copy.summary.deliveredDistTarget! < 0.45, `delivered distance of the copy to B: ${copy.summary.deliveredDistTarget}`);
    assert.ok(copy.summary.deliveredLandmarkError! < 0.05, `delivered landmark error of the copy: ${copy.summary.deliveredLandmarkError}`);
    for (const f of copy.frames.filter((x) => x.status === 'scored')) assert.equal(f.delivered?.detected, true, `frame ${f.frame}`);
    assert.equal(copy.frames.find((f) => f.frame === 5)!.delivered, undefined, 'no delivered record where the plate has no face');
    // A's faces blended into B's plate: measured, and nearer A than the plate itself is
    assert.ok(swap.summary.deliveredDetectability! > 0);
    assert.ok(swap.summary.deliveredDistSource! < copy.summary.deliveredDistSource!, `delivered distance to A: swap ${swap.summary.deliveredDistSource} vs copy ${copy.summary.deliveredDistSource}`);
  });

  test('a blend that returns the plate unchanged fails the delivered identity gate although the crop figures pass', async () => {
    const inputs = { plate: fx.plate, 'plate-align': fx.plateAlign, swap: fx.swapAB, blend: fx.blendPlate, A: fx.setA, B: fx.setB };
    const thresholds = { identityRetrieval: { min: 0.9 }, deliveredRetrieval: { min: 0.9 }, deliveredDetectability: { min: 0.9 } };
    const r = await runScore(join(fx.root, 'score-plate'), { detectEvery: 4, thresholds }, inputs);
    assert.notEqual(r.code, 0, 'the gate must fail');
    assert.match(r.stderr, /deliveredRetrieval = 0\.0000 is below its min 0\.9/);
    assert.doesNotMatch(r.stderr, /identityRetrieval|deliveredDetectability/, 'the crops are A and the plate\'s face is found');
    const s = await readScore(join(fx.root, 'score-plate'));
    assert.equal(s.summary.identityRetrieval, 1);
    // the plate's own pixels: the same detail (up to the 8-bit crop align wrote), the same pose (found again by
    // the detector, not by align's smoothing)
    for (const k of ['deliveredDetailMouth', 'deliveredDetailEyes']) assert.ok(Math.abs(s.summary[k]! - 1) < 0.01, `${k} of the plate itself: ${s.summary[k]}`);
    assert.ok(s.summary.deliveredLandmarkError! < 0.05, `delivered landmark error of the plate itself: ${s.summary.deliveredLandmarkError}`);
    assert.ok(s.frames.filter((f) => f.status === 'scored').every((f) => f.delivered?.nearest === 'B'));
  });

  test('changing only the blend reuses the readings of the unchanged crops; a damaged reading is read again', async () => {
    assert.deepEqual(swap.cropReadings, { cached: 0, read: swap.cropReadings.read });
    const dir = join(fx.root, 'stage-cache', 'readings');
    const stored = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.json'));
    assert.equal(stored.length, swap.cropReadings.read, 'one stored reading per crop read');
    await writeFile(join(dir, stored[0]), '{"landmarks": [');
    const inputs = { plate: fx.plate, 'plate-align': fx.plateAlign, swap: fx.swapAB, blend: fx.blendHard, A: fx.setA, B: fx.setB };
    const r = await runScore(join(fx.root, 'score-hard'), {}, inputs, join(fx.root, 'stage-cache'));
    assert.equal(r.code, 0, r.stderr);
    const hard = await readScore(join(fx.root, 'score-hard'));
    assert.deepEqual(hard.cropReadings, { cached: swap.cropReadings.read - 1, read: 1 });
    // the crop figures are those of the run that read every crop; the blend's own figures are measured anew
    for (const k of ['identityRetrieval', 'distSource', 'distTarget', 'landmarkError', 'expressionL1', 'detailMouth', 'detectability', 'detectabilityPlate']) {
      assert.equal(hard.summary[k], swap.summary[k], k);
    }
    assert.ok(hard.summary.seamRatio! > swap.summary.seamRatio!, `a hard edge: seam ratio ${hard.summary.seamRatio} vs ${swap.summary.seamRatio}`);
    assert.notEqual(hard.summary.deliveredDetailMouth, null);
    assert.match(await readFile(join(dir, stored[0]), 'utf8'), /"descriptor"/, 'the damaged reading was replaced');
  });

  test('crop files with the same bytes are read by the nets once and stored once (their writes raced before)', async () => {
    const { FaceReader, ReadingCache } = await import('../src/index.js');
    const { readImage } = await import('@facecomb/image');
    const crops = (await readdir(join(fx.plateAlign, 'crops'))).filter((f) => f.endsWith('.png')).sort();
    const dir = join(fx.root, 'dup');
    await mkdir(dir, { recursive: true });
    // three files: two copies of one crop and another crop, each listed as its own frame
    const files = [join(dir, 'a.png'), join(dir, 'b.png'), join(dir, 'c.png')];
    await copyFile(join(fx.plateAlign, 'crops', crops[0]), files[0]);
    await copyFile(join(fx.plateAlign, 'crops', crops[0]), files[1]);
    await copyFile(join(fx.plateAlign, 'crops', crops[1]), files[2]);
    const images = await Promise.all(files.map((f) => readImage(f, { channels: 3 })));
    const reader = await FaceReader.open('wasm');
    const cache = await ReadingCache.open(join(dir, 'stage-cache'), reader);
    const got = await cache.read(reader, images, files, 'wholeface', { detect: [true, true, true] });
    assert.deepEqual({ hits: cache.hits, misses: cache.misses }, { hits: 1, misses: 2 });
    assert.deepEqual(got[0], got[1]);
    assert.notDeepEqual(got[0].descriptor, got[2].descriptor);
    const stored = (await readdir(join(dir, 'stage-cache', 'readings'), { recursive: true })).filter((f) => f.endsWith('.json'));
    assert.equal(stored.length, 2);
    assert.equal((await readdir(join(dir, 'stage-cache', 'readings'), { recursive: true })).filter((f) => f.endsWith('.tmp')).length, 0);
  });

  test('a frame with no face in the plate is counted, not crashed on', async () => {
    assert.deepEqual(swap.counts, { frames: 5, scored: 4, noFace: 1, missing: 0 });
    assert.equal(swap.frames.find((f) => f.frame === 5)!.status, 'noFace');
    const png = await sharp(join(fx.root, 'score-ab', 'score.png')).metadata();
    assert.ok(png.width! > 500 && png.height! > 300);
  });

  test('a threshold breach fails the stage naming the figure', async () => {
    // A's faces pasted with a hard edge: a seam the multiband blend of the same faces does not have
    const inputs = { plate: fx.plate, 'plate-align': fx.plateAlign, swap: fx.swapAB, blend: fx.blendHard, A: fx.setA, B: fx.setB };
    const thresholds = { identityRetrieval: { min: 0.9 }, seamRatio: { max: swap.summary.seamRatio! }, ssim: { min: 0.5 } };
    const r = await runScore(join(fx.root, 'score-gate'), { detectEvery: 4, thresholds }, inputs);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /seamRatio = [\d.]+ is above its max/);
    assert.match(r.stderr, /ssim was not measured .*reconstruction: true/);
    assert.doesNotMatch(r.stderr, /identityRetrieval/);
    // the table is in the log before the error
    assert.match(r.stdout, /identityRetrieval\s+1\.000/);
  });
});
