import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readImage } from '@facecomb/image';
import { initEngine, readDataset, resolveConfig, train, swapFaces } from '../src/index.js';
import { alignFixture, datasetFixture, type Fixture } from './fixtures.js';

const BACKEND = process.env.FACECOMB_TEST_BACKEND ?? 'wasm';
const NAMES = ['aoc', 'katie', 'speaker1'];
// a tiny model: a few steps at 16 px are enough for decoders that render differently
const params = {
  resolution: 16, startResolution: 16, stepsPerFade: 1, stepsPerStable: 12, batch: 2, lr: 1e-3,
  channels: { 4: 8, 8: 8, 16: 8 }, latent: 16, checkpointEvery: 1000, previewEvery: 1000, seed: 3,
};
let fx: Fixture;
let work: string;
let modelDir: string;
let engine: { name: string; why: string };

before(async () => {
  fx = await datasetFixture(48, 20);
  work = await mkdtemp(join(tmpdir(), 'facecomb-swap-all-'));
  engine = await initEngine({ backend: BACKEND, log: () => undefined });
  const sets = await Promise.all(NAMES.map((n) => readDataset(fx.datasets[n])));
  await train({ config: resolveConfig(params, NAMES), sets, out: join(work, 'train'), engine });
  modelDir = join(work, 'train', 'model');
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Largest per-sample difference of two images of the same size. */
function maxDiff(a: { data: Float32Array }, b: { data: Float32Array }): number {
  assert.equal(a.data.length, b.data.length);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

test("swap source 'all': one face per identity per frame, each equal to that identity's single-source swap", async () => {
  const align = await alignFixture(fx, 'katie', 4);
  const out = join(work, 'all');
  const res = await swapFaces({ modelDir, alignDir: align, out, source: 'all', batch: 2, engine: engine.name });
  assert.deepEqual(res.identities, NAMES);
  assert.deepEqual(res.frames, [1, 3, 4]);
  const files = ['000001.png', '000003.png', '000004.png'];
  assert.deepEqual((await readdir(join(out, 'faces'))).sort(), NAMES);
  for (const name of NAMES) assert.deepEqual((await readdir(join(out, 'faces', name))).sort(), files);
  assert.deepEqual((await readdir(join(out, 'masks'))).sort(), files);
  const meta = JSON.parse(await readFile(join(out, 'meta.json'), 'utf8'));
  assert.equal(meta.kind, 'swap');
  assert.equal(meta.source, 'all');
  assert.deepEqual(meta.identities, NAMES);
  assert.deepEqual(meta.frames, [1, 3, 4]);
  assert.deepEqual(meta.noFace, [2]);

  for (const name of NAMES) {
    const one = join(work, `one-${name}`);
    await swapFaces({ modelDir, alignDir: align, out: one, source: name, batch: 2, engine: engine.name });
    for (const f of files) {
      const a = await readImage(join(out, 'faces', name, f));
      const b = await readImage(join(one, 'faces', f));
      // bit-identical on wasm; one 8-bit level allowed for engines whose batched decodes round differently
      assert.ok(maxDiff(a, b) <= 1 / 255 + 1e-6, `${name} ${f}: 'all' differs from the single-source swap by ${maxDiff(a, b)}`);
    }
  }
  // the decoders render differently: the layout is not one face copied three times
  const aoc = await readImage(join(out, 'faces', 'aoc', files[0]));
  const katie = await readImage(join(out, 'faces', 'katie', files[0]));
  assert.ok(maxDiff(aoc, katie) > 0.05, 'aoc and katie render the same face');
});

test("swap source: an unknown identity names the identities and 'all'", async () => {
  const align = await alignFixture(fx, 'katie', 4);
  await assert.rejects(
    swapFaces({ modelDir, alignDir: align, out: join(work, 'bad'), source: 'nobody', engine: engine.name }),
    /'nobody' is not an identity of the model; it has \[aoc, katie, speaker1\] \(or 'all' renders every one\)/,
  );
});
