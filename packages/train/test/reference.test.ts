/**
 * Our comb model against the PyTorch reference (bench/reference/comb_reference.py): with the same weights and
 * inputs, the forward outputs, the loss, the gradient of every trained variable, the batch-norm running
 * statistics after the step, an inference-mode forward pass and (two cases) the losses and weights of a few
 * Adam steps must agree, on the cpu and wasm engines. The reference computes in float64 from the same float32
 * values, so the differences are our float32 rounding only (tolerances below).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { initEngine, tf, CombModel, Adam, resolveConfig, reconstructionLoss, trainStep, type TrainConfig } from '../src/index.js';
import type { BatchStat } from '../src/model.js';

const FIXTURES = fileURLToPath(new URL('../../../bench/reference/fixtures/', import.meta.url));

interface Case {
  name: string;
  identity: number;
  resolution: number;
  alpha: number;
  batch: number;
  /** Training steps on the same batch whose losses and final weights the fixture holds (absent: none). */
  steps?: number;
  params: Record<string, unknown>;
  tensors: Record<string, { offset: number; shape: number[] }>;
}

const index = JSON.parse(readFileSync(FIXTURES + 'comb.json', 'utf8')) as { data: string; cases: Case[] };
const bytes = readFileSync(FIXTURES + index.data);
const blob = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);

/**
 * Tolerances, as the largest |ours - reference| over a tensor relative to the tensor's largest |reference|.
 * float32 has a 6e-8 relative step; sums of up to 3*3*8 products per layer over ~10 layers, and the
 * batch-norm and SSIM statistics over a batch, put ours within ~1e-6 of the reference's scale (measured on
 * cpu / wasm: forward 1.2e-6 / 7.1e-7, loss 1.9e-7 / 4.8e-7). Gradients go through the backward pass as well,
 * where the loss's divisions (SSIM terms near C1/C2) and batch norm's 1/sqrt(var) amplify rounding (measured
 * 1.6e-5 / 8.2e-6). Each bound leaves 5-10x for another summation order (another engine or kernel); a changed
 * layer or loss term moves figures by >1e-4 (1e-2 and more for a layer). `zero`: a gradient that is 0 in
 * exact arithmetic, against the case's largest gradient (measured 2.4e-7 / 5.9e-7). `update`: a weight's change
 * over the Adam steps (~3e-3 at lr 1e-3), against the reference's change: float32 weights near 0.3 round at
 * ~2e-8 and Adam divides small gradients by their own size (measured 1.6e-4 / 1.0e-4). REFERENCE_ERRORS=1
 * prints every tensor's error.
 */
const TOL = { forward: 1e-5, loss: 1e-5, grad: 1e-4, zero: 1e-5, update: 1e-3 };

function fixture(c: Case, name: string): { data: Float32Array; shape: number[] } {
  const t = c.tensors[name];
  if (!t) throw new Error(`reference fixture case ${c.name} has no tensor '${name}': regenerate with python3 bench/reference/comb_reference.py`);
  const n = t.shape.reduce((a, b) => a * b, 1);
  return { data: blob.subarray(t.offset, t.offset + n), shape: t.shape };
}

const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** The largest difference relative to `scale` (by default the reference's largest magnitude); asserts shapes are equal. */
function relError(what: string, ours: tf.Tensor, ref: { data: Float32Array; shape: number[] }, scale = maxAbs(ref.data)): number {
  assert.deepEqual(ours.shape, ref.shape, `${what}: shape`);
  const a = ours.dataSync();
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - ref.data[i]));
  return diff / Math.max(scale, 1e-30);
}

/** Asserts the relative error is within tol; returns it. */
function expectClose(what: string, ours: tf.Tensor, ref: { data: Float32Array; shape: number[] }, tol: number, scale?: number): number {
  const e = relError(what, ours, ref, scale);
  if (process.env.REFERENCE_ERRORS) console.log(`${what}: ${e.toExponential(2)}`);
  assert.ok(e <= tol, `${what}: relative error ${e.toExponential(2)} above ${tol} (see reference.test.ts)`);
  return e;
}

function withPrefix(c: Case, prefix: string): string[] {
  return Object.keys(c.tensors).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)).sort();
}

/** A model built as the trainer builds it, holding the fixture's weights and batch-norm buffers. */
function referenceModel(c: Case): CombModel {
  const cfg: TrainConfig = resolveConfig(c.params, ['a', 'b']);
  const model = new CombModel(cfg);
  model.build(c.resolution);
  for (const name of withPrefix(c, 'param.')) {
    const t = fixture(c, `param.${name}`);
    model.setValue(name, 'param', t.shape, t.data);
  }
  for (const name of withPrefix(c, 'buffer.')) {
    const t = fixture(c, `buffer.${name}`);
    model.setValue(name, 'buffer', t.shape, t.data);
  }
  return model;
}

