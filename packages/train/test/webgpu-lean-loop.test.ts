/**
 * The real train() loop on webgpu with lossEvery 10 (losses read in runs) against the same loop with lossEvery 1
 * (read at every step), 16 -> 32 px on real crops, checkpoints every 7 steps (not a multiple of 10): metrics.jsonl
 * has every step, the losses agree within 1e-5, fewer GPU->CPU reads are made, and a run stopped at step 17 and
 * resumed gives the uninterrupted run's losses exactly. Skipped without a WebGPU adapter, unless
 * FACECOMB_REQUIRE_WEBGPU=1 (then a failure).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { switchOrSkip } from '@facecomb/engine';
import { tf, readDataset, resolveConfig, configHash, train, Interrupted, type IdentitySet, type MetricsRecord } from '../src/index.js';
import { datasetFixture } from './fixtures.js';

const NAMES = ['aoc', 'katie', 'speaker1'];
const STEPS = 30;
const params = {
  resolution: 32, startResolution: 16, stepsPerFade: 8, stepsPerStable: { 16: 15, 32: 7 }, batch: 2, lr: 1e-3,
  channels: { 4: 8, 8: 8, 16: 8, 32: 4 }, latent: 16, checkpointEvery: 7, previewEvery: 1000, seed: 3,
};
const engine = { name: 'webgpu', why: 'test' };

/** Counts GPU->CPU transfers of the webgpu backend: every async read goes through getBufferData. */
function countReads(): { reads: number; restore: () => void } {
  const be = tf.backend() as unknown as {
    getBufferData: (...a: unknown[]) => Promise<unknown>;
    readSync: (dataId: object) => unknown;
    tensorMap: { get: (id: object) => { values: unknown } };
  };
  const c = { reads: 0, restore: () => undefined as void };
  const getBufferData = be.getBufferData;
  const readSync = be.readSync;
  be.getBufferData = function (this: unknown, ...a: unknown[]) {
    c.reads++;
    return getBufferData.apply(this, a);
  };
  be.readSync = function (this: typeof be, dataId: object) {
    if (this.tensorMap.get(dataId)?.values == null) c.reads++;
    return readSync.call(this, dataId);
  };
  c.restore = () => {
    be.getBufferData = getBufferData;
    be.readSync = readSync;
  };
  return c;
}

test('lossEvery is a run-time field: not part of the model identity; a bad value names the param', () => {
  assert.equal(configHash(resolveConfig({ ...params, lossEvery: 1 }, NAMES)), configHash(resolveConfig(params, NAMES)));
  assert.equal(resolveConfig(params, NAMES).run.lossEvery, 10);
  assert.throws(() => resolveConfig({ ...params, lossEvery: 0 }, NAMES), /train param 'lossEvery' = 0: must be an integer >= 1/);
});

test('webgpu train(): losses read every 10 steps equal the per-step reads, with fewer transfers, and resume exactly', async (t) => {
  const skip = await switchOrSkip('webgpu');
  if (skip) {
    t.skip(skip);
    return;
  }
  const fx = await datasetFixture(48, 20);
  const sets: IdentitySet[] = await Promise.all(NAMES.map((n) => readDataset(fx.datasets[n])));
  const work = await mkdtemp(join(tmpdir(), 'facecomb-lean-loop-'));
  try {
    const run = async (dir: string, lossEvery: number, stopAfter?: number) => {
      const c = countReads();
      const progress: number[] = [];
      try {
        const res = await train({
          config: resolveConfig({ ...params, lossEvery }, NAMES), sets, out: join(work, dir), engine, stopAfter,
          onProgress: (done) => progress.push(done),
        });
        return { metrics: res.metrics, reads: c.reads, progress };
      } finally {
        c.restore();
      }
    };
    const jsonl = async (dir: string) =>
      (await readFile(join(work, dir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as MetricsRecord);

    const t0 = performance.now();
    const every = await run('every', 1);
    const t1 = performance.now();
    const lean = await run('lean', 10);
    const t2 = performance.now();
    t.diagnostic(`GPU->CPU reads over ${STEPS} steps (4 checkpoints, 1 preview): lossEvery 1: ${every.reads}, lossEvery 10: ${lean.reads}; ` +
      `${((t1 - t0) / 1000).toFixed(1)} s vs ${((t2 - t1) / 1000).toFixed(1)} s (shaders compiled in the first)`);

    const file = await jsonl('lean');
    assert.deepEqual(file.map((r) => r.step), Array.from({ length: STEPS }, (_, i) => i + 1), 'metrics.jsonl lacks steps');
    assert.deepEqual(file.map((r) => r.loss), lean.metrics.map((r) => r.loss));
    assert.deepEqual(lean.progress, Array.from({ length: STEPS }, (_, i) => i + 1), 'a progress line per step');
    assert.ok(lean.metrics.every((r) => r.msPerStep > 0 && r.imgPerSec > 0));
    assert.equal(every.metrics.length, STEPS);
    for (let s = 0; s < STEPS; s++) {
      const a = every.metrics[s], b = lean.metrics[s];
      assert.equal(b.identity, a.identity);
      assert.equal(b.resolution, a.resolution);
      assert.ok(Math.abs(a.loss - b.loss) < 1e-5, `step ${s + 1}: loss ${b.loss} read in runs vs ${a.loss} read per step`);
      assert.deepEqual(Object.keys(b.losses), NAMES);
    }
    // the checkpoints and the preview read the same tensors in both runs: one read per step saved, less one per run (runs end at 7, 14 (checkpoints), 15 (new level), 21, 28, 30 (end))
    assert.equal(every.reads - lean.reads, STEPS - 6, `reads: ${every.reads} per step vs ${lean.reads} in runs`);

    // stopped at 17 (2 losses pending since the read at 15), then resumed: the same losses, bit for bit (this also
    // needs the checkpoint at 14 to save the weights as they are then, not the copy cached by the read at 7)
    await assert.rejects(run('resumed', 10, 17), (e: unknown) => e instanceof Interrupted && e.step === 17);
    const cut = await jsonl('resumed');
    assert.deepEqual(cut.map((r) => r.step), Array.from({ length: 17 }, (_, i) => i + 1), 'pending losses lost at the interrupt');
    const resumed = await run("resumed", 10);
    assert.deepEqual((await jsonl('resumed')).map((r) => r.loss), lean.metrics.map((r) => r.loss));
    assert.equal(resumed.metrics[0].step, 18);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
