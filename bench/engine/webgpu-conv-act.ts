/**
 * conv + bias + LeakyReLU with its gradient (forward, then dx, dW, db of sum(y * r)) per layer shape, in each
 * mode of conv2dLeakyRelu (engine src/ops/conv2d-leaky-relu.ts): off (conv + bias, then tf.leakyRelu, as the model was),
 * forward, grad, prologue. The modes run interleaved, round after round, and each keeps its best wall time
 * (to the gradients read back) and the sum of its kernels' best timestamp-query GPU times: on a machine shared
 * with other jobs only the best of interleaved runs compares. Also dispatches per step for each mode.
 *   node --import tsx bench/engine/webgpu-conv-act.ts [--rounds 5] [--backend webgpu]
 * Prints a table and writes bench/results/webgpu-conv-act.json ($OUT/ when OUT is set).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tf, initEngine, conv2dLeakyRelu, setConvActFusion, type BackendRequest, type ConvActFusion } from '@facecomb/engine';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const rounds = Number(arg('rounds', '5'));
const engine = await initEngine({ backend: arg('backend', 'webgpu') as BackendRequest, log: (m) => console.log(`[engine] ${m}`) });
const modes: ConvActFusion[] = engine.name === 'webgpu' ? ['off', 'forward', 'grad', 'prologue'] : ['off', 'forward'];

let dispatches = 0;
if (engine.name === 'webgpu') {
  const be = tf.backend() as unknown as { runWebGPUProgram: (...a: unknown[]) => unknown };
  const run = be.runWebGPUProgram.bind(be);
  be.runWebGPUProgram = (...a) => { dispatches++; return run(...a); };
}

// comb-model layers (batch 2): a 3x3 block conv at 64 px (C32) and 32 px (C64), the 1x1 fromRGB (x is data)
const SHAPES = [
  { name: '64x64 C32->32 3x3', x: [2, 64, 64, 32], k: 3, co: 32, data: false },
  { name: '32x32 C64->64 3x3', x: [2, 32, 32, 64], k: 3, co: 64, data: false },
  { name: '64x64 C3->32 1x1 (data)', x: [2, 64, 64, 3], k: 1, co: 32, data: true },
] as const;

const rnd = (shape: number[], seed: number, scale = 1) => tf.randomUniform(shape, -scale, scale, 'float32', seed);
const rows: Record<string, unknown>[] = [];
for (const s of SHAPES) {
  const x = rnd([...s.x], 1) as tf.Tensor4D;
  const w = rnd([s.k, s.k, s.x[3], s.co], 2, Math.sqrt(3 / (s.k * s.k * s.x[3]))) as tf.Tensor4D;
  const b = rnd([s.co], 3, 0.1) as tf.Tensor1D;
  const r = rnd([s.x[0], s.x[1], s.x[2], s.co], 4);
  const f = (xi: tf.Tensor4D, wi: tf.Tensor4D, bi: tf.Tensor1D) => conv2dLeakyRelu(xi, wi, bi, { pad: 'same', alpha: 0.2, inputGrad: !s.data })
    ?? tf.leakyRelu(tf.fused.conv2d({ x: xi, filter: wi, bias: bi, strides: 1, pad: 'same' }), 0.2) as tf.Tensor4D; // as the model did
  const loss = (xi: tf.Tensor4D, wi: tf.Tensor4D, bi: tf.Tensor1D) => tf.sum(tf.mul(f(xi, wi, bi), r)) as tf.Scalar;
  const step = () => (s.data
    ? tf.grads((wi: tf.Tensor, bi: tf.Tensor) => loss(x, wi as tf.Tensor4D, bi as tf.Tensor1D))([w, b])
    : tf.grads((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => loss(xi as tf.Tensor4D, wi as tf.Tensor4D, bi as tf.Tensor1D))([x, w, b]));
  const best = new Map<ConvActFusion, { wall: number; kernels: Map<string, number>; dispatches: number }>();
  for (let round = -1; round < rounds; round++) { // round -1: compile and warm
    for (const m of modes) {
      setConvActFusion(m);
      const d0 = dispatches;
      const t0 = performance.now();
      const g = step();
      for (const t of g) await t.data();
      const wall = performance.now() - t0;
      const nd = dispatches - d0;
      tf.dispose(g);
      if (round < 0) continue;
      const e = best.get(m) ?? { wall: Infinity, kernels: new Map<string, number>(), dispatches: nd };
      e.wall = Math.min(e.wall, wall);
      const info = await tf.profile(() => step());
      const run = new Map<string, number>();
      for (const k of info.kernels) {
        if (!tf.getKernel(k.name, tf.getBackend())) continue; // custom-gradient scopes wrap their kernels
        run.set(k.name, (run.get(k.name) ?? 0) + (Number(await k.kernelTimeMs) || 0));
      }
      for (const [k, ms] of run) e.kernels.set(k, Math.min(e.kernels.get(k) ?? Infinity, ms));
      best.set(m, e);
    }
  }
  for (const [m, e] of best) {
    rows.push({ layer: s.name, mode: m, wallMs: e.wall, gpuMs: [...e.kernels.values()].reduce((a, v) => a + v, 0), dispatches: e.dispatches,
      kernels: Object.fromEntries([...e.kernels].sort((a, c) => c[1] - a[1])) });
  }
  tf.dispose([x, w, b, r]);
}
setConvActFusion('prologue');

console.log(`\nconv + bias + LeakyReLU, forward + all gradients, best of ${rounds} interleaved rounds, ${engine.name}`);
console.log('layer (B2) | mode | wall ms | GPU ms | dispatches | GPU ms vs off');
for (const row of rows) {
  const off = rows.find((o) => o.layer === row.layer && o.mode === 'off')!;
  console.log([row.layer, row.mode, (row.wallMs as number).toFixed(1), (row.gpuMs as number).toFixed(1), row.dispatches,
    `${((off.gpuMs as number) / (row.gpuMs as number)).toFixed(2)}x less`].join(' | '));
}
for (const row of rows) console.log(`  ${row.layer} ${row.mode}: ${Object.entries(row.kernels as Record<string, number>).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
const dir = process.env.OUT ? `${process.env.OUT}/` : fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}webgpu-conv-act.json`, JSON.stringify({ date: new Date().toISOString(), adapter: engine.details.adapter, rounds, rows }, null, 2));
console.log(`wrote ${dir}webgpu-conv-act.json`);
