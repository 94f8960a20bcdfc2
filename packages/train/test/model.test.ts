import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  initEngine, tf, CombModel, Adam, resolveConfig, saveCheckpoint, loadCheckpoint, trainStep, planStep, phases, totalSteps,
  DEFAULT_CHANNELS, upsample2xBilinear, type TrainConfig,
} from '../src/index.js';
import { Rng } from '../src/rng.js';

await initEngine({ backend: 'wasm', log: () => undefined });

const tiny = (extra: Record<string, unknown> = {}): TrainConfig =>
  resolveConfig({ resolution: 32, startResolution: 16, stepsPerFade: 4, stepsPerStable: 4, batch: 2, lr: 1e-3, latent: 16,
    channels: { 4: 8, 8: 8, 16: 8, 32: 4 }, seed: 3, ...extra }, ['a', 'b', 'c']);

function input(r: number, b = 2, seed = 1): Float32Array {
  const rng = new Rng(seed, `x${r}`);
  return new Float32Array(b * r * r * 3).map(() => rng.next());
}

async function values(model: CombModel): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [n, v] of model.params) out.set(n, (await v.data()) as Float32Array);
  return out;
}

test('the default config is the reference comb model', () => {
  const cfg = resolveConfig({ resolution: 1024 }, ['a', 'b']);
  assert.deepEqual(cfg.model.channels, DEFAULT_CHANNELS);
  assert.equal(cfg.model.latent, 512);
  assert.equal(cfg.model.leak, 0.2);
  assert.equal(cfg.optim.lr, 1e-4);
  assert.equal(cfg.loss.window, 7);
  const m = new CombModel(resolveConfig({ resolution: 64, startResolution: 64 }, ['a', 'b']));
  m.build(64);
  // encoder + one decoder at 64 px: the reference's E 64px + D 64px parameter counts, plus one 1x1 fromRGB/toRGB
  assert.ok(m.parameterCount(64) > 20e6, `params ${m.parameterCount(64)}`);
  assert.deepEqual(m.params.get('enc.fromRGB.64.w')!.shape, [1, 1, 3, 256]);
  assert.deepEqual(m.params.get('enc.64.conv2.w')!.shape, [3, 3, 256, 512]);
  assert.deepEqual(m.params.get('enc.final.dense.w')!.shape, [4, 4, 512, 512]);
  assert.deepEqual(m.params.get('dec1.dense.w')!.shape, [512, 16 * 512]);
  assert.deepEqual(m.params.get('dec1.64.conv1.w')!.shape, [3, 3, 512, 256]);
  m.dispose();
});

test('schedule: stable, then fade with alpha 0 -> 1, then stable at the next level', () => {
  const cfg = tiny();
  assert.deepEqual(phases(cfg).map((p) => `${p.kind}${p.resolution}@${p.start}+${p.steps}`), ['stable16@0+4', 'fade32@4+4', 'stable32@8+4']);
  assert.equal(totalSteps(cfg), 12);
  assert.deepEqual([3, 4, 5, 6, 7, 8].map((s) => planStep(cfg, s).alpha), [1, 0, 0.25, 0.5, 0.75, 1]);
  assert.equal(planStep(cfg, 5).resolution, 32);
});

test('growing a level keeps every trained weight, and at alpha 0 the output is the old level upsampled', async () => {
  const cfg = tiny();
  const model = new CombModel(cfg);
  model.build(16);
  const adam = new Adam(cfg.optim);
  const b = { step: 0, identity: 1, resolution: 16, alpha: 1, size: 2, x: input(16), m: new Float32Array(2 * 16 * 16).fill(1) };
  for (let i = 0; i < 3; i++) await trainStep(model, adam, { ...b, step: i });
  const before = await values(model);
  const x32 = tf.tensor4d(input(32), [2, 32, 32, 3]);
  const old = model.decode(model.encode(tf.avgPool(x32, 2, 2, 'valid') as tf.Tensor4D, 1, { training: false }), 1, 16, 1, { training: false });
  model.build(32);
  const after = await values(model);
  for (const [n, v] of before) assert.deepEqual(after.get(n), v, `${n} changed when growing`);
  assert.ok(after.size > before.size);
  assert.ok(after.has('enc.fromRGB.32.w') && after.has('dec2.32.conv2.w') && after.has('dec0.toRGB.32.w'));
  const y0 = model.decode(model.encode(x32, 0, { training: false }), 1, 32, 0, { training: false });
  const up = tf.image.resizeNearestNeighbor(old, [32, 32]);
  const diff = await tf.max(tf.abs(tf.sub(y0, up))).data();
  assert.ok(diff[0] < 1e-5, `alpha 0 output differs from the upsampled old level by ${diff[0]}`);
  const y1 = model.decode(model.encode(x32, 1, { training: false }), 1, 32, 1, { training: false });
  assert.ok((await tf.max(tf.abs(tf.sub(y1, up))).data())[0] > 1e-3, 'alpha 1 output should be the new level');
  model.dispose();
  adam.dispose();
});

