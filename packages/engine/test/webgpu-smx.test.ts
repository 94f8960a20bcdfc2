/**
 * The subgroup-matrix (tensor core) GEMMs of src/webgpu/subgroup-matrix*.ts. lavapipe offers no subgroup matrices,
 * so here: the choice of configuration and the tile geometry, the fallback (off, with the reason, our f32 kernels
 * still right), and the emulated kernel (the same generator with the three builtins replaced by plain loops:
 * same f16 staging, offsets and strides) against the cpu backend on odd sizes within 1e-2 (f16 inputs).
 * The hardware builtins themselves run only on a device that offers them (bench/gpu).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, initEngine, conv2dLeakyRelu, initSubgroupMatrix, disableSubgroupMatrix, subgroupMatrixDispatches, setSplitKTarget } from '../src/index.js';
import { pickSmxConfig, smxSource, smxTiling, smxWorkgroupBytes } from '../src/webgpu/subgroup-matrix.js';
import { forwardSpec } from '../src/webgpu/conv.js';
import { randomValues, relError } from './helpers.js';
import { convOutputs, webgpuOrSkip, type ConvCase } from './webgpu-helpers.js';

const F16 = (M: number, N: number, K: number) => ({ M, N, K, componentType: 'f16', resultComponentType: 'f32' });
const ALL = ['shader-f16', 'chromium-experimental-subgroup-matrix'];

test('subgroup matrix: configuration choice and the reason when there is none', () => {
  assert.match((pickSmxConfig(['shader-f16'], [F16(16, 16, 16)]) as { reason: string }).reason, /does not offer chromium-experimental-subgroup-matrix/);
  assert.match((pickSmxConfig(['chromium-experimental-subgroup-matrix'], [F16(16, 16, 16)]) as { reason: string }).reason, /shader-f16/);
  const none = pickSmxConfig(ALL, [{ M: 8, N: 8, K: 8, componentType: 'f32', resultComponentType: 'f32' }]) as { reason: string };
  assert.match(none.reason, /no f16 x f16 -> f32 .*f32->f32 8x8x8/);
  const pick = pickSmxConfig(ALL, [F16(8, 8, 8), { ...F16(16, 16, 16), resultComponentType: 'f16' }, F16(16, 8, 16), F16(16, 16, 16)]) as { config: unknown };
  assert.deepEqual(pick.config, F16(16, 16, 16));
});

test('subgroup matrix: tiles cover every k once, fit 16 KB of workgroup memory, and the WGSL calls the builtins with the tile strides', () => {
  for (const [cfg, sg] of [[F16(16, 16, 16), 32], [F16(8, 8, 8), 32], [F16(16, 8, 16), 32], [F16(8, 8, 8), 8]] as const) {
    for (const [M, N, K, split] of [[646, 40, 216, false], [216, 40, 11543, true], [3, 5, 7, true], [100000, 3, 27, true]] as const) {
      const t = smxTiling(M, N, K, cfg, sg, split, 256);
      assert.equal(t.KC % t.BK, 0);
      assert.ok(t.S * t.KC >= K && (t.S - 1) * t.KC < K, `split-K slices ${t.S} x ${t.KC} for K=${K}`);
      assert.ok(t.tiles * t.BM * t.BN >= M * N);
      assert.equal(t.NT % sg, 0); // Dawn: workgroup x a multiple of the subgroup size
      assert.ok(smxWorkgroupBytes(t) <= 16384, `${smxWorkgroupBytes(t)} bytes`);
    }
  }
  assert.throws(() => smxTiling(10, 10, 10, F16(8, 8, 8), 128, false, 1), /subgroup size 128/);
  const g = { B: 2, H: 9, W: 7, Ci: 5, OH: 9, OW: 7, Co: 6, KH: 3, KW: 3, sh: 1, sw: 1, dh: 1, dw: 1, pt: 1, pl: 1 };
  const spec = forwardSpec(g);
  const t = smxTiling(spec.M, spec.N, spec.K, F16(16, 16, 16), 32, false, 1);
  const epi = { bias: true, activation: 'leakyrelu' as const, leakyreluAlpha: 0.2 };
  const tpl = smxSource(spec, t, epi, ['x', 'wt', 'bias'], 'hardware', 'template');
  assert.match(tpl, /^enable f16;\nenable chromium_experimental_subgroup_matrix;/);
  assert.match(tpl, /subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>, row_major>\(&As, u32\(\(sgm \* FM \+ 1\) \* CM \* BK \+ kk\), u32\(BK\)\)/);
  assert.match(tpl, /subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>, row_major>\(&Bs, u32\(kk \* BN \+ \(sgn \* FN \+ 0\) \* CN\), u32\(BN\)\)/);
  assert.match(tpl, /subgroupMatrixStore<row_major>\(&Cs, u32\(sg \* CM \* CN\), acc11, u32\(CN\)\)/);
  assert.equal(tpl.match(/subgroupMatrixMultiplyAccumulate/g)?.length, 4);
  assert.match(tpl, /@binding\(3\) var<storage, read> bias: array<f32>/);
  const old = smxSource(spec, t, epi, ['x', 'wt', 'bias'], 'hardware', 'bool');
  assert.match(old, /subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>\(&As, u32\(\(sgm \* FM \+ 0\) \* CM \* BK \+ kk\), false, u32\(BK\)\)/);
  assert.doesNotMatch(smxSource(spec, t, epi, ['x', 'wt', 'bias'], 'emulate'), /subgroupMatrix\w*[<(]|subgroup_matrix_|enable chromium/);
});

const CASES: ConvCase[] = [
  { x: [2, 9, 7, 5], k: 3, co: 6, s: 1, pad: 'same', act: 'leakyrelu' },
  { x: [3, 11, 13, 7], k: 3, co: 9, s: 2, pad: 'same' },
  { x: [2, 21, 19, 12], k: 4, co: 37, s: 1, pad: 'same' }, // several tiles along m and n, even filter
];
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** The fused forward and both gradients (convOutputs without the plain forward). */
const run = async (c: ConvCase) => (await convOutputs(c)).slice(1);

