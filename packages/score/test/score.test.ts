import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { buildFixture, runScore, type Fixture } from './fixture.js';

interface ScoreJson {
  source: string;
  target: string | null;
  counts: { frames: number; scored: number; noFace: number; missing: number };
  summary: Record<string, number | null>;
  frames: { frame: number; status: string; nearest?: string }[];
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
    const inputs = (s: string, b: string) => ({ 'plate-align': fx.plateAlign, swap: s, blend: b, A: fx.setA, B: fx.setB });
    const r1 = await runScore(join(fx.root, 'score-ab'), {}, inputs(fx.swapAB, fx.blendAB));
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
    t.diagnostic(tables);
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
    assert.ok(Math.abs(copy.summary.seamRatio! - 1) < 0.1, `seam ratio of the copy: ${copy.summary.seamRatio}`);
    assert.ok(swap.summary.seamRatio! > 0, `seam ratio of the swap: ${swap.summary.seamRatio}`);
    assert.equal(copy.summary.detectabilityPlate, copy.summary.detectability);
    assert.ok(swap.summary.detectabilityPlate! > 0.5);
  });

  test('a frame with no face in the plate is counted, not crashed on', async () => {
    assert.deepEqual(swap.counts, { frames: 5, scored: 4, noFace: 1, missing: 0 });
    assert.equal(swap.frames.find((f) => f.frame === 5)!.status, 'noFace');
    const png = await sharp(join(fx.root, 'score-ab', 'score.png')).metadata();
    assert.ok(png.width! > 500 && png.height! > 300);
  });

  test('a threshold breach fails the stage naming the figure', async () => {
    const out = join(fx.root, 'score-gate');
    const inputs = { 'plate-align': fx.plateAlign, swap: fx.copyB, A: fx.setA, B: fx.setB };
    const r = await runScore(out, { thresholds: { identityRetrieval: { min: 0.9 }, landmarkError: { max: 0.5 }, seamRatio: { max: 1.5 } } }, inputs);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /identityRetrieval = 0\.0+ is below its min 0\.9/);
    assert.match(r.stderr, /seamRatio was not measured .*blend/);
    assert.doesNotMatch(r.stderr, /landmarkError/);
    // the table is in the log before the error
    assert.match(r.stdout, /identityRetrieval\s+0\.0000/);
  });

  test('an unknown figure in thresholds is refused before anything runs', async () => {
    const r = await runScore(join(fx.root, 'score-bad'), { thresholds: { retrieval: { min: 0.9 } } }, { swap: fx.swapAB });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /thresholds\.retrieval': no such figure; figures: identityRetrieval/);
    assert.ok(!existsSync(join(fx.root, 'score-bad', 'score.json')));
  });
});
