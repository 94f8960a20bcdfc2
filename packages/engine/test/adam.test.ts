/**
 * The Adam op (src/ops/adam.ts): on webgpu its fused kernel against the reference tf ops on the cpu backend
 * (three variables of odd sizes at their own step t, two steps); with the flag fusedAdam off the op runs the
 * reference there (no fused dispatch). The kernel alone is checked against float64 in webgpu-adam.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, initEngine, adamSteps, setFlag, webgpuAdamDispatches } from '../src/index.js';
import { randomValues, relError } from './helpers.js';
import { webgpuOrSkip } from './webgpu-helpers.js';

const H = { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
const SIZES = [37, 5, 130];

/** w, m, v of each variable after two op steps (gradients seeded), on the active engine. */
async function twoSteps(): Promise<Float32Array[]> {
  const vars = tf.tidy(() => SIZES.map((n, j) => ({
    w: tf.variable(tf.tensor1d(randomValues(n, 1 + j)), false), m: tf.variable(tf.zeros([n]), false), v: tf.variable(tf.zeros([n]), false),
  })));
  for (const step of [1, 2]) {
    const gs = SIZES.map((n, j) => tf.tensor1d(randomValues(n, 10 * step + j, 0.1)));
    adamSteps(vars.map((x, j) => ({ ...x, g: gs[j], t: step + j })), H);
    tf.dispose(gs);
  }
  const out: Float32Array[] = [];
  for (const x of vars) for (const t of [x.w, x.m, x.v]) out.push((await t.data()) as Float32Array);
  tf.dispose(vars.flatMap((x) => [x.w, x.m, x.v]));
  return out;
}

test('adamSteps: the fused webgpu kernel matches the reference on cpu; flag off runs the reference', async (t) => {
  await initEngine({ backend: 'cpu', log: () => {} });
  const ref = await twoSteps();
  if (!(await webgpuOrSkip(t))) return;
  for (const fused of [true, false]) {
    setFlag('fusedAdam', fused);
    try {
      const d0 = webgpuAdamDispatches();
      const got = await twoSteps();
      assert.equal(webgpuAdamDispatches() - d0, fused ? 2 : 0, `fused Adam dispatches with fusedAdam ${fused}`);
      got.forEach((g, i) => {
        const e = relError(g, ref[i]);
        // v: the kernel gets 1 - beta2 in f32 (1.3e-5 off 0.001), the reference forms it in float64 then rounds
        assert.ok(e < (i % 3 === 2 ? 1e-4 : 1e-5), `fusedAdam ${fused}, variable ${Math.floor(i / 3)} ${'wmv'[i % 3]}: relative error ${e.toExponential(2)}`);
      });
    } finally {
      setFlag('fusedAdam', true);
    }
  }
  await initEngine({ backend: 'wasm', log: () => {} });
});