/** conv2dLeakyRelu (the comb model's conv): output and the gradients of x, filter and bias; on webgpu its gradient
 *  GEMMs read dy through a prelude (the LeakyReLU derivative), which the subgroup-matrix kernels must carry too. */
async function runLeaky(): Promise<Float32Array[]> {
  const c = CASES[0];
  const wShape = [c.k, c.k, c.x[3], c.co] as [number, number, number, number];
  const x = tf.tensor4d(randomValues(size(c.x), 5), c.x);
  const w = tf.tensor4d(randomValues(size(wShape), 6, 0.5), wShape);
  const bias = tf.tensor1d(randomValues(c.co, 7, 0.3));
  const f = (a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) => conv2dLeakyRelu(a as tf.Tensor4D, b as tf.Tensor4D, d as tf.Tensor1D, { pad: c.pad, alpha: 0.2 })!;
  const y = f(x, w, bias);
  const r = tf.tensor(randomValues(y.size, 8), y.shape);
  const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(f(a, b, d), r)))([x, w, bias]);
  const out = [await y.data(), ...(await Promise.all(grads.map((g) => g.data())))] as Float32Array[];
  tf.dispose([x, w, bias, y, r, ...grads]);
  return out;
}

test('subgroup matrix on lavapipe: off with the reason, f32 kernels unchanged; the emulated kernel matches cpu within 1e-2', async (t) => {
  await initEngine({ backend: 'cpu', log: () => {} });
  const refs: Float32Array[][] = [];
  for (const c of CASES) refs.push(await run(c));
  const leakyRef = await runLeaky();
  if (!(await webgpuOrSkip(t))) return;
  const lines: string[] = [];
  const off = await initSubgroupMatrix({ log: (m) => lines.push(m) });
  assert.equal(off.on, false);
  assert.match(off.reason ?? '', /does not offer chromium-experimental-subgroup-matrix/);
  assert.equal(lines.length, 1);
  assert.match(lines[0], /off \(our f32 kernels stay\): the adapter does not offer/);
  const d0 = subgroupMatrixDispatches();
  const f32 = await run(CASES[0]);
  assert.equal(subgroupMatrixDispatches(), d0, 'no subgroup-matrix dispatch while off');
  for (let j = 0; j < 3; j++) assert.ok(relError(f32[j], refs[0][j]) < 1e-4);

  const on = await initSubgroupMatrix({ mode: 'emulate', kinds: ['convfwd', 'convdx', 'convdw'], log: (m) => lines.push(m) });
  assert.equal(on.on, true, on.reason);
  assert.match(lines[1], /on \(emulate, 8x8x8 f16->f32, subgroup 32/);
  for (const k of ['convfwd', 'convdx', 'convdw'] as const) assert.ok(on.errors![k]! < 1e-2 && on.errors![k]! > 0, `${k}: ${on.errors![k]}`);
  try {
    for (const [split, cases] of [[256, CASES.length], [1, 1]]) {
      setSplitKTarget(split);
      for (let i = 0; i < cases; i++) {
        const before = tf.memory().numTensors, d = subgroupMatrixDispatches();
        const got = await run(CASES[i]);
        assert.equal(tf.memory().numTensors, before, 'tensors leaked');
        assert.ok(subgroupMatrixDispatches() >= d + 3, 'the three GEMMs ran on the subgroup-matrix kernel');
        ['fused forward', 'input gradient', 'filter gradient'].forEach((name, j) => {
          const e = relError(got[j], refs[i][j]);
          assert.ok(e < 1e-2, `${JSON.stringify(CASES[i])} split-K ${split}: ${name} relative error ${e.toExponential(2)}`);
        });
      }
    }
    const d = subgroupMatrixDispatches();
    const leaky = await runLeaky();
    assert.ok(subgroupMatrixDispatches() >= d + 4, 'conv2dLeakyRelu: forward, dx, dW and the bias gradient on the subgroup-matrix kernel');
    ['output', 'input gradient', 'filter gradient', 'bias gradient'].forEach((name, j) => {
      const e = relError(leaky[j], leakyRef[j]);
      assert.ok(e < 1e-2, `conv2dLeakyRelu ${name}: relative error ${e.toExponential(2)}`);
    });
  } finally {
    setSplitKTarget(256);
    disableSubgroupMatrix();
  }
});
