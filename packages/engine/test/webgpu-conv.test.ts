/**
 * Our WGSL conv kernels (src/webgpu/conv.ts, gemm.ts) against the cpu backend on random inputs of odd sizes:
 * forward (plain and fused bias + activation), input gradient and filter gradient through tf.grads, strides 1
 * and 2, same/valid padding, 1x1/3x3/4x4 filters, with and without split-K. Relative error < 1e-4.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, initEngine, setSplitKTarget } from '../src/index.js';
import { relError } from './helpers.js';
import { compiledShaders, convOutputs, webgpuOrSkip, type ConvCase } from './webgpu-helpers.js';

const TOL = 1e-4;

const CASES: ConvCase[] = [
  { x: [2, 9, 7, 5], k: 3, co: 6, s: 1, pad: 'same' },
  { x: [3, 11, 13, 7], k: 3, co: 9, s: 2, pad: 'same', act: 'leakyrelu' },
  { x: [2, 10, 9, 3], k: 4, co: 5, s: 2, pad: 'valid', act: 'relu' },
  { x: [1, 6, 5, 13], k: 1, co: 3, s: 1, pad: 'valid', act: 'sigmoid' },
  { x: [2, 8, 7, 12], k: 4, co: 8, s: 1, pad: 'same', act: 'relu' }, // channels divisible by 4: vec4 loads
  { x: [1, 9, 11, 4], k: 3, co: 4, s: 2, pad: 'valid' },
  { x: [2, 64, 64, 2], k: 3, co: 67, s: 1, pad: 'same', act: 'elu' }, // 8x4 outputs per thread, partial column tile
];

test('webgpu: our conv2d, fused conv2d and both conv gradients match the cpu backend', async (t) => {
  await initEngine({ backend: 'cpu', log: () => {} });
  const refs: Float32Array[][] = [];
  for (const c of CASES) refs.push(await convOutputs(c));
  if (!(await webgpuOrSkip(t))) return;
  const names = ['forward', 'fused forward', 'input gradient', 'filter gradient'];
  // split-K target 256 (the default: filter gradients split), then 1 (no split) on two cases
  for (const [split, cases] of [[256, CASES.length], [1, 2]]) {
    setSplitKTarget(split);
    for (let i = 0; i < cases; i++) {
      const before = tf.memory().numTensors;
      const got = await convOutputs(CASES[i]);
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
      for (let j = 0; j < got.length; j++) {
        const e = relError(got[j], refs[i][j]);
        assert.ok(e < TOL, `${JSON.stringify(CASES[i])} split-K target ${split}: ${names[j]} relative error ${e.toExponential(2)}`);
      }
    }
  }
  setSplitKTarget(256);
  const ours = compiledShaders().filter((k) => k.startsWith('facecomb_'));
  for (const kind of ['convfwd', 'convdx', 'convdw', 'reduce']) {
    assert.ok(ours.some((k) => k.includes(kind)), `no ${kind} shader of ours was compiled: ${ours.slice(0, 5).join(', ')}`);
  }
});
