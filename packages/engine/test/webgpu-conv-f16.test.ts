/**
 * The f16 variant of our WGSL conv kernels (operands staged and multiplied in f16, f32 accumulation across
 * BK slices; gemm.ts) against the cpu backend on random inputs of odd sizes: forward, fused forward, input
 * gradient and filter gradient, relative error < 1e-2 (the f16 bar), and the f16 shaders really ran. Without
 * shader-f16 it checks that f16 is refused, then skips (a failure under FACECOMB_REQUIRE_WEBGPU=1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, initEngine, setWebgpuPrecision, webgpuHasF16, webgpuRequired } from '../src/index.js';
import { relError } from './helpers.js';
import { compiledShaders, convOutputs, webgpuOrSkip, type ConvCase } from './webgpu-helpers.js';

const TOL = 1e-2;

const CASES: ConvCase[] = [
  { x: [2, 9, 7, 5], k: 3, co: 6, s: 1, pad: 'same', act: 'leakyrelu' },
  { x: [3, 11, 13, 8], k: 3, co: 12, s: 2, pad: 'same', act: 'relu' }, // channels divisible by 4: vec4 loads
  { x: [1, 10, 9, 3], k: 4, co: 5, s: 2, pad: 'valid', act: 'linear' },
  { x: [2, 45, 47, 2], k: 3, co: 67, s: 1, pad: 'same', act: 'leakyrelu' }, // long filter-gradient reduction (K = 4230), 8x4 per thread
];
// seeds of the random data (x, w, bias, r)
const SEED = 11;

test('webgpu f16: conv forward, fused forward, input and filter gradient within 1e-2 of cpu', async (t) => {
  await initEngine({ backend: 'cpu', log: () => {} });
  const refs: Float32Array[][] = [];
  for (const c of CASES) refs.push(await convOutputs(c, SEED));
  if (!(await webgpuOrSkip(t))) return;
  if (!webgpuHasF16()) {
    assert.throws(() => setWebgpuPrecision('f16'), /shader-f16/);
    // CI installs lavapipe, which offers shader-f16: there its absence is a failure, not a skip
    assert.ok(!webgpuRequired(), 'FACECOMB_REQUIRE_WEBGPU=1 but the adapter offers no shader-f16 (lavapipe does)');
    t.skip('this adapter has no shader-f16');
    return;
  }
  setWebgpuPrecision('f16');
  try {
    const names = ['forward', 'fused forward', 'input gradient', 'filter gradient'];
    const worst = [0, 0, 0, 0];
    for (let i = 0; i < CASES.length; i++) {
      const got = await convOutputs(CASES[i], SEED);
      got.forEach((g, j) => {
        const e = relError(g, refs[i][j]);
        worst[j] = Math.max(worst[j], e);
        assert.ok(e < TOL, `${JSON.stringify(CASES[i])}: ${names[j]} relative error ${e.toExponential(2)}`);
      });
    }
    t.diagnostic(`worst relative error: ${names.map((n, j) => `${n} ${worst[j].toExponential(2)}`).join(', ')}`);
    // f16 is not free of error: it must differ from the f32 result (else the f16 path did not run)
    assert.ok(worst.every((e) => e > 1e-6), `f16 errors suspiciously small: ${worst}`);
  } finally {
    setWebgpuPrecision('f32');
  }
  const half = compiledShaders().filter((k) => k.startsWith('facecomb_') && /_h(_|$)/.test(k));
  for (const kind of ['convfwd', 'convdx', 'convdw']) assert.ok(half.some((k) => k.includes(kind)), `no f16 ${kind} shader compiled`);
});
