/**
 * conv2dLeakyRelu (src/ops/conv2d-leaky-relu.ts) against its reference: one FusedConv2D forward and its own gradient on webgpu, the LeakyReLU
 * derivative as one pass of ours ('grad') or fused into the loads of the dx, dW and bias gradient kernels
 * ('prologue'), against the reference (conv + bias, then leakyRelu) on the cpu backend: odd sizes, strides 1
 * and 2, same/valid, 1x1/3x3/4x4, about half the pre-activations negative (the alpha branch), alpha 0, with
 * and without split-K, x as data (no dx). Relative error < 1e-4 for the output and every gradient. On cpu the
 * op is checked bit for bit against the reference, and mode 'off' runs the reference itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, initEngine, setSplitKTarget, conv2dLeakyRelu, conv2dLeakyReluReference, setConvActFusion } from '../src/index.js';
import { randomValues, relError } from './helpers.js';
import { compiledShaders, webgpuOrSkip } from './webgpu-helpers.js';

const TOL = 1e-4;

interface Case { x: [number, number, number, number]; k: number; co: number; s: number; pad: 'same' | 'valid'; alpha: number; data?: boolean }
const CASES: Case[] = [
  { x: [2, 9, 7, 5], k: 3, co: 6, s: 1, pad: 'same', alpha: 0.2 },
  { x: [3, 11, 13, 7], k: 3, co: 9, s: 2, pad: 'same', alpha: 0.1 },
  { x: [2, 10, 9, 3], k: 4, co: 5, s: 1, pad: 'valid', alpha: 0.3 },
  { x: [1, 13, 11, 3], k: 1, co: 7, s: 1, pad: 'same', alpha: 0.2, data: true }, // fromRGB: x is an image
  { x: [2, 8, 7, 12], k: 3, co: 8, s: 1, pad: 'same', alpha: 0 }, // vec4 loads; alpha 0 (a ReLU)
  { x: [2, 19, 17, 4], k: 3, co: 67, s: 1, pad: 'same', alpha: 0.2 }, // partial column tiles, split-K
];

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** y and the gradients of sum(y * r) w.r.t. x (unless data), filter and bias; `fused`: conv2dLeakyRelu, else its reference. */
async function run(c: Case, fused: boolean): Promise<Float32Array[]> {
  const wShape = [c.k, c.k, c.x[3], c.co] as [number, number, number, number];
  const x = tf.tensor4d(randomValues(size(c.x), 11), c.x);
  const w = tf.tensor4d(randomValues(size(wShape), 12, 0.5), wShape);
  const bias = tf.tensor1d(randomValues(c.co, 13, 0.3));
  const o = { pad: c.pad, strides: c.s, alpha: c.alpha, inputGrad: !c.data };
  const f = (a: tf.Tensor4D, b: tf.Tensor4D, d: tf.Tensor1D): tf.Tensor4D => (fused ? conv2dLeakyRelu(a, b, d, o) : conv2dLeakyReluReference(a, b, d, o));
  const y = f(x, w, bias);
  const r = tf.tensor(randomValues(y.size, 14), y.shape);
  const loss = (a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor4D, b as tf.Tensor4D, d as tf.Tensor1D), r));
  const grads = c.data
    ? tf.grads((b: tf.Tensor, d: tf.Tensor) => loss(x, b, d))([w, bias])
    : tf.grads(loss)([x, w, bias]);
  const out: Float32Array[] = [(await y.data()) as Float32Array];
  for (const g of grads) out.push((await g.data()) as Float32Array);
  const yv = out[0];
  assert.ok(yv.filter((v) => v <= 0).length > yv.length / 5 && yv.some((v) => v > 0), 'both branches of the activation are exercised');
  tf.dispose([x, w, bias, y, r, ...grads]);
  return out;
}

test('conv2dLeakyRelu: fused forward and gradients match the reference (cpu bit for bit, webgpu < 1e-4)', async (t) => {
  await initEngine({ backend: 'cpu', log: () => {} });
  const refs: Float32Array[][] = [];
  for (const c of CASES) {
    refs.push(await run(c, false));
    // cpu: the op's composed gradient is the unfused model's, bit for bit
    assert.deepEqual(await run(c, true), refs.at(-1), `${JSON.stringify(c)}: fused op on cpu differs from the reference`);
  }
  // mode 'off' and a negative alpha run the reference: no FusedConv2D with leakyrelu is dispatched
  const fusedRuns = async (alpha: number) => {
    const [x, w, b] = [tf.ones([1, 3, 3, 1]) as tf.Tensor4D, tf.ones([1, 1, 1, 1]) as tf.Tensor4D, tf.zeros([1]) as tf.Tensor1D];
    const p = await tf.profile(() => { tf.dispose(conv2dLeakyRelu(x, w, b, { pad: 'same', alpha })); });
    tf.dispose([x, w, b]);
    return !p.kernels.some((k) => k.name === 'LeakyRelu');
  };
  assert.ok(await fusedRuns(0.2), 'the fused form runs by default');
  assert.ok(!(await fusedRuns(-0.5)), 'a negative alpha runs the reference');
  setConvActFusion('off');
  try {
    assert.ok(!(await fusedRuns(0.2)), "mode 'off' runs the reference");
  } finally {
    setConvActFusion('prologue');
  }
  if (!(await webgpuOrSkip(t))) return;
  try {
    // 'grad': dy' in one pass of ours, then the conv gradient kernels; 'prologue': dy' fused into their loads
    for (const mode of ['grad', 'prologue'] as const) {
      setConvActFusion(mode);
      for (const [split, cases] of [[256, CASES.length], [1, 1]]) {
        setSplitKTarget(split);
        for (let i = 0; i < cases; i++) {
          const before = tf.memory().numTensors;
          const got = await run(CASES[i], true);
          assert.equal(tf.memory().numTensors, before, 'tensors leaked');
          const names = ['output', ...(CASES[i].data ? [] : ['input gradient']), 'filter gradient', 'bias gradient'];
          assert.equal(got.length, names.length);
          for (let j = 0; j < got.length; j++) {
            const e = relError(got[j], refs[i][j]);
            assert.ok(e < TOL, `${JSON.stringify(CASES[i])} ${mode}, split-K target ${split}: ${names[j]} relative error ${e.toExponential(2)}`);
          }
        }
      }
    }
  } finally {
    setSplitKTarget(256);
    setConvActFusion('prologue');
  }
  const ours = compiledShaders().filter((k) => k.startsWith('facecomb_'));
  for (const kind of ['leakygrad', 'convdx', 'convdw', 'convdb']) {
    assert.ok(ours.some((k) => k.includes(kind) && k.includes('_leak')), `no fused ${kind} shader was compiled: ${ours.slice(0, 5).join(', ')}`);
  }
  await initEngine({ backend: 'wasm', log: () => {} });
});
