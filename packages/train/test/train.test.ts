import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readImage } from '@facecomb/image';
import { initEngine, readDataset, resolveConfig, train, swapFaces, Interrupted, readCard, type IdentitySet, type MetricsRecord, type TrainConfig } from '../src/index.js';
import { alignFixture, datasetFixture, type Fixture } from './fixtures.js';
import { PREVIEW_HEADER, previewColumns } from '../src/preview.js';

const BACKEND = process.env.FACECOMB_TEST_BACKEND ?? 'wasm';
const NAMES = ['aoc', 'katie', 'speaker1'];
let fx: Fixture;
let sets: IdentitySet[];
let work: string;
let engine: { name: string; why: string };

const params = {
  resolution: 32, startResolution: 16, stepsPerFade: 15, stepsPerStable: { 16: 45, 32: 15 }, batch: 4, lr: 1e-3,
  channels: { 4: 16, 8: 16, 16: 16, 32: 8 }, latent: 32, checkpointEvery: 10, previewEvery: 30, seed: 11,
};
const cfg = (): TrainConfig => resolveConfig(params, NAMES);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

let runA: { metrics: MetricsRecord[]; out: string };

before(async () => {
  fx = await datasetFixture(48, 20);
  sets = await Promise.all(NAMES.map((n) => readDataset(fx.datasets[n])));
  work = await mkdtemp(join(tmpdir(), 'facecomb-train-'));
  engine = await initEngine({ backend: BACKEND, log: () => undefined });
  const out = join(work, 'a');
  const res = await train({ config: cfg(), sets, out, engine });
  runA = { metrics: res.metrics, out };
});

test('a 3-identity model on real crops lowers its loss for every identity', () => {
  const m = runA.metrics;
  assert.equal(m.length, 75);
  for (const name of NAMES) {
    const at16 = m.filter((r) => r.identity === name && r.resolution === 16).map((r) => r.loss);
    assert.equal(at16.length, 15);
    const first = mean(at16.slice(0, 3));
    const last = mean(at16.slice(-3));
    assert.ok(last < first * 0.9, `${name}: loss ${first.toFixed(4)} -> ${last.toFixed(4)} did not fall by 10%`);
  }
  assert.ok(m.every((r) => Number.isFinite(r.loss) && r.imgPerSec > 0));
  // decoders are trained in turn
  assert.deepEqual(m.slice(0, 6).map((r) => r.identity), [...NAMES, ...NAMES]);
});

test('grows a level: alpha goes 0 -> 1 over the fade, then the new level trains at full strength', () => {
  const m = runA.metrics;
  const fade = m.filter((r) => r.step > 45 && r.step <= 60);
  assert.ok(m.filter((r) => r.step <= 45).every((r) => r.resolution === 16 && r.level === 4 && r.alpha === 1));
  assert.ok(fade.every((r) => r.resolution === 32 && r.level === 5));
  assert.equal(fade[0].alpha, 0);
  for (let i = 1; i < fade.length; i++) assert.ok(fade[i].alpha > fade[i - 1].alpha);
  assert.ok(fade[fade.length - 1].alpha > 0.9 && fade[fade.length - 1].alpha < 1);
  assert.ok(m.filter((r) => r.step > 60).every((r) => r.alpha === 1 && r.resolution === 32));
});

