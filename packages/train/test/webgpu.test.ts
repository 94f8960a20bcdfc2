/**
 * The comb model's training path on webgpu against the cpu backend: the loss, every gradient (encoder, one
 * decoder, batch-norm parameters, the fade-in branch's fromRGB/toRGB with its avgPool and nearest upsample)
 * and the parameters after two Adam steps, at an odd batch (3), with batch norm and mid fade-in (alpha 0.4).
 * Convs with batch norm run conv + bias, norm, then LeakyReLU; those without run as one conv2dLeakyRelu (fused
 * forward, and on webgpu the derivative fused into the gradient kernels), so both paths are checked.
 * On webgpu every synchronous read throws (forbidSyncReads).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, switchOrSkip, forbidSyncReads } from '@facecomb/engine';
import { tf, CombModel, Adam, resolveConfig, trainStep, reconstructionLoss, maskedMsSsim, maskedSsim, maskedL1, type TrainConfig } from '../src/index.js';
import { Rng } from '../src/rng.js';

const TOL = 1e-4;
const cfg: TrainConfig = resolveConfig({ resolution: 32, startResolution: 16, stepsPerFade: 4, stepsPerStable: 4, batch: 3, lr: 1e-3, latent: 16,
  channels: { 4: 8, 8: 8, 16: 6, 32: 5 }, batchNorm: 'both', seed: 5 }, ['a', 'b', 'c']);
const B = 3, R = 32, ALPHA = 0.4;

function values(n: number, key: string): Float32Array {
  const rng = new Rng(7, key);
  return new Float32Array(n).map(() => rng.next());
}
const batch = (step: number, identity: number) => ({
  step, identity, resolution: R, alpha: ALPHA, size: B, x: values(B * R * R * 3, `x${step}`), m: values(B * R * R, `m${step}`).map((v) => (v > 0.3 ? 1 : 0)),
});

interface Run { loss: number; grads: Record<string, Float32Array>; losses: number[]; params: Record<string, Float32Array> }

async function runOn(engine: 'cpu' | 'webgpu'): Promise<Run> {
  await initEngine({ backend: engine, log: () => undefined });
  const model = new CombModel(cfg);
  model.build(R);
  const b = batch(0, 1);
  const { value, grads } = tf.tidy(() => {
    const x = tf.tensor4d(b.x, [B, R, R, 3]);
    const m = tf.tensor4d(b.m, [B, R, R, 1]);
    return tf.variableGrads(() => reconstructionLoss(
      model.decode(model.encode(x, ALPHA, { training: true }), 1, R, ALPHA, { training: true }), x, m, cfg.loss), model.trainableAt(R, ALPHA, 1));
  });
  const out: Run = { loss: (await value.data())[0], grads: {}, losses: [], params: {} };
  for (const [k, g] of Object.entries(grads)) out.grads[model.nameOf(k)] = (await g.data()) as Float32Array;
  tf.dispose([value, ...Object.values(grads)]);
  const adam = new Adam(cfg.optim);
  for (let s = 0; s < 2; s++) out.losses.push(await trainStep(model, adam, batch(s, s + 1)));
  for (const [n, v] of model.params) out.params[n] = (await v.data()) as Float32Array;
  model.dispose();
  adam.dispose();
  return out;
}

/** max |got - ref| / max(scale, max |ref|). */
function relError(got: Float32Array, ref: Float32Array, scale = 0): number {
  let diff = 0, mag = scale;
  for (let i = 0; i < ref.length; i++) {
    if (!Number.isFinite(got[i])) return Infinity;
    diff = Math.max(diff, Math.abs(got[i] - ref[i]));
    mag = Math.max(mag, Math.abs(ref[i]));
  }
  return diff / Math.max(mag, 1e-30);
}