/** Compares every gradient with the reference's; returns the largest relative error (of the non-zero ones). */
function compareGradients(c: Case, model: CombModel, grads: Record<string, tf.Tensor>): number {
  const largest = Math.max(...withPrefix(c, 'grad.').map((n) => maxAbs(fixture(c, `grad.${n}`).data)));
  let worst = 0;
  for (const [tfName, g] of Object.entries(grads)) {
    const name = model.nameOf(tfName);
    // ours of a gradient that is 0 exactly is rounding noise: measured against the case's largest gradient
    const zero = beforeBatchNorm(c, name);
    const e = expectClose(`gradient of ${name}${zero ? ' (0 exactly)' : ''}`, g, fixture(c, `grad.${name}`), zero ? TOL.zero : TOL.grad, zero ? largest : undefined);
    if (!zero) worst = Math.max(worst, e);
  }
  return worst;
}

/** A conv bias that batch norm follows: its gradient is 0 in exact arithmetic (the batch mean removes it). */
const beforeBatchNorm = (c: Case, name: string) => name.endsWith('.b') && `param.${name.slice(0, -2)}.bn.gamma` in c.tensors;

/**
 * `c.steps` training steps (trainStep: gradients, Adam, running statistics) on the fixture's batch: each
 * step's loss, and each weight's change over the steps against the reference's change.
 */
async function compareSteps(c: Case): Promise<void> {
  const model = referenceModel(c);
  const adam = new Adam(model.cfg.optim);
  const batch = { identity: c.identity, resolution: c.resolution, alpha: c.alpha, size: c.batch, x: fixture(c, 'input.x').data, m: fixture(c, 'input.mask').data };
  const losses: number[] = [];
  for (let step = 0; step < c.steps!; step++) losses.push(await trainStep(model, adam, { ...batch, step }));
  const ours = tf.tensor1d(losses);
  expectClose('losses of the training steps', ours, fixture(c, 'steps.loss'), TOL.loss);
  for (const name of withPrefix(c, 'steps.param.')) {
    // Adam turns the rounding noise of a 0 gradient into full steps: such a bias moves in ours, not in the
    // reference, and no output sees it (batch norm subtracts it)
    if (beforeBatchNorm(c, name)) continue;
    const before = fixture(c, `param.${name}`);
    const after = fixture(c, `steps.param.${name}`);
    const change = { data: after.data.map((v, i) => v - before.data[i]), shape: after.shape };
    const moved = tf.tidy(() => tf.sub(model.params.get(name)!, tf.tensor(before.data, before.shape)));
    expectClose(`change of ${name} over ${c.steps} steps`, moved, change, TOL.update);
    moved.dispose();
  }
  ours.dispose();
  adam.dispose();
  model.dispose();
}

// cpu: tfjs's plain kernels and our registered training kernels; wasm: XNNPACK's summation order, the CPU trainer's engine
for (const engine of ['cpu', 'wasm'] as const) for (const c of index.cases) {
  test(`reference ${c.name} on ${engine}: forward, loss, gradients and batch-norm statistics match PyTorch`, async (t) => {
    await initEngine({ backend: engine, log: () => undefined });
    const model = referenceModel(c);
    const r = c.resolution;
    const vars = model.trainableAt(r, c.alpha, c.identity);
    // the step trains exactly the reference's variables, with the same shapes
    assert.deepEqual(vars.map((v) => model.nameOf(v.name)).sort(), withPrefix(c, 'param.'), 'trained variables');
    const x = tf.tensor4d(fixture(c, 'input.x').data, [c.batch, r, r, 3]);
    const m = tf.tensor4d(fixture(c, 'input.mask').data, [c.batch, r, r, 1]);
    const stats: BatchStat[] = [];
    let z: tf.Tensor | null = null;
    let y: tf.Tensor | null = null;
    const { value, grads } = tf.variableGrads(() => {
      z = tf.keep(model.encode(x, c.alpha, { training: true, stats }));
      y = tf.keep(model.decode(z as tf.Tensor2D, c.identity, r, c.alpha, { training: true, stats }));
      return reconstructionLoss(y as tf.Tensor4D, x, m, model.cfg.loss);
    }, vars);

    expectClose('latent z', z!, fixture(c, 'out.z'), TOL.forward);
    expectClose('output y', y!, fixture(c, 'out.y'), TOL.forward);
    expectClose('loss', value.reshape([1]), fixture(c, 'out.loss'), TOL.loss);
    const worst = compareGradients(c, model, grads);
    t.diagnostic(`largest relative error of the ${vars.length} gradients: ${worst.toExponential(2)}`);

    model.updateRunningStats(stats);
    const running = withPrefix(c, 'running.');
    assert.equal(running.length, withPrefix(c, 'buffer.').length, 'every batch norm records its statistics');
    for (const name of running) expectClose(`running ${name}`, model.buffers.get(name)!, fixture(c, `running.${name}`), TOL.forward);

    // inference mode reads the running statistics: reset them to the fixture's and compare
    for (const name of withPrefix(c, 'buffer.')) {
      const b = fixture(c, `buffer.${name}`);
      model.setValue(name, 'buffer', b.shape, b.data);
    }
    const yEval = tf.tidy(() => model.decode(model.encode(x, c.alpha, { training: false }), c.identity, r, c.alpha, { training: false }));
    expectClose('inference output', yEval, fixture(c, 'out.yEval'), TOL.forward);

    tf.dispose([x, m, z!, y!, value, yEval, ...Object.values(grads)]);
    model.dispose();
  });
  if (c.steps) test(`reference ${c.name} on ${engine}: ${c.steps} training steps (Adam) match PyTorch's`, () => compareSteps(c));
}
