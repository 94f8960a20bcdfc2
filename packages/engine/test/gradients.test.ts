/**
 * Gradients of every engine that initialises on this machine against the cpu backend (relative error < 1e-4,
 * measured as max |engine - cpu| / max |cpu| per tensor).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, initEngine, setWasmFilterGradMethod, type EngineName, type FilterGradMethod } from '../src/index.js';
import { relError, tryEngine } from './helpers.js';
import { B, H, W, PARAMS, initValues, loss, gradients, xValues, targetValues } from './autoencoder.js';

const TOL = 1e-4;
let reference: Record<string, Float32Array> | null = null;
async function cpuReference(): Promise<Record<string, Float32Array>> {
  if (!reference) {
    await initEngine({ backend: 'cpu', log: () => {} });
    reference = await gradients(initValues());
  }
  return reference;
}

for (const engine of ['wasm', 'webgpu', 'tensorflow'] as EngineName[]) {
  test(`${engine}: gradients of a conv autoencoder match the cpu backend`, async (t) => {
    const ref = await cpuReference();
    const why = await tryEngine(engine);
    if (why) { t.skip(why); return; }
    const methods: FilterGradMethod[] = engine === 'wasm' ? ['auto', 'conv', 'gemm'] : ['auto'];
    for (const m of methods) {
      setWasmFilterGradMethod(m);
      const before = tf.memory().numTensors;
      const got = await gradients(initValues());
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
      for (const k of Object.keys(ref)) {
        const e = relError(got[k], ref[k]);
        assert.ok(e < TOL, `${engine} (${m}) gradient of ${k}: relative error ${e.toExponential(2)} >= ${TOL}`);
      }
    }
    setWasmFilterGradMethod('auto');
  });
}

for (const engine of ['wasm', 'webgpu'] as EngineName[]) test(`${engine}: three Adam steps end at the same parameters as on cpu`, async (t) => {
  const why = await tryEngine(engine);
  if (why) { t.skip(why); return; }
  async function train(engine: EngineName): Promise<{ losses: number[]; params: Record<string, Float32Array> }> {
    await initEngine({ backend: engine, log: () => {} });
    const init = initValues();
    const vars: Record<string, tf.Variable> = {};
    for (const k of Object.keys(PARAMS)) vars[k] = tf.variable(tf.tensor(init[k], PARAMS[k]), true, `adam_${engine}_${k}`);
    const x = tf.tensor4d(xValues, [B, H, W, 3]);
    const target = tf.tensor4d(targetValues, [B, H, W, 3]);
    const opt = tf.train.adam(1e-3);
    const losses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const l = opt.minimize(() => loss(vars, x, target), true)!;
      losses.push((await l.data())[0]);
      l.dispose();
    }
    const params: Record<string, Float32Array> = {};
    for (const k of Object.keys(PARAMS)) params[k] = (await vars[k].data()) as Float32Array;
    opt.dispose();
    tf.dispose([x, target, ...Object.values(vars)]);
    return { losses, params };
  }
  const cpu = await train('cpu');
  const got = await train(engine);
  assert.ok(cpu.losses[2] < cpu.losses[0], `loss did not fall on cpu: ${cpu.losses}`);
  for (let i = 0; i < 3; i++) {
    assert.ok(Math.abs(got.losses[i] - cpu.losses[i]) / cpu.losses[i] < TOL, `loss ${i}: ${engine} ${got.losses[i]} vs cpu ${cpu.losses[i]}`);
  }
  for (const k of Object.keys(PARAMS)) {
    const e = relError(got.params[k], cpu.params[k]);
    assert.ok(e < TOL, `${engine} parameter ${k} after 3 Adam steps: relative error ${e.toExponential(2)}`);
  }
});
