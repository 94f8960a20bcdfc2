/**
 * The fused webgpu SSIM + L1 loss (engine src/webgpu/ssim-loss.ts, used by reconstructionLoss on webgpu)
 * against the composed tf-ops loss on the cpu backend: the loss and its gradient w.r.t. the prediction on
 * random inputs of odd sizes, with and without a shard's LossNorm, and the number of webgpu programs run for
 * loss + gradient with the fused loss against the composed ops on the same backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, switchOrSkip, setWebgpuLoss, relError } from '@facecomb/engine';
import { tf, reconstructionLoss } from '../src/index.js';
import type { LossWeights } from '../src/config.js';
import type { LossNorm } from '../src/loss.js';
import { Rng } from '../src/rng.js';

const TOL = 1e-4;

interface Case { shape: [number, number, number, number]; w: LossWeights; norm?: LossNorm }
const CASES: Case[] = [
  { shape: [3, 29, 37, 3], w: { ssim: 1, l1: 1, msssim: false, window: 7, detail: 0 } },
  { shape: [2, 32, 32, 3], w: { ssim: 0.7, l1: 2, msssim: false, window: 5, detail: 0 } },
  { shape: [3, 13, 11, 3], w: { ssim: 1, l1: 0, msssim: false, window: 7, detail: 0 }, norm: { l1: 300, ssim: 150, share: 0.6 } },
  { shape: [1, 9, 10, 3], w: { ssim: 0, l1: 1, msssim: false, window: 7, detail: 0 } },
  // 131072 pixels: more than the 256 workgroups x 256 threads of partial sums, so each thread strides twice
  { shape: [2, 256, 256, 3], w: { ssim: 1, l1: 1, msssim: false, window: 7, detail: 0 } },
];

function values(n: number, key: string): Float32Array {
  const rng = new Rng(11, key);
  return new Float32Array(n).map(() => rng.next());
}

/** Loss and d loss / d y of a case (inputs fixed per case). */
async function run(c: Case, i: number): Promise<{ loss: number; grad: Float32Array }> {
  const [b, h, w] = c.shape;
  const n = c.shape.reduce((a, v) => a * v, 1);
  const y = tf.tensor4d(values(n, `y${i}`), c.shape);
  const x = tf.tensor4d(values(n, `x${i}`), c.shape);
  const m = tf.tensor4d(values(b * h * w, `m${i}`).map((v) => (v > 0.3 ? v : 0)), [b, h, w, 1]);
  const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => reconstructionLoss(t as tf.Tensor4D, x, m, c.w, c.norm))(y);
  const out = { loss: (await value.data())[0], grad: (await grad.data()) as Float32Array };
  tf.dispose([y, x, m, value, grad]);
  return out;
}

test('webgpu: the fused SSIM + L1 loss and its gradient match the composed loss on cpu', async (t) => {
  await initEngine({ backend: 'cpu', log: () => undefined });
  const refs = [];
  for (let i = 0; i < CASES.length; i++) refs.push(await run(CASES[i], i));
  const skip = await switchOrSkip('webgpu');
  if (skip) return t.skip(skip);
  for (let i = 0; i < CASES.length; i++) {
    const before = tf.memory().numTensors;
    const got = await run(CASES[i], i);
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    const el = Math.abs(got.loss - refs[i].loss) / Math.abs(refs[i].loss);
    assert.ok(el < TOL, `${JSON.stringify(CASES[i])}: loss ${got.loss} vs ${refs[i].loss}`);
    const eg = relError(got.grad, refs[i].grad);
    assert.ok(eg < TOL, `${JSON.stringify(CASES[i])}: gradient relative error ${eg.toExponential(2)}`);
  }
});

test('webgpu: the fused loss runs 4 programs for loss + gradient, far fewer than the composed ops', async (t) => {
  const skip = await switchOrSkip('webgpu');
  if (skip) return t.skip(skip);
  const be = tf.backend() as unknown as { runWebGPUProgram: (...a: unknown[]) => unknown };
  const own = be.runWebGPUProgram;
  let programs = 0;
  be.runWebGPUProgram = function (this: unknown, ...a: unknown[]) { programs++; return own.apply(this, a); };
  const count = async (fused: boolean): Promise<number> => {
    setWebgpuLoss(fused);
    await run(CASES[0], 0); // compiles
    programs = 0;
    await run(CASES[0], 0);
    return programs;
  };
  try {
    const composed = await count(false);
    const fused = await count(true);
    t.diagnostic(`programs for loss + gradient: composed ${composed}, fused ${fused}`);
    // run() itself uploads 3 tensors (no programs); the fused loss is 2 forward + 2 backward programs
    assert.equal(fused, 4);
    assert.ok(composed > 4 * fused, `composed ${composed}`);
  } finally {
    be.runWebGPUProgram = own;
    setWebgpuLoss(true);
  }
});

test('webgpu: a mask cast from bool (an int32 buffer on webgpu) takes the composed ops and matches cpu', async (t) => {
  const shape: [number, number, number, number] = [2, 15, 17, 3];
  const w: LossWeights = { ssim: 1, l1: 1, msssim: false, window: 7, detail: 0 };
  const lossOf = async () => {
    const n = shape.reduce((a, v) => a * v, 1);
    const y = tf.tensor4d(values(n, 'cy'), shape);
    const x = tf.tensor4d(values(n, 'cx'), shape);
    const m = tf.greater(tf.tensor4d(values(2 * 15 * 17, 'cm'), [2, 15, 17, 1]), 0.3).toFloat() as tf.Tensor4D;
    const { value, grad } = tf.valueAndGrad((v: tf.Tensor) => reconstructionLoss(v as tf.Tensor4D, x, m, w))(y);
    const out = { loss: (await value.data())[0], grad: (await grad.data()) as Float32Array };
    tf.dispose([y, x, m, value, grad]);
    return out;
  };
  await initEngine({ backend: 'cpu', log: () => undefined });
  const ref = await lossOf();
  const skip = await switchOrSkip('webgpu');
  if (skip) return t.skip(skip);
  const got = await lossOf();
  assert.ok(Math.abs(got.loss - ref.loss) / Math.abs(ref.loss) < TOL, `loss ${got.loss} vs ${ref.loss}`);
  assert.ok(relError(got.grad, ref.grad) < TOL);
});