test('upsample2xBilinear is resizeBilinear with half-pixel centres, and its gradient is exact (finite differences)', async () => {
  const rng = new Rng(5, 'up');
  const x = tf.tensor4d(new Float32Array(1 * 3 * 4 * 2).map(() => rng.next()), [1, 3, 4, 2]);
  const dy = tf.tensor4d(new Float32Array(1 * 6 * 8 * 2).map(() => rng.next() - 0.5), [1, 6, 8, 2]);
  const maxDiff = async (a: tf.Tensor, b: tf.Tensor) => (await tf.max(tf.abs(tf.sub(a, b))).data())[0];
  assert.ok((await maxDiff(upsample2xBilinear(x), tf.image.resizeBilinear(x, [6, 8], false, true))) < 1e-6);
  const f = (t: tf.Tensor) => tf.sum(tf.mul(upsample2xBilinear(t as tf.Tensor4D), dy));
  const g = (await tf.grad(f)(x).data()) as Float32Array;
  // f is linear in x, so central differences are exact up to rounding
  const xs = (await x.data()) as Float32Array;
  for (let i = 0; i < xs.length; i++) {
    const at = async (d: number) => (await f(tf.tensor4d(xs.map((v, k) => (k === i ? v + d : v)), x.shape)).data())[0];
    const fd = ((await at(0.5)) - (await at(-0.5))) / 1;
    assert.ok(Math.abs(fd - g[i]) < 1e-4, `d/dx[${i}]: ${g[i]} vs finite difference ${fd}`);
  }
});

test("upsample: bilinear: at alpha 0 the output is the old level resized bilinearly (half-pixel centres), not in 2x2 blocks", async () => {
  const cfg = tiny({ upsample: 'bilinear' });
  assert.equal(cfg.model.upsample, 'bilinear');
  const model = new CombModel(cfg);
  model.build(32);
  const x32 = tf.tensor4d(input(32), [2, 32, 32, 3]);
  const old = model.decode(model.encode(tf.avgPool(x32, 2, 2, 'valid') as tf.Tensor4D, 1, { training: false }), 1, 16, 1, { training: false });
  const y0 = model.decode(model.encode(x32, 0, { training: false }), 1, 32, 0, { training: false });
  const maxDiff = async (a: tf.Tensor, b: tf.Tensor) => (await tf.max(tf.abs(tf.sub(a, b))).data())[0];
  assert.ok((await maxDiff(y0, tf.image.resizeBilinear(old, [32, 32], false, true))) < 1e-5, 'alpha 0 output is the bilinear upsampling of the old level');
  assert.ok((await maxDiff(y0, tf.image.resizeNearestNeighbor(old, [32, 32]))) > 1e-3, 'and not the nearest one');
  // a training step reaches every variable through the bilinear upsampling
  const adam = new Adam(cfg.optim);
  const before = await values(model);
  await trainStep(model, adam, { step: 0, identity: 1, resolution: 32, alpha: 0.5, size: 2, x: input(32), m: new Float32Array(2 * 32 * 32).fill(1) });
  const after = await values(model);
  const moved = [...before].filter(([n, v]) => n.startsWith('dec1.') && after.get(n)!.some((a, i) => a !== v[i])).length;
  assert.ok(moved > 0 && [...before].filter(([n, v]) => n.startsWith('dec1.16.') && after.get(n)!.every((a, i) => a === v[i])).length === 0, 'decoder 1 trained through the upsampling');
  model.dispose();
  adam.dispose();
});

