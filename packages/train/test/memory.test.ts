import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { wasmBinaryDir } from '@facecomb/engine';
import {
  initEngine, tf, CombModel, Adam, resolveConfig, trainStep, estimateStepMemory, planBatches, explicitBatches, engineMemoryLimit,
  wasmMemoryMaximum, MemoryLimitError, WASM32_MAX_BYTES, type TrainConfig,
} from '../src/index.js';
import { Rng } from '../src/rng.js';
import { forwardValues, variablesUpTo } from '../src/build-plan.js';
import type { BatchStat } from '../src/model.js';

const BACKEND = process.env.FACECOMB_TEST_BACKEND ?? 'wasm';
await initEngine({ backend: BACKEND, log: () => undefined });

const IDS = ['a', 'b', 'c'];
/** The real comb model (reference channels, 512-d latent) trained 16 -> 256 px with the default batches. */
const real = (params: Record<string, unknown> = {}) => resolveConfig({ resolution: 256, ...params }, IDS);
const tiny = (extra: Record<string, unknown> = {}): TrainConfig =>
  resolveConfig({ resolution: 32, startResolution: 16, batch: 4, latent: 16, channels: { 4: 16, 8: 16, 16: 16, 32: 8 }, seed: 2, ...extra }, IDS);

test('the analytic parameter counts are those of the built model (all decoders, and one step\'s share)', () => {
  for (const bn of ['none', 'both'] as const) {
    const cfg = tiny({ batchNorm: bn });
    const model = new CombModel(cfg);
    try {
      model.build(16);
      model.build(32);
      for (const fading of [true, false]) {
        const est = estimateStepMemory(cfg, 32, 4, { fading });
        const all = [...model.params.values()].reduce((a, v) => a + v.size, 0);
        assert.equal(est.parameters, all, `all parameters (batchNorm ${bn})`);
        const trained = model.trainableAt(32, fading ? 0.5 : 1, 1).reduce((a, v) => a + v.size, 0);
        assert.equal(est.trainedParameters, trained, `trained parameters (batchNorm ${bn}, fading ${fading})`);
      }
    } finally {
      model.dispose();
    }
  }
});

test('the build plan counts the forward pass\'s tensors exactly, and its variables are the built model\'s', () => {
  for (const batchNorm of ['none', 'both'] as const) {
    for (const activation of ['leaky_relu', 'relu'] as const) {
      const cfg = tiny({ batchNorm, activation, channels: { 4: 16, 8: 16, 16: 12, 32: 8 } });
      const model = new CombModel(cfg);
      try {
        model.build(16);
        model.build(32);
        const plan = variablesUpTo(cfg, 32);
        const built = [...model.params, ...model.buffers].map(([name, v]) => ({ name, shape: v.shape }));
        const planned = [...plan.filter((v) => v.kind === 'param'), ...plan.filter((v) => v.kind === 'buffer')];
        assert.deepEqual(planned.map((v) => ({ name: v.name, shape: v.shape })), built);
        for (const fading of [false, true]) {
          const batch = 2;
          const x = tf.randomUniform([batch, 32, 32, 3]) as tf.Tensor4D;
          tf.engine().startScope();
          const before = tf.memory().numBytes;
          const alpha = fading ? 0.5 : 1;
          const stats: BatchStat[] = [];
          model.decode(model.encode(x, alpha, { training: true, stats }), 1, 32, alpha, { training: true, stats });
          const bytes = tf.memory().numBytes - before;
          tf.engine().endScope();
          tf.dispose([x, ...stats.flatMap((st) => [st.mean, st.variance])]);
          assert.equal(forwardValues(cfg, 32, fading).total * batch * 4, bytes, `${batchNorm}, ${activation}, fading ${fading}`);
        }
      } finally {
        model.dispose();
      }
    }
  }
});

test('the estimate grows with the batch and the resolution', () => {
  const cfg = real();
  for (const r of [16, 32, 64, 128, 256]) {
    const sizes = [1, 2, 4, 8].map((b) => estimateStepMemory(cfg, r, b).heapBytes);
    for (let i = 1; i < sizes.length; i++) assert.ok(sizes[i] > sizes[i - 1], `${r} px: ${sizes}`);
  }
  const byRes = [32, 64, 128, 256].map((r) => estimateStepMemory(cfg, r, 4));
  for (let i = 1; i < byRes.length; i++) {
    assert.ok(byRes[i].heapBytes > byRes[i - 1].heapBytes);
    assert.ok(byRes[i].activationBytes > byRes[i - 1].activationBytes);
  }
  // weights + Adam moments of the 3-identity reference model: about 92M values at 256 px
  assert.ok(byRes[3].parameters > 85e6 && byRes[3].parameters < 100e6, `${byRes[3].parameters}`);
  assert.equal(byRes[3].optimizerBytes, 2 * byRes[3].weightBytes);
});