test('metrics.jsonl, previews and the model folder with its card are written', async () => {
  const lines = (await readFile(join(runA.out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as MetricsRecord);
  assert.deepEqual(lines.map((l) => l.loss), runA.metrics.map((r) => r.loss));
  for (const k of ['step', 'level', 'alpha', 'losses', 'imgPerSec']) assert.ok(k in lines[0], `metrics lack ${k}`);
  assert.deepEqual(Object.keys(lines[74].losses), NAMES);
  const previews = (await readdir(join(runA.out, 'previews'))).sort();
  for (const step of ['000030', '000060']) for (const n of NAMES) assert.ok(previews.includes(`${step}_${n}.png`), `missing preview ${step}_${n}.png in [${previews}]`);
  const p = await readImage(join(runA.out, 'previews', `000060_katie.png`));
  // a row-label margin, then input | reconstruction | swap into each of the 2 other identities, 64 px tiles,
  // under a header naming the columns
  const left = p.width - 4 * 64;
  assert.ok(left > 20 && left < 80, `row-label margin ${left} px`);
  assert.equal((p.height - PREVIEW_HEADER) % 64, 0);
  assert.deepEqual(previewColumns(NAMES, 1), ['input', 'katie (own)', 'aoc', 'speaker1']);
  const ink = (x0: number, y0: number, w: number, h: number) => {
    let n = 0;
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) if (p.data[(y * p.width + x) * 3] > 0.9) n++;
    return n;
  };
  for (let c = 0; c < 4; c++) assert.ok(ink(left + c * 64, 0, 64, PREVIEW_HEADER) > 10, `column ${c} has a label`);
  assert.ok(ink(0, PREVIEW_HEADER, left, 64) > 10, 'the first row has a label');
  for (const f of ['weights.bin', 'weights.json', 'optimizer.bin', 'optimizer.json', 'state.json', 'card.json']) assert.ok(existsSync(join(runA.out, 'model', f)), f);
  const card = await readCard(join(runA.out, 'model'));
  assert.deepEqual(card.identities, NAMES);
  assert.equal(card.level, 5);
  assert.equal(card.alpha, 1);
  assert.equal(card.step, 75);
  assert.equal(card.engine, engine.name);
  assert.deepEqual(card.config.model.channels, { 4: 16, 8: 16, 16: 16, 32: 8 });
});

test('resuming from a checkpoint gives the same next-step loss as the uninterrupted run', async () => {
  const out = join(work, 'b');
  const ckpt = join(work, 'b-resume');
  await assert.rejects(train({ config: cfg(), sets, out, checkpointDir: ckpt, engine, stopAfter: 52 }), (e: Error) => e instanceof Interrupted && e.step === 52);
  const state = JSON.parse(await readFile(join(ckpt, 'state.json'), 'utf8'));
  assert.equal(state.step, 52);
  assert.ok(state.alpha > 0 && state.alpha < 1, 'the checkpoint is mid-fade');
  assert.equal(state.rng.counter, 52);
  const res = await train({ config: cfg(), sets, out, checkpointDir: ckpt, engine });
  assert.equal(res.resumedFrom, 52);
  assert.equal(res.metrics[0].step, 53);
  const a = runA.metrics.filter((r) => r.step > 52);
  assert.equal(res.metrics[0].loss, a[0].loss, 'next-step loss after resume');
  assert.deepEqual(res.metrics.map((r) => r.loss), a.map((r) => r.loss));
  // the loss curve continues instead of restarting
  const lines = (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as MetricsRecord);
  assert.deepEqual(lines.map((l) => l.step), Array.from({ length: 75 }, (_, i) => i + 1));
  assert.deepEqual(lines.map((l) => l.loss), runA.metrics.map((r) => r.loss));
});

test('a checkpoint of another config is a clear error naming it and the field', async () => {
  const ckpt = join(work, 'c-resume');
  await assert.rejects(train({ config: cfg(), sets, out: join(work, 'c'), checkpointDir: ckpt, engine, stopAfter: 3 }), Interrupted);
  const other = resolveConfig({ ...params, latent: 48 }, NAMES);
  await assert.rejects(train({ config: other, sets, out: join(work, 'c2'), checkpointDir: ckpt, engine }), (e: Error) => {
    assert.match(e.message, /checkpoint .*c-resume was made with another config: 'latent' is 32 there but 48 now/);
    return true;
  });
});

test('swap: target crops decoded by the source decoder, frames without a face get no file', async () => {
  const align = await alignFixture(fx, 'katie', 6);
  const out = join(work, 'swap');
  const res = await swapFaces({ modelDir: join(runA.out, 'model'), alignDir: align, out, source: 'aoc', batch: 4, engine: engine.name });
  assert.deepEqual(res.noFace, [2]);
  assert.deepEqual(res.frames, [1, 3, 4, 5, 6]);
  const files = (await readdir(join(out, 'faces'))).sort();
  assert.deepEqual(files, ['000001.png', '000003.png', '000004.png', '000005.png', '000006.png']);
  assert.deepEqual((await readdir(join(out, 'masks'))).sort(), files);
  const meta = JSON.parse(await readFile(join(out, 'meta.json'), 'utf8'));
  assert.equal(meta.kind, 'swap');
  assert.equal(meta.source, 'aoc');
  assert.equal(meta.size, 48);
  assert.deepEqual(meta.noFace, [2]);
  const face = await readImage(join(out, 'faces', '000001.png'));
  assert.equal(face.width, 48);
  const crop = await readImage(join(align, 'crops', '000001.png'));
  let d = 0;
  for (let i = 0; i < face.data.length; i++) d += Math.abs(face.data[i] - crop.data[i]);
  assert.ok(d / face.data.length > 0.01, 'the swap should not copy the target crop');
  // the same crop through katie's own decoder differs from the swap into aoc
  const self = join(work, 'swap-self');
  await swapFaces({ modelDir: join(runA.out, 'model'), alignDir: align, out: self, source: 'katie', engine: engine.name });
  const selfFace = await readImage(join(self, 'faces', '000001.png'));
  let ds = 0;
  for (let i = 0; i < face.data.length; i++) ds += Math.abs(face.data[i] - selfFace.data[i]);
  assert.ok(ds / face.data.length > 0.005, 'decoders of different identities should render differently');
  await assert.rejects(swapFaces({ modelDir: join(runA.out, 'model'), alignDir: align, out, source: 'nobody', engine: engine.name }), /'nobody' is not an identity of the model; it has \[aoc, katie, speaker1\]/);
});

test('cleanup', { skip: !!process.env.KEEP }, async () => {
  await rm(work, { recursive: true, force: true });
});
