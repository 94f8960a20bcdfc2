/**
 * f16 training on webgpu (shader-f16 conv kernels, f32 master weights, dynamic loss scaling on the GPU):
 * - the `precision` param: default f32, a run-time field (not in the model identity), a bad value named, a
 *   logged fallback to f32 on an engine without f16;
 * - a step whose gradient overflows f16 (a huge loss scale) is skipped (weights unchanged, scale halved, not
 *   counted as an Adam step), and the scale doubles after growthInterval good steps, through the real model,
 *   kernels and lean step, leaving no tensor behind;
 * - quality: on real crops, 30 steps 16 -> 32 px, the f16 loss curve stays within the noise of f32, where noise
 *   is the spread between two f32 runs that differ only in batch order (same seed, same data, same init):
 *   the largest gap between 5-step means of the two f32 curves. The f16 curve's largest gap to the f32 curve
 *   (same order) must not exceed it.
 * Skipped without a WebGPU adapter or without shader-f16 (unless FACECOMB_REQUIRE_WEBGPU=1: then a failure).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { switchOrSkip, webgpuHasF16, webgpuRequired, LossScaler, setWebgpuPrecision } from '@facecomb/engine';
import {
  tf, readDataset, resolveConfig, configHash, train, Interrupted, CombModel, Adam, BatchLoader, leanTrainStep, readLosses, type IdentitySet,
} from '../src/index.js';
import { datasetFixture } from './fixtures.js';
import { startPrecision } from '../src/precision.js';

const NAMES = ['aoc', 'katie', 'speaker1'];
const params = {
  resolution: 32, startResolution: 16, stepsPerFade: 8, stepsPerStable: { 16: 15, 32: 7 }, batch: 2, lr: 1e-3,
  channels: { 4: 8, 8: 8, 16: 8, 32: 4 }, latent: 16, checkpointEvery: 1000, previewEvery: 1000, seed: 3,
};
const engine = { name: 'webgpu', why: 'test' };

async function f16OrSkip(t: TestContext): Promise<boolean> {
  const skip = await switchOrSkip('webgpu');
  if (skip) t.skip(skip);
  else if (!webgpuHasF16()) {
    // CI installs lavapipe, which offers shader-f16: there its absence is a failure, not a skip
    assert.ok(!webgpuRequired(), 'FACECOMB_REQUIRE_WEBGPU=1 but the adapter offers no shader-f16 (lavapipe does)');
    t.skip('this WebGPU adapter does not offer shader-f16');
  } else return true;
  return false;
}

async function sets(): Promise<IdentitySet[]> {
  const fx = await datasetFixture(48, 20);
  return Promise.all(NAMES.map((n) => readDataset(fx.datasets[n])));
}

test('precision is a run-time field: f32 by default, not part of the model identity; a bad value names the param', () => {
  assert.equal(resolveConfig(params, NAMES).run.precision, 'f32');
  assert.equal(configHash(resolveConfig({ ...params, precision: 'f16' }, NAMES)), configHash(resolveConfig(params, NAMES)));
  assert.throws(() => resolveConfig({ ...params, precision: 'fp16' }, NAMES), /train param 'precision' = "fp16": must be "f32" or "f16"/);
});

test('precision f16 on an engine without it falls back to f32 with a logged reason', async () => {
  const lines: string[] = [];
  const run = startPrecision('f16', 'wasm', (l) => lines.push(l));
  assert.equal(run.precision, 'f32');
  assert.equal(run.scaler, undefined);
  assert.deepEqual(lines, ['precision f16: the wasm engine has no f16 path (webgpu with shader-f16 only); training in f32']);
  await run.end(() => assert.fail('nothing to report for f32'));
});

test('f16 step: an overflowing loss scale skips the step and halves; good steps grow it', async (t) => {
  if (!(await f16OrSkip(t))) return;
  const cfg = resolveConfig({ ...params, resolution: 16, stepsPerStable: { 16: 10 } }, NAMES);
  const model = new CombModel(cfg);
  model.build(16);
  const adam = new Adam(cfg.optim);
  const loader = new BatchLoader(await sets(), cfg);
  const weights = async () => Promise.all([...model.params.values()].map((v) => v.data()));
  setWebgpuPrecision('f16');
  const huge = new LossScaler({ initial: 2 ** 100, growthInterval: 2, max: 2 ** 127 });
  const fine = new LossScaler({ initial: 2 ** 10, growthInterval: 2 });
  try {
    const w0 = await weights();
    // loss * 2^100 is finite in f32, but its gradients overflow f16 in the conv kernels
    const l1 = await readLosses([leanTrainStep(model, adam, await loader.next(0), huge)]);
    assert.ok(Number.isFinite(l1[0]), 'the reported loss is the unscaled loss');
    assert.deepEqual(await huge.read(), { scale: 2 ** 99, goodSteps: 0, skipped: 1 });
    assert.deepEqual(await weights(), w0, 'a skipped step changed the weights');
    // a workable scale: two good steps update the weights and double it
    // steps 3 and 6 train identity 0 again (its Adam slots were made at step 0): no tensor may be left behind
    const counts = [tf.memory().numTensors];
    for (const s of [3, 6]) {
      await readLosses([leanTrainStep(model, adam, await loader.next(s), fine)]);
      counts.push(tf.memory().numTensors);
    }
    assert.deepEqual(counts, [counts[0], counts[0], counts[0]], 'an f16 step leaks tensors');
    // the skipped step does not count as an Adam step: 3 attempts, 2 updates for every slot (identity 0 + encoder)
    assert.equal(await adam.settleSkips(), adam.slots.size, 'one skip per slot');
    assert.deepEqual(new Set([...adam.slots.values()].map((sl) => sl.t)), new Set([2]));
    assert.equal(await adam.settleSkips(), 0, 'settled skips are reset');
    assert.deepEqual(await fine.read(), { scale: 2 ** 11, goodSteps: 0, skipped: 0 });
    const w1 = await weights();
    assert.ok(w1.some((w, i) => w.some((x, j) => x !== w0[i][j])), 'good steps left the weights unchanged');
  } finally {
    setWebgpuPrecision('f32');
    huge.dispose();
    fine.dispose();
    model.dispose();
    adam.dispose();
  }
});

/** Largest gap between the means of consecutive `w`-step windows of two loss curves. */
function windowGap(a: number[], b: number[], w = 5): number {
  let gap = 0;
  for (let i = 0; i + w <= a.length; i += w) {
    const mean = (c: number[]) => c.slice(i, i + w).reduce((s, x) => s + x, 0) / w;
    gap = Math.max(gap, Math.abs(mean(a) - mean(b)));
  }
  return gap;
}

