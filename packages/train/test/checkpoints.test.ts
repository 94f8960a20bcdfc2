import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alignFixture, datasetFixture } from './fixtures.js';
import { runStage } from './stage-cli.js';

let work: string | undefined;
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const stage = (kind: string, out: string, params: Record<string, unknown>, inputs: Record<string, string>, resume?: string) => runStage(kind, work!, out, params, inputs, resume);

// A tiny model (16 px, 12 steps, a checkpoint every 3): keepCheckpoints 2 keeps the snapshots of steps 6 and 9
// (3 is pruned; 12 is the final model), and swap renders from one of them with `step:`.
test('train keeps the last keepCheckpoints snapshots; swap renders from an earlier step', async () => {
  const fx = await datasetFixture(48, 20);
  work = await mkdtemp(join(tmpdir(), 'facecomb-train-ckpt-'));
  const resume = join(work, 'resume');
  await mkdir(resume);
  const params = {
    resolution: 16, startResolution: 16, stepsPerStable: 12, batch: 2, lr: 1e-3, channels: { 4: 8, 8: 8, 16: 8 }, latent: 16,
    checkpointEvery: 3, keepCheckpoints: 2, previewEvery: 1000, augment: false, seed: 3,
  };
  const trained = join(work, 'train');
  const t = await stage('train', trained, params, { a: fx.datasets.aoc, k: fx.datasets.katie }, resume);
  assert.equal(t.code, 0, t.stderr);
  assert.deepEqual(await readdir(join(trained, 'checkpoints')), ['step-000006', 'step-000009']);
  assert.deepEqual(await readdir(join(resume, 'checkpoints')), ['step-000006', 'step-000009'], 'pruned where they are written');
  const snap = join(trained, 'checkpoints', 'step-000006');
  assert.equal(JSON.parse(await readFile(join(snap, 'state.json'), 'utf8')).step, 6);
  assert.ok(existsSync(join(snap, 'weights.bin')) && !existsSync(join(snap, 'optimizer.bin')), 'weights without the optimizer');

  const align = await alignFixture(fx, 'katie', 3);
  const swap = async (name: string, extra: Record<string, unknown>) => stage('swap', join(work!, name), { source: 'aoc', batch: 2, ...extra }, { train: trained, target: align });
  const last = await swap('swap-last', {});
  const early = await swap('swap-6', { step: 6 });
  assert.equal(last.code, 0, last.stderr);
  assert.equal(early.code, 0, early.stderr);
  const meta = async (name: string) => JSON.parse(await readFile(join(work!, name, 'meta.json'), 'utf8'));
  assert.equal((await meta('swap-last')).modelStep, 12);
  assert.equal((await meta('swap-6')).modelStep, 6);
  const face = (await meta('swap-6')).frames[0];
  const file = `${String(face).padStart(6, '0')}.png`;
  assert.notDeepEqual(await readFile(join(work, 'swap-6', 'faces', file)), await readFile(join(work, 'swap-last', 'faces', file)), 'an earlier model renders another face');

  const gone = await swap('swap-3', { step: 3 });
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /swap param 'step' = 3: the train stage has no snapshot of that step; it has steps 6, 9 \(checkpoints\/\) and 12 \(the final model\)/);
});