test('webgpu: the comb model\'s loss, gradients and two Adam steps match the cpu backend', async (t) => {
  const cpu = await runOn('cpu');
  const skip = await switchOrSkip('webgpu');
  if (skip) { t.skip(skip); return; }
  await initEngine({ backend: 'webgpu', log: () => undefined });
  const guard = forbidSyncReads(); // nothing on the training path may read synchronously
  let gpu: Run;
  try {
    gpu = await runOn('webgpu');
  } finally {
    guard.restore();
  }
  assert.equal(guard.attempts(), 0);
  // the convs without batch norm (fromRGB, the final encoder convs, the decoder's base) ran as conv2dLeakyRelu
  // with the LeakyReLU derivative fused into our gradient kernels
  const shaders = Object.keys((tf.engine().findBackend('webgpu') as unknown as { pipelineCache: Record<string, unknown> }).pipelineCache);
  for (const kind of ['convdx', 'convdw', 'convdb']) assert.ok(shaders.some((k) => k.includes(kind) && k.includes('_leak')), `no fused ${kind} kernel ran`);
  assert.ok(Math.abs(gpu.loss - cpu.loss) / cpu.loss < TOL, `loss ${gpu.loss} on webgpu, ${cpu.loss} on cpu`);
  assert.deepEqual(Object.keys(gpu.grads).sort(), Object.keys(cpu.grads).sort());
  assert.ok(Object.keys(cpu.grads).some((k) => k.includes('bn')) && Object.keys(cpu.grads).some((k) => k.includes('fromRGB.16')));
  // Errors relative to the largest gradient of the model: a conv bias followed by batch norm has a gradient
  // that is zero in exact arithmetic (the norm subtracts it), ~1e-9 of float noise on either engine.
  const scale = Math.max(...Object.values(cpu.grads).map((g) => g.reduce((a, v) => Math.max(a, Math.abs(v)), 0)));
  const beforeNorm = (k: string) => k.endsWith('.b') && `${k.slice(0, -2)}.bn.gamma` in cpu.params;
  assert.ok(Object.keys(cpu.grads).filter(beforeNorm).length > 0);
  for (const k of Object.keys(cpu.grads)) {
    const e = relError(gpu.grads[k], cpu.grads[k], scale);
    assert.ok(e < TOL, `gradient of ${k}: error ${e.toExponential(2)} of the largest gradient, webgpu vs cpu`);
  }
  for (let s = 0; s < 2; s++) assert.ok(Math.abs(gpu.losses[s] - cpu.losses[s]) / cpu.losses[s] < TOL, `step ${s} loss ${gpu.losses[s]} vs ${cpu.losses[s]}`);
  // Adam turns the noise gradient of those biases into steps of up to lr either way: only their bound is checked.
  for (const k of Object.keys(cpu.params)) {
    if (beforeNorm(k)) {
      const e = relError(gpu.params[k], cpu.params[k], 1);
      assert.ok(e <= 2 * 2 * cfg.optim.lr * 1.01, `bias ${k} before batch norm moved ${e} apart`);
      continue;
    }
    const e = relError(gpu.params[k], cpu.params[k]);
    assert.ok(e < TOL, `parameter ${k} after 2 Adam steps: relative error ${e.toExponential(2)} webgpu vs cpu`);
  }
  await initEngine({ backend: 'wasm', log: () => undefined });
});

/** Value and gradient (w.r.t. the reconstruction) of each loss term at odd and MS-SSIM sizes, on one engine. */
async function lossTerms(engine: 'cpu' | 'webgpu'): Promise<Record<string, Float32Array>> {
  await initEngine({ backend: engine, log: () => undefined });
  const out: Record<string, Float32Array> = {};
  for (const [r, win] of [[37, 7], [29, 5], [128, 7]] as const) {
    const x = tf.tensor4d(values(2 * r * r * 3, `lx${r}`), [2, r, r, 3]);
    const y = tf.tensor4d(values(2 * r * r * 3, `ly${r}`), [2, r, r, 3]);
    const m = tf.tensor4d(values(2 * r * r, `lm${r}`), [2, r, r, 1]);
    const terms: Record<string, (a: tf.Tensor4D) => tf.Scalar> = {
      ssim: (a) => maskedSsim(a, x, m, win), l1: (a) => maskedL1(a, x, m),
      ...(r === 128 ? { msssim: (a: tf.Tensor4D) => maskedMsSsim(a, x, m, win) } : {}),
    };
    for (const [k, f] of Object.entries(terms)) {
      const { value, grad } = tf.valueAndGrad((a: tf.Tensor) => f(a as tf.Tensor4D))(y);
      out[`${k} ${r}px value`] = (await value.data()) as Float32Array;
      out[`${k} ${r}px gradient`] = (await grad.data()) as Float32Array;
      tf.dispose([value, grad]);
    }
    tf.dispose([x, y, m]);
  }
  return out;
}

test('webgpu: SSIM, MS-SSIM and L1 losses and their gradients match the cpu backend at odd sizes', async (t) => {
  const cpu = await lossTerms('cpu');
  const skip = await switchOrSkip('webgpu');
  if (skip) { t.skip(skip); return; }
  const gpu = await lossTerms('webgpu');
  for (const k of Object.keys(cpu)) {
    const e = relError(gpu[k], cpu[k]);
    assert.ok(e < TOL, `${k}: relative error ${e.toExponential(2)} webgpu vs cpu`);
  }
  await initEngine({ backend: 'wasm', log: () => undefined });
});