test('f16 training: the loss curve stays within the noise of f32 (same seed and data)', async (t) => {
  if (!(await f16OrSkip(t))) return;
  const data = await sets();
  // the same samples in another order: the batches differ, the data, seed and initial weights do not
  const reordered = data.map((s) => ({ ...s, train: [...s.train].reverse() }));
  const work = await mkdtemp(join(tmpdir(), 'facecomb-f16-'));
  try {
    const curve = async (dir: string, precision: string, s: IdentitySet[]) => {
      const lines: string[] = [];
      const res = await train({ config: resolveConfig({ ...params, precision }, NAMES), sets: s, out: join(work, dir), engine, log: (l) => lines.push(l) });
      return { losses: res.metrics.map((m) => m.loss), precision: res.precision, lines };
    };
    const f32 = await curve('f32', 'f32', data);
    const other = await curve('f32-reordered', 'f32', reordered);
    const f16 = await curve('f16', 'f16', data);
    assert.equal(f16.precision, 'f16');
    assert.ok(f16.lines.some((l) => /precision f16: loss scale \d+, 0 step\(s\) skipped/.test(l)), f16.lines.join('\n'));
    assert.equal(f16.losses.length, 30);
    const noise = windowGap(f32.losses, other.losses);
    const gap = windowGap(f32.losses, f16.losses);
    const maxStep = Math.max(...f16.losses.map((l, i) => Math.abs(l - f32.losses[i])));
    t.diagnostic(`5-step means: f16 vs f32 gap ${gap.toExponential(2)}, noise (f32 vs f32 in another batch order) ${noise.toExponential(2)}; ` +
      `largest per-step f16-f32 difference ${maxStep.toExponential(2)}; f32 loss ${f32.losses[0].toFixed(4)} -> ${f32.losses[29].toFixed(4)}, f16 ${f16.losses[0].toFixed(4)} -> ${f16.losses[29].toFixed(4)}`);
    assert.ok(maxStep > 0, 'f16 gave the f32 losses bit for bit: the f16 kernels did not run');
    assert.ok(gap <= noise, `f16 curve off the f32 curve by ${gap} (5-step means), more than the batch-order noise ${noise}`);
    assert.ok(f16.losses[29] < f16.losses[0], 'f16 did not train');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test('f16: the checkpoint keeps the loss scale and a resumed run starts from it', async (t) => {
  if (!(await f16OrSkip(t))) return;
  const data = await sets();
  const work = await mkdtemp(join(tmpdir(), 'facecomb-f16-resume-'));
  try {
    const cfg = resolveConfig({ ...params, precision: 'f16' }, NAMES);
    const out = join(work, 'out'), checkpointDir = join(work, 'ckpt');
    // the scale doubles every 2 good steps: 512 -> 4096 after 6
    const lossScale = { initial: 512, growthInterval: 2 };
    await assert.rejects(train({ config: cfg, sets: data, out, checkpointDir, engine, stopAfter: 6, lossScale, log: () => {} }),
      (e: Error) => e instanceof Interrupted && e.step === 6);
    const st = JSON.parse(await readFile(join(checkpointDir, 'state.json'), 'utf8'));
    assert.equal(st.lossScale, 4096);
    const lines: string[] = [];
    const res = await train({ config: cfg, sets: data, out, checkpointDir, engine, maxSteps: 8, lossScale, log: (l) => lines.push(l) });
    assert.equal(res.resumedFrom, 6);
    assert.ok(lines.some((l) => /loss scale from 4096 /.test(l)), lines.join('\n'));
    // two more good steps: doubled once more
    assert.ok(lines.some((l) => /precision f16: loss scale 8192, 0 step\(s\) skipped/.test(l)), lines.join('\n'));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
