import { test } from 'node:test';
import assert from 'node:assert/strict';
import { augment, BatchLoader, readDataset, resolveConfig, loadSample, Rng } from '../src/index.js';
import { datasetFixture } from './fixtures.js';

test('augmentation warps image and mask alike, and is reproducible from the RNG state', async () => {
  const fx = await datasetFixture(48, 20);
  const set = await readDataset(fx.datasets.katie);
  const s = await loadSample(set, set.train[0], 32);
  // a mask equal to the image's red channel must stay equal to it under the same warp and flip
  const red = new Float32Array(32 * 32).map((_, i) => s.x[i * 3]);
  const aug = { rotate: 10, scale: 0.1, shift: 0.1, flip: true, colour: 0 };
  let flips = 0;
  for (let k = 0; k < 8; k++) {
    const a = augment({ x: s.x, m: red }, 32, aug, new Rng(9, `t${k}`));
    const b = augment({ x: s.x, m: red }, 32, aug, new Rng(9, `t${k}`));
    assert.deepEqual(a.x, b.x);
    let err = 0;
    let n = 0;
    for (let y = 9; y < 23; y++) for (let x = 9; x < 23; x++) { err += Math.abs(a.x[(y * 32 + x) * 3] - a.m[y * 32 + x]); n++; }
    assert.ok(err / n < 1e-5, `mask and image warped differently (${err / n})`);
    let d = 0;
    for (let i = 0; i < s.x.length; i++) d += Math.abs(a.x[i] - s.x[i]);
    assert.ok(d / s.x.length > 1e-3, 'augmentation changed nothing');
    const mirrored = new Rng(9, `t${k}`).next() < 0.5;
    if (mirrored) flips++;
  }
  assert.ok(flips > 0 && flips < 8);
});

test('the loader gives each step the same batch whether or not it was prefetched', async () => {
  const fx = await datasetFixture(48, 20);
  const sets = await Promise.all(['aoc', 'katie', 'speaker1'].map((n) => readDataset(fx.datasets[n])));
  const cfg = resolveConfig({ resolution: 32, startResolution: 16, stepsPerFade: 4, stepsPerStable: 4, batch: 3 }, ['aoc', 'katie', 'speaker1']);
  const a = new BatchLoader(sets, cfg);
  const steps = [];
  for (let s = 0; s < 9; s++) steps.push(await a.next(s));
  assert.deepEqual(steps.map((b) => b.identity), [0, 1, 2, 0, 1, 2, 0, 1, 2]);
  assert.deepEqual(steps.map((b) => b.resolution), [16, 16, 16, 16, 32, 32, 32, 32, 32]);
  assert.equal(steps[5].x.length, 3 * 32 * 32 * 3);
  const b = new BatchLoader(sets, cfg);
  const again = await b.make(6);
  assert.deepEqual(again.x, steps[6].x);
  assert.deepEqual(again.m, steps[6].m);
  assert.notDeepEqual((await b.make(9)).x, steps[6].x);
});
