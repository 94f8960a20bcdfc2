/**
 * GPU engine check, bundled by bench/gpu/bundle.sh and run on a GPU machine by bench/gpu/remote.sh:
 *   1. initialise --backend webgpu (Dawn) and print the adapter;
 *   2. gradients of the test autoencoder (packages/engine/test/autoencoder.ts) on webgpu against cpu;
 *   3. conv2d GFLOPS on webgpu: forward, backprop input, backprop filter (tfjs's kernel, and the "conv" and
 *      "gemm" formulations our wasm kernel uses, written here with tf ops so they run on any backend);
 *   4. training-step throughput of the autoencoder at a few sizes.
 * Writes $OUT/gpu-engine.json (or bench/results/gpu-engine.json under the working folder when OUT is unset) and prints tables.
 * Locally (no GPU) it stops after step 1 with the reason webgpu was skipped, or, on a software adapter
 * (Mesa lavapipe), saying so (exit code 3; `--software` measures it anyway).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tf, initEngine, engineInfo } from '../../packages/engine/src/index.js';
import { gradients, initValues } from '../../packages/engine/test/autoencoder.js';
import { relError } from '../../packages/engine/test/helpers.js';

// bench/results/ of the repository it runs from (a path relative to the bundle would land beside .gpu/)
const outDir = process.env.OUT || join(process.cwd(), 'bench', 'results');
const result: Record<string, unknown> = { date: new Date().toISOString(), node: process.version };
const save = () => {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'gpu-engine.json'), JSON.stringify(result, null, 2) + '\n');
};

const chosen = await initEngine({ backend: process.argv[2] === 'auto' ? 'auto' : 'webgpu' }).catch((e: Error) => {
  result.error = e.message;
  save();
  console.error(e.message);
  process.exit(2);
});
result.engine = engineInfo();
console.log(`engine: ${chosen.name} — ${chosen.why}`);
if (chosen.details.software && !process.argv.includes('--software')) {
  result.error = `adapter ${chosen.details.adapter} is a software rasteriser, not a GPU: pass --software to measure it anyway`;
  save();
  console.error(result.error);
  process.exit(3);
}

// 2. gradients against cpu
await initEngine({ backend: 'cpu', log: () => {} });
const ref = await gradients(initValues());
await initEngine({ backend: chosen.name, log: () => {} });
const got = await gradients(initValues());
const gradErr: Record<string, number> = {};
for (const k of Object.keys(ref)) gradErr[k] = relError(got[k], ref[k]);
result.gradientRelError = gradErr;
const worst = Math.max(...Object.values(gradErr));
console.log(`gradients vs cpu: worst relative error ${worst.toExponential(2)} (${worst < 1e-4 ? 'ok' : 'ABOVE 1e-4'})`);
save();

// 3. conv GFLOPS
async function time(fn: () => tf.Tensor, reps = 10): Promise<number> {
  for (let i = 0; i < 2; i++) { const y = fn(); await y.data(); y.dispose(); }
  const t0 = performance.now();
  const ys: tf.Tensor[] = [];
  for (let i = 0; i < reps; i++) ys.push(fn());
  await ys[ys.length - 1].data();
  const ms = (performance.now() - t0) / reps;
  tf.dispose(ys);
  return ms;
}

/** dW as conv2d of the input (batch as channels) with dy (stride as dilation) — tf ops, any backend. */
function filterGradConv(x: tf.Tensor4D, dy: tf.Tensor4D, k: number, s: number): tf.Tensor {
  return tf.tidy(() => {
    const [, h] = x.shape; const oh = dy.shape[1];
    const total = Math.max((oh - 1) * s + k - h, 0), pt = Math.floor(total / 2);
    const pb = (oh - 1) * s + k - pt - h;
    const xc = pb < 0 ? x.slice([0, 0, 0, 0], [-1, h + pb, h + pb, -1]) : x;
    const xt = tf.transpose(xc, [3, 1, 2, 0]) as tf.Tensor4D;
    const f = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [pt, Math.max(pb, 0)], [pt, Math.max(pb, 0)], [0, 0]];
    return tf.transpose(tf.conv2d(xt, f, 1, pad, 'NHWC', s), [1, 2, 0, 3]);
  });
}

