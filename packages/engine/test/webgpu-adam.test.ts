/**
 * The fused Adam (src/webgpu/adam.ts) over many variables of odd sizes, several variables per dispatch, each at its
 * own step t: against Adam computed in float64 on the CPU (torch.optim.Adam's formula), plain and loss-scaled (the
 * gradient times the scale, unscaled on the GPU; the gradients checked several per dispatch; a flagged step skipped
 * for every variable and counted).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, LossScaler, adamGroupSize, webgpuAdamDispatches, webgpuAdamSteps, type AdamItem } from '../src/index.js';
import { randomValues, relError } from './helpers.js';
import { webgpuOrSkip } from './webgpu-helpers.js';

const H = { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
const SIZES = [1037, 29, 1, 300, 7, 2049, 64, 3, 511];

/** One Adam step in float64, in place, with the betas as the GPU gets them (f32: 1 - f32(0.999) is 1.3e-5 off). */
function reference(w: Float64Array, m: Float64Array, v: Float64Array, g: Float32Array, t: number): void {
  const b1 = Math.fround(H.beta1), b2 = Math.fround(H.beta2);
  for (let i = 0; i < w.length; i++) {
    m[i] = b1 * m[i] + (1 - b1) * g[i];
    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
    w[i] -= (H.lr / (1 - H.beta1 ** t)) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(1 - H.beta2 ** t) + H.epsilon));
  }
}

for (const scaled of [false, true]) {
  test(`fused Adam${scaled ? ', loss-scaled' : ''}: ${SIZES.length} variables in few dispatches equal Adam in float64`, async (t) => {
    if (!(await webgpuOrSkip(t))) return;
    const tensors = tf.memory().numTensors;
    const device = (tf.backend() as unknown as { device: GPUDevice }).device;
    const K = adamGroupSize(device.limits.maxStorageBuffersPerShaderStage, scaled);
    assert.ok(K >= 2, `${K} variable(s) per dispatch with ${device.limits.maxStorageBuffersPerShaderStage} storage buffers`);
    const w0 = SIZES.map((n, j) => randomValues(n, 10 + j));
    const ref = SIZES.map((n, j) => ({ w: Float64Array.from(w0[j]), m: new Float64Array(n), v: new Float64Array(n) }));
    const vars = tf.tidy(() => SIZES.map((n, j) => ({
      w: tf.variable(tf.tensor1d(w0[j]), false), m: tf.variable(tf.zeros([n]), false), v: tf.variable(tf.zeros([n]), false),
      skips: tf.variable(tf.zeros([1], 'int32'), false),
    })));
    const scaler = scaled ? new LossScaler({ initial: 64 }) : undefined;
    try {
      let skipped = 0;
      for (const step of [1, 2, 3, 4]) {
        // an inf in one gradient (in the middle of the first check dispatch, at the end of the last): the whole step is skipped
        const poison = scaled && (step === 2 || step === 4);
        const g = SIZES.map((n, j) => randomValues(n, 100 * step + j, 0.1));
        const scale = scaler ? (await scaler.read()).scale : 1; // halved after the skipped step
        const gs = g.map((x, j) => {
          const y = x.map((e) => e * scale);
          if (poison && step === 2 && j === 5) y[11] = Infinity;
          if (poison && step === 4 && j === 8) y[510] = NaN;
          return tf.tensor1d(y);
        });
        scaler?.checkAll(gs);
        // every variable at its own t (decoders train in turn); a skipped step does not count for the bias correction
        const ts = SIZES.map((_, j) => step + (j % 3));
        const items: AdamItem[] = vars.map((x, j) => ({ ...x, g: gs[j], t: ts[j], skips: scaled ? x.skips : undefined }));
        const d0 = webgpuAdamDispatches();
        assert.ok(webgpuAdamSteps(items, H, scaler));
        assert.equal(webgpuAdamDispatches() - d0, Math.ceil(SIZES.length / K), 'dispatches');
        scaler?.update();
        tf.dispose(gs);
        if (poison) skipped++;
        else ref.forEach((r, j) => reference(r.w, r.m, r.v, g[j], ts[j] - skipped));
        for (let j = 0; j < SIZES.length; j++) {
          for (const k of ['w', 'm', 'v'] as const) {
            const got = (await vars[j][k].data()) as Float32Array;
            const e = relError(got, Float32Array.from(ref[j][k]));
            assert.ok(e < 1e-5, `step ${step}, variable ${j} (${SIZES[j]}), ${k}: relative error ${e.toExponential(2)}`);
          }
        }
      }
      if (scaled) for (const x of vars) assert.deepEqual([...(await x.skips.data())], [2], 'each variable counted the skipped steps');
    } finally {
      scaler?.dispose();
      tf.dispose(vars.flatMap((x) => [x.w, x.m, x.v, x.skips]));
    }
    assert.equal(tf.memory().numTensors, tensors, 'tensors leaked');
  });
}
