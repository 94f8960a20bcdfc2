/**
 * 30 training steps (three fixed batches, one per identity, in turn) of a small comb model on webgpu (our WGSL conv kernels, fused Adam, the lean step that
 * reads the losses once at the end) against the same 30 steps on wasm through trainStep: every loss within
 * 1e-3. Skipped without a WebGPU adapter, unless FACECOMB_REQUIRE_WEBGPU=1 (then a failure).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  initEngine, tf, CombModel, Adam, resolveConfig, trainStep, leanTrainStep, readLosses, type Batch, type TrainConfig,
} from '../src/index.js';
import { Rng } from '../src/rng.js';
import { switchOrSkip } from '@facecomb/engine';

const STEPS = 30;
const R = 16;

const cfg: TrainConfig = resolveConfig({
  resolution: R, startResolution: R, batch: 2, lr: 1e-3, latent: 16, channels: { 4: 16, 8: 12, 16: 8 }, seed: 5,
  loss: { ssim: 1, l1: 1, msssim: false, window: 7 }, augment: false,
}, ['a', 'b', 'c']);

/** Smooth random images (sums of a few sinusoids) and a round mask, the same on every engine. */
function batch(step: number): Batch {
  const rng = new Rng(7, `batch${step}`);
  const b = 2;
  const x = new Float32Array(b * R * R * 3);
  const m = new Float32Array(b * R * R);
  for (let i = 0; i < b; i++) {
    const f = [rng.next() * 0.6, rng.next() * 0.6, rng.next() * 6];
    for (let y = 0; y < R; y++) {
      for (let xx = 0; xx < R; xx++) {
        const p = (i * R + y) * R + xx;
        m[p] = (y - R / 2 + 0.5) ** 2 + (xx - R / 2 + 0.5) ** 2 < (R * 0.45) ** 2 ? 1 : 0;
        for (let c = 0; c < 3; c++) x[p * 3 + c] = 0.5 + 0.4 * Math.sin(f[0] * xx + f[1] * y + f[2] + c);
      }
    }
  }
  return { step, identity: step % 3, resolution: R, alpha: 1, size: b, x, m };
}

test('webgpu: 30 lean training steps match wasm\'s losses within 1e-3', async (t) => {
  await initEngine({ backend: 'wasm', log: () => undefined });
  const wasm: number[] = [];
  {
    const model = new CombModel(cfg);
    model.build(R);
    const adam = new Adam(cfg.optim);
    const t0 = performance.now();
    for (let s = 0; s < STEPS; s++) wasm.push(await trainStep(model, adam, batch(s % 3)));
    t.diagnostic(`wasm: ${STEPS} steps in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    model.dispose();
    adam.dispose();
  }
  const skip = await switchOrSkip('webgpu');
  if (skip) {
    t.skip(skip);
    return;
  }
  const model = new CombModel(cfg);
  model.build(R);
  const adam = new Adam(cfg.optim);
  const before = tf.memory().numTensors;
  const pending = [];
  const t0 = performance.now();
  for (let s = 0; s < STEPS; s++) pending.push(leanTrainStep(model, adam, batch(s % 3)));
  const gpu = await readLosses(pending);
  t.diagnostic(`webgpu: ${STEPS} steps in ${((performance.now() - t0) / 1000).toFixed(1)} s (shader compilation included)`);
  // the step's own tensors are gone; only the Adam moments (two per trained variable) were added
  assert.equal(tf.memory().numTensors - before, 2 * adam.slots.size, 'tensors leaked');
  model.dispose();
  adam.dispose();
  assert.ok(wasm[STEPS - 1] < wasm[0], `loss did not fall on wasm: ${wasm[0]} -> ${wasm[STEPS - 1]}`);
  for (let s = 0; s < STEPS; s++) {
    assert.ok(Math.abs(gpu[s] - wasm[s]) < 1e-3, `step ${s + 1}: webgpu loss ${gpu[s]} vs wasm ${wasm[s]}`);
  }
});