test('checkpoints round-trip weights and optimizer state exactly; another config is a clear error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'facecomb-ckpt-'));
  try {
    for (const bn of ['none', 'both'] as const) {
      const cfg = tiny({ batchNorm: bn });
      const a = new CombModel(cfg);
      a.build(16);
      const adamA = new Adam(cfg.optim);
      const b = { step: 0, identity: 0, resolution: 16, alpha: 1, size: 2, x: input(16), m: new Float32Array(512).fill(1) };
      await trainStep(a, adamA, b);
      await trainStep(a, adamA, { ...b, identity: 2 });
      const ck = join(dir, `ck-${bn}`);
      await saveCheckpoint(ck, a, adamA, { step: 2, resolution: 16, alpha: 1, rng: { seed: 1, key: 'k', counter: 2 }, engine: 'wasm' }, []);
      const c = new CombModel(cfg);
      const adamC = new Adam(cfg.optim);
      const st = await loadCheckpoint(ck, c, adamC);
      assert.equal(st.step, 2);
      assert.deepEqual(await values(c), await values(a));
      if (bn === 'both') assert.ok(c.buffers.size > 0 && c.buffers.has('enc.16.conv1.bn.mean'));
      for (const [n, bv] of a.buffers) assert.deepEqual(await c.buffers.get(n)!.data(), await bv.data());
      // the same next step from both
      const la = await trainStep(a, adamA, { ...b, identity: 1 });
      const lc = await trainStep(c, adamC, { ...b, identity: 1 });
      assert.equal(lc, la);
      const other = new CombModel(tiny({ batchNorm: bn, latent: 24 }));
      await assert.rejects(loadCheckpoint(ck, other, null), (e: Error) => e.message.includes(ck) && e.message.includes("'latent' is 16 there but 24 now"));
      for (const m of [a, c, other]) m.dispose();
      adamA.dispose();
      adamC.dispose();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** A small model trained one step on the current engine and checkpointed into `ck`. */
async function oneStepCheckpoint(ck: string) {
  const cfg = tiny({ channels: { 4: 4, 8: 4, 16: 4, 32: 4 }, latent: 8 });
  const a = new CombModel(cfg);
  a.build(16);
  const adamA = new Adam(cfg.optim);
  const b = { step: 0, identity: 0, resolution: 16, alpha: 1, size: 2, x: input(16), m: new Float32Array(512).fill(1) };
  await trainStep(a, adamA, b);
  await saveCheckpoint(ck, a, adamA, { step: 1, resolution: 16, alpha: 1, rng: { seed: 1, key: 'k', counter: 1 }, engine: tf.getBackend() }, []);
  return { cfg, a, adamA, b };
}

test('on the cpu engine too: a reloaded checkpoint gives the same next-step loss', async () => {
  await initEngine({ backend: 'cpu', log: () => undefined });
  const dir = await mkdtemp(join(tmpdir(), 'facecomb-ckpt-cpu-'));
  try {
    const { cfg, a, adamA, b } = await oneStepCheckpoint(join(dir, 'ck'));
    const c = new CombModel(cfg);
    const adamC = new Adam(cfg.optim);
    await loadCheckpoint(join(dir, 'ck'), c, adamC);
    const la = await trainStep(a, adamA, { ...b, identity: 1 });
    assert.equal(await trainStep(c, adamC, { ...b, identity: 1 }), la);
    assert.equal(await trainStep(c, adamC, { ...b, identity: 0 }), await trainStep(a, adamA, { ...b, identity: 0 }));
    for (const m of [a, c]) m.dispose();
    adamA.dispose();
    adamC.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
    await initEngine({ backend: 'wasm', log: () => undefined });
  }
});

test('a checkpoint written on one engine resumes on another with another batch (a run-time choice)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'facecomb-ckpt-batch-'));
  try {
    await initEngine({ backend: 'cpu', log: () => undefined });
    const ck = join(dir, 'ck');
    const { cfg, a, adamA } = await oneStepCheckpoint(ck);
    await initEngine({ backend: 'wasm', log: () => undefined });
    const lowered = { ...cfg, schedule: { ...cfg.schedule, batch: { ...cfg.schedule.batch, 16: 1 } } };
    const c = new CombModel(lowered);
    const st = await loadCheckpoint(ck, c, new Adam(lowered.optim));
    assert.equal(st.engine, 'cpu');
    assert.deepEqual(st.batch, cfg.schedule.batch);
    assert.deepEqual(await values(c), await values(a));
    // a checkpoint from before the config had groups (a flat config, with the batch and lr inside) loads too
    const state = JSON.parse(await readFile(join(ck, 'state.json'), 'utf8')) as { config: { model: Record<string, unknown> } };
    state.config = { ...state.config.model, batch: { 16: 2, 32: 2 }, lr: 0.5 } as unknown as typeof state.config;
    await writeFile(join(ck, 'state.json'), JSON.stringify(state));
    const d = new CombModel(lowered);
    await loadCheckpoint(ck, d, null);
    // still refused: a field of the model's identity
    await assert.rejects(loadCheckpoint(ck, new CombModel({ ...lowered, model: { ...lowered.model, leak: 0.1 } }), null), /'leak' is 0.2 there but 0.1 now/);
    for (const m of [a, c, d]) m.dispose();
    adamA.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
    await initEngine({ backend: 'wasm', log: () => undefined });
  }
});
