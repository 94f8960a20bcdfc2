import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine, readDataset, resolveConfig, train, type IdentitySet } from '../src/index.js';
import { resolveWorkers } from '../src/parallel.js';
import { shardRanges } from '../src/gradients.js';
import { datasetFixture } from './fixtures.js';
import { Rng } from '../src/rng.js';
import { facePoints } from './face-points.js';

const BACKEND = process.env.FACECOMB_TEST_BACKEND ?? 'wasm';
const NAMES = ['aoc', 'katie', 'speaker1'];
// 16 px stable, a fade to 32 px and 32 px stable: every kind of step; batch 5 splits unevenly (3 + 2)
const params = {
  resolution: 32, startResolution: 16, stepsPerFade: 3, stepsPerStable: { 16: 4, 32: 2 }, batch: 5, lr: 1e-3,
  channels: { 4: 16, 8: 16, 16: 16, 32: 8 }, latent: 32, checkpointEvery: 100, previewEvery: 100, seed: 5,
};
let sets: IdentitySet[];
let work: string;
let engine: { name: string; why: string };

before(async () => {
  const fx = await datasetFixture(48, 20);
  sets = await Promise.all(NAMES.map((n) => readDataset(fx.datasets[n])));
  work = await mkdtemp(join(tmpdir(), 'facecomb-parallel-'));
  engine = await initEngine({ backend: BACKEND, log: () => undefined });
});

after(async () => {
  if (!process.env.KEEP) await rm(work, { recursive: true, force: true });
});

/** name -> values of a saved model. */
async function weights(dir: string): Promise<Map<string, Float32Array>> {
  const b = await readFile(join(dir, 'weights.bin'));
  const all = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  const { tensors } = JSON.parse(await readFile(join(dir, 'weights.json'), 'utf8')) as { tensors: { name: string; offset: number; length: number }[] };
  return new Map(tensors.map((t) => [t.name, all.subarray(t.offset / 4, t.offset / 4 + t.length)]));
}

test('shards: contiguous, as even as possible, never empty', () => {
  assert.deepEqual(shardRanges(5, 2), [[0, 3], [3, 5]]);
  assert.deepEqual(shardRanges(8, 3), [[0, 3], [3, 6], [6, 8]]);
  assert.deepEqual(shardRanges(1, 4), [[0, 1]]);
});

test('two data-parallel workers train the same model as one, up to float rounding', async () => {
  const cfg = resolveConfig(params, NAMES);
  const lines: string[] = [];
  const one = await train({ config: cfg, sets, out: join(work, 'w1'), engine, workers: 1 });
  const two = await train({ config: cfg, sets, out: join(work, 'w2'), engine, workers: 2, log: (l) => lines.push(l) });
  assert.ok(lines.some((l) => /2 data-parallel workers/.test(l)), `the run says it uses 2 workers: ${lines.join(' | ')}`);
  assert.equal(two.metrics.length, 9);
  for (let i = 0; i < one.metrics.length; i++) {
    const a = one.metrics[i].loss;
    const b = two.metrics[i].loss;
    assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(a)), `step ${i + 1}: loss ${a} (1 worker) vs ${b} (2 workers)`);
  }
  const wa = await weights(one.modelDir);
  const wb = await weights(two.modelDir);
  assert.deepEqual([...wa.keys()], [...wb.keys()]);
  // the runs must actually have trained (weights differ from a fresh init) for the comparison to mean anything
  const init = await train({ config: cfg, sets, out: join(work, 'w0'), engine, workers: 1, maxSteps: 0 });
  const w0 = await weights(init.modelDir);
  let maxDiff = 0;
  let maxAbs = 0;
  let moved = 0;
  for (const [name, a] of wa) {
    const b = wb.get(name)!;
    const z = w0.get(name);
    for (let i = 0; i < a.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      maxAbs = Math.max(maxAbs, Math.abs(a[i]));
      if (z) moved = Math.max(moved, Math.abs(a[i] - z[i]));
    }
  }
  assert.ok(moved > 1e-3, `training moved the weights by ${moved}`);
  assert.ok(maxDiff <= 1e-4 * maxAbs, `weights differ by up to ${maxDiff} (largest weight ${maxAbs}; moved ${moved})`);
});

test('workers: the core count by default, 1 with batch norm or on a GPU engine, a clear error when invalid', () => {
  const cfg = resolveConfig(params, NAMES);
  assert.equal(resolveWorkers(3, 'wasm', cfg).workers, 3);
  assert.ok(resolveWorkers(undefined, 'wasm', cfg).workers >= 1);
  assert.equal(resolveWorkers(2, 'webgpu', cfg).workers, 1);
  assert.match(resolveWorkers(2, 'wasm', resolveConfig({ ...params, batchNorm: 'decoder' }, NAMES)).why, /batch norm/);
  assert.throws(() => resolveWorkers(0, 'wasm', cfg), /workers = 0: must be an integer >= 1 \(FACECOMB_WORKERS\)/);
});

// the method's params (region weights, balancing, detail term) through the training loop, split and not
const methodParams = { ...params, resolution: 16, startResolution: 16, stepsPerStable: { 16: 6 }, batch: 4, channels: { 4: 16, 8: 16, 16: 16 }, seed: 11 };
test('region weights, balancing and the detail term train (split over 2 workers as on 1); a dataset without landmarks is a clear error', async () => {
  const method = resolveConfig({ ...methodParams, regionWeights: { eyes: 1, brows: 0.5, mouth: 2 }, balance: 3, loss: { detail: 1 } }, NAMES);
  await assert.rejects(train({ config: method, sets, out: join(work, 'm0'), engine }), (e: Error) => {
    assert.match(e.message, /train params 'regionWeights' and 'balance' need each crop's 68 landmarks, but .*items\.json has none for crops\/.* run its dataset stage again/);
    return true;
  });
  // the fixture's crops come from fixed boxes: a drawn face's landmarks stand in for align's, opening the mouth on every 4th frame
  const rng = new Rng(3, 'faces');
  const marked = sets.map((s) => ({ ...s, train: s.train.map((it, i) => ({ ...it, landmarks: facePoints(48, i % 4 === 0 ? 0.06 : 0, rng) })) }));
  const one = await train({ config: method, sets: marked, out: join(work, 'm1'), engine, workers: 1 });
  const two = await train({ config: method, sets: marked, out: join(work, 'm2'), engine, workers: 2 });
  assert.equal(one.metrics.length, 6);
  for (let i = 0; i < 6; i++) assert.ok(Math.abs(one.metrics[i].loss - two.metrics[i].loss) < 1e-5, `step ${i + 1}: ${one.metrics[i].loss} vs ${two.metrics[i].loss}`);
  // the loss is not the plain one: the same steps without the method's params give other losses
  const plain = await train({ config: resolveConfig(methodParams, NAMES), sets: marked, out: join(work, 'm3'), engine, workers: 1 });
  assert.ok(Math.abs(plain.metrics[0].loss - one.metrics[0].loss) > 1e-3);
});