test('wasm 4 GiB: default batches are lowered to the largest that fits, and say so', () => {
  const cfg = real();
  const plan = planBatches(cfg, explicitBatches({}), 'wasm', WASM32_MAX_BYTES);
  assert.deepEqual(plan.levels.map((l) => l.resolution), [16, 32, 64, 128, 256]);
  let lowered = 0;
  for (const l of plan.levels) {
    assert.equal(plan.config.schedule.batch[String(l.resolution)], l.batch);
    assert.ok(l.estimate.heapBytes <= WASM32_MAX_BYTES, `${l.resolution} px batch ${l.batch} does not fit`);
    assert.equal(l.requested, 8);
    if (l.batch < l.requested) {
      lowered++;
      // the largest that fits: one more would not
      assert.ok(estimateStepMemory(cfg, l.resolution, l.batch + 1).heapBytes > WASM32_MAX_BYTES);
      assert.match(l.note, new RegExp(`^wasm: batch 8 -> ${l.batch} at ${l.resolution} px \\(estimated [\\d.]+ GiB > 4 GiB wasm heap`));
    } else assert.match(l.note, new RegExp(`^${l.resolution} px, batch 8: estimated [\\d.]+ (GiB|MiB) per training step of the 4 GiB wasm heap`));
  }
  assert.ok(plan.levels.find((l) => l.resolution === 256)!.batch < 8, '256 px at batch 8 fits a 4 GiB heap?');
  assert.ok(lowered >= 1);
  // the rest of the config is untouched
  assert.deepEqual({ ...plan.config, schedule: { ...plan.config.schedule, batch: cfg.schedule.batch } }, cfg);
  // an engine without a hard limit keeps the defaults
  const free = planBatches(cfg, new Set(), 'tensorflow', null);
  assert.deepEqual(free.config.schedule.batch, cfg.schedule.batch);
  assert.match(free.levels[4].note, /^256 px, batch 8: estimated [\d.]+ GiB per training step$/);
});

test('wasm 4 GiB: a batch set in the params that does not fit is an error naming the param, before training', () => {
  const params = { batch: { 256: 8 } };
  const explicit = explicitBatches(params);
  assert.deepEqual([...(explicit as Set<number>)], [256]);
  assert.throws(
    () => planBatches(real(params), explicit, 'wasm', WASM32_MAX_BYTES),
    (e: unknown) => {
      assert.ok(e instanceof MemoryLimitError);
      const m = (e as Error).message;
      assert.match(m, /train param 'with\.batch' at 256 px = 8 needs an estimated [\d.]+ GiB per training step, more than the 4 GiB wasm heap/);
      assert.match(m, /set with\.batch to \{"256": \d\} or less, or use --backend webgpu or --backend tensorflow/);
      return true;
    },
  );
  // a number sets every level: the first level that does not fit is named
  assert.equal(explicitBatches({ batch: 8 }), 'all');
  assert.throws(() => planBatches(real({ batch: 8 }), 'all', 'wasm', WASM32_MAX_BYTES), /'with\.batch' at (64|128) px = 8/);
  // an explicit batch that fits is kept as it is
  const ok = planBatches(real({ batch: { 256: 1 } }), explicitBatches({ batch: { 256: 1 } }), 'wasm', WASM32_MAX_BYTES);
  assert.equal(ok.config.schedule.batch['256'], 1);
  // a level where not even batch 1 fits is an error even with the default batch
  assert.throws(() => planBatches(real({ resolution: 1024 }), new Set(), 'wasm', WASM32_MAX_BYTES), /the default batch at \d+ px \(\d\) needs .* not even batch 1 fits \([\d.]+ GiB\): lower 'resolution' below \d+/);
});

test('the wasm heap limit is read from the engine binary (4 GiB for wasm32)', async () => {
  const bin = await readFile(join(wasmBinaryDir(), 'tfjs-backend-wasm.wasm'));
  assert.equal(wasmMemoryMaximum(bin), 2 ** 32);
  assert.throws(() => wasmMemoryMaximum(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), /not a wasm binary/);
  assert.equal(await engineMemoryLimit(BACKEND), BACKEND === 'wasm' ? 2 ** 32 : null);
  assert.equal(await engineMemoryLimit('tensorflow'), null);
});

test('the tensor estimate is within 2x of the tensor memory a real training step peaks at', async () => {
  // a small model with the reference's shape (channels halving as the resolution doubles), 32 px, batch 4
  const cfg = resolveConfig({ resolution: 32, startResolution: 32, batch: 4, latent: 64, channels: { 4: 64, 8: 64, 16: 32, 32: 16 }, loss: { msssim: false } }, IDS);
  const r = 32;
  const batch = 4;
  const before = tf.memory().numBytes;
  const model = new CombModel(cfg);
  const adam = new Adam(cfg.optim);
  try {
    model.build(r);
    const rng = new Rng(4, 'mem');
    const x = new Float32Array(batch * r * r * 3).map(() => rng.next());
    const m = new Float32Array(batch * r * r).fill(1);
    // one step per identity first, so that every decoder has its Adam moments (the steady state)
    for (let i = 0; i < IDS.length; i++) await trainStep(model, adam, { step: i, identity: i, resolution: r, alpha: 1, size: batch, x, m });
    const prof = await tf.profile(() => trainStep(model, adam, { step: 3, identity: 0, resolution: r, alpha: 1, size: batch, x, m }).then(() => tf.scalar(0)));
    const peak = prof.peakBytes - before;
    const est = estimateStepMemory(cfg, r, batch, { fading: false });
    const ratio = est.tensorBytes / peak;
    assert.ok(ratio > 0.5 && ratio < 2, `estimate ${est.tensorBytes} B vs measured peak ${peak} B (ratio ${ratio.toFixed(2)})`);
    // and the persistent part alone is exact: weights and moments of every variable
    const persistent = tf.memory().numBytes - before;
    const expected = est.weightBytes + est.optimizerBytes + 4 * [...model.buffers.values()].reduce((a, v) => a + v.size, 0);
    assert.ok(Math.abs(persistent - expected) <= 64, `persistent ${persistent} B, expected ${expected} B (weights + moments)`);
    console.log(`tiny model, 32 px, batch 4: estimated ${est.tensorBytes} B, measured peak ${peak} B (ratio ${ratio.toFixed(2)})`);
  } finally {
    model.dispose();
    adam.dispose();
  }
});