/** dW by explicit im2col and one matMul — tf ops, any backend. */
function filterGradGemm(x: tf.Tensor4D, dy: tf.Tensor4D, k: number, s: number): tf.Tensor {
  return tf.tidy(() => {
    const [b, h, , ci] = x.shape; const [, oh, ow, co] = dy.shape;
    const total = Math.max((oh - 1) * s + k - h, 0), pt = Math.floor(total / 2);
    const xp = tf.pad(x, [[0, 0], [pt, total - pt], [pt, total - pt], [0, 0]]);
    const xt = tf.transpose(xp, [3, 0, 1, 2]);
    const taps: tf.Tensor[] = [];
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
      taps.push(tf.stridedSlice(xt, [0, 0, i, j], [ci, b, i + (oh - 1) * s + 1, j + (ow - 1) * s + 1], [1, 1, s, s]));
    }
    const col = tf.reshape(tf.concat(taps, 0), [k * k * ci, b * oh * ow]);
    return tf.reshape(tf.matMul(col, tf.reshape(dy, [b * oh * ow, co])), [k, k, ci, co]);
  });
}

const SHAPES = [
  { b: 8, h: 256, ci: 32, co: 32, k: 3, s: 1 },
  { b: 8, h: 128, ci: 64, co: 64, k: 3, s: 1 },
  { b: 8, h: 64, ci: 128, co: 128, k: 3, s: 1 },
  { b: 8, h: 32, ci: 256, co: 256, k: 3, s: 1 },
  { b: 8, h: 16, ci: 512, co: 512, k: 3, s: 1 },
  { b: 8, h: 128, ci: 64, co: 128, k: 3, s: 2 },
];
const rows: { shape: string; op: string; ms: number; gflops: number }[] = [];
for (const sh of SHAPES) {
  const name = `B${sh.b} ${sh.h}x${sh.h} C${sh.ci}->${sh.co} k${sh.k} s${sh.s}`;
  const x = tf.randomNormal([sh.b, sh.h, sh.h, sh.ci]) as tf.Tensor4D;
  const w = tf.randomNormal([sh.k, sh.k, sh.ci, sh.co], 0, 0.05) as tf.Tensor4D;
  const oh = Math.ceil(sh.h / sh.s);
  const dy = tf.randomNormal([sh.b, oh, oh, sh.co]) as tf.Tensor4D;
  const flops = 2 * sh.b * oh * oh * sh.k * sh.k * sh.ci * sh.co;
  const attrs = { strides: sh.s, pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined };
  const ops: [string, () => tf.Tensor][] = [
    ['forward', () => tf.conv2d(x, w, sh.s, 'same')],
    ['backprop input', () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape } as never) as tf.Tensor],
    ['backprop filter (tfjs kernel)', () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape } as never) as tf.Tensor],
    ['backprop filter (conv form)', () => filterGradConv(x, dy, sh.k, sh.s)],
    ['backprop filter (gemm form)', () => filterGradGemm(x, dy, sh.k, sh.s)],
  ];
  const refW = await (ops[2][1]()).data();
  for (const [op, fn] of ops) {
    if (op.includes('form')) {
      const e = relError(await fn().data(), refW);
      if (e > 1e-3) console.log(`  ${name} ${op}: differs from the kernel by ${e.toExponential(2)}`);
    }
    const ms = await time(fn);
    rows.push({ shape: name, op, ms: +ms.toFixed(3), gflops: +(flops / ms / 1e6).toFixed(1) });
    console.log(`${name.padEnd(28)} ${op.padEnd(30)} ${ms.toFixed(2).padStart(9)} ms ${(flops / ms / 1e6).toFixed(1).padStart(8)} GFLOPS`);
  }
  tf.dispose([x, w, dy]);
  result.conv = rows;
  save();
}
console.log(`\nwrote ${join(outDir, 'gpu-engine.json')}`);
process.exit(0);
