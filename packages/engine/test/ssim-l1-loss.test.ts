/**
 * The SSIM + L1 loss op (src/ops/ssim-l1-loss.ts): on webgpu its fused kernels against the reference tf ops on
 * the cpu backend, the loss and its gradient w.r.t. y, odd sizes, with an extra term and a shard's mask sums;
 * with the flag fusedLoss off the op runs the reference there. Relative error < 1e-4.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, initEngine, ssimL1Loss, ssimL1LossReference, setFlag, type FusedLossSpec } from '../src/index.js';
import { randomValues, relError } from './helpers.js';
import { compiledShaders, webgpuOrSkip } from './webgpu-helpers.js';

const SHAPE: [number, number, number, number] = [2, 13, 11, 3];
// one spec (each compiles 4 shaders, slow on lavapipe); train's webgpu-loss.test.ts covers more windows and weights
const SPECS: Omit<FusedLossSpec, 'extra'>[] = [{ l1: 0.5, ssim: 2, window: 3, norm: { l1: 150, ssim: 90, share: 0.5 } }];

/** The loss and d loss / d y for each spec on the active engine (`ref`: the reference alone). */
async function losses(ref: boolean): Promise<Float32Array[]> {
  const y = tf.tensor4d(randomValues(2 * 13 * 11 * 3, 1, 0.5).map((v) => v + 0.5), SHAPE);
  const x = tf.tensor4d(randomValues(2 * 13 * 11 * 3, 2, 0.5).map((v) => v + 0.5), SHAPE);
  const mask = tf.tensor4d(randomValues(2 * 13 * 11, 3).map((v) => (v > -0.3 ? 1 : 0)), [2, 13, 11, 1]);
  const out: Float32Array[] = [];
  for (const s of SPECS) {
    const f = (a: tf.Tensor) => {
      const spec = { ...s, extra: tf.mul(tf.mean(a), 0.1) as tf.Scalar };
      return (ref ? ssimL1LossReference : ssimL1Loss)(a as tf.Tensor4D, x, mask, spec);
    };
    const { value, grad } = tf.valueAndGrad(f)(y);
    out.push((await value.data()) as Float32Array, (await grad.data()) as Float32Array);
    tf.dispose([value, grad]);
  }
  tf.dispose([y, x, mask]);
  return out;
}

test('ssimL1Loss: the fused webgpu kernels match the reference on cpu (loss and gradient); flag off runs the reference', async (t) => {
  await initEngine({ backend: 'cpu', log: () => {} });
  const ref = await losses(true);
  if (!(await webgpuOrSkip(t))) return;
  for (const fused of [true, false]) {
    setFlag('fusedLoss', fused);
    try {
      const shaders = compiledShaders().filter((k) => k.includes('ssimloss')).length;
      const got = await losses(false);
      assert.equal(compiledShaders().filter((k) => k.includes('ssimloss')).length - shaders, fused ? 4 : 0, `fused loss shaders with fusedLoss ${fused}`);
      got.forEach((g, i) => {
        const e = relError(g, ref[i]);
        assert.ok(e < 1e-4, `fusedLoss ${fused}, spec ${i >> 1} ${i % 2 ? 'gradient' : 'loss'}: relative error ${e.toExponential(2)}`);
      });
    } finally {
      setFlag('fusedLoss', true);
    }
  }
  await initEngine({ backend: 'wasm', log: () => {} });
});
