/**
 * The check on the webgpu engine (lavapipe here, any GPU elsewhere): time of a 3x3 conv forward plus
 * its filter gradient through tf.grad (batch 4, 33x31, 24->40 channels) against the forward alone, with
 * tfjs-backend-webgpu's own kernels ("tfjs") and with ours ("ours"), in the same run; both checked against the
 * cpu backend. Also GFLOPS of forward / input gradient / filter gradient for a few layer shapes.
 *   node --import tsx bench/engine/webgpu-conv.ts [--quick]
 * Prints a table and writes bench/results/webgpu-conv.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tf, initEngine, useWebgpuKernels, setSplitKTarget } from '@facecomb/engine';
import { timeIt } from './gpu-time.js';

const quick = process.argv.includes('--quick');
const split = process.argv.indexOf('--split');
if (split > 0) setSplitKTarget(Number(process.argv[split + 1]));

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); }
  return d / Math.max(m, 1e-30);
}

interface Shape { name: string; b: number; h: number; w: number; ci: number; co: number; k: number; s: number }
const CHECK: Shape = { name: 'B4 33x31 C24->40 k3', b: 4, h: 33, w: 31, ci: 24, co: 40, k: 3, s: 1 };
const LAYERS: Shape[] = quick ? [] : [
  { name: 'B8 64x64 C32->32 k3', b: 8, h: 64, w: 64, ci: 32, co: 32, k: 3, s: 1 },
  { name: 'B8 16x16 C128->128 k3', b: 8, h: 16, w: 16, ci: 128, co: 128, k: 3, s: 1 },
  { name: 'B8 8x8 C256->256 k3', b: 8, h: 8, w: 8, ci: 256, co: 256, k: 3, s: 1 },
  { name: 'B8 64x64 C32->3 k1', b: 8, h: 64, w: 64, ci: 32, co: 3, k: 1, s: 1 },
];

function tensors(sh: Shape) {
  const x = tf.randomUniform([sh.b, sh.h, sh.w, sh.ci], -1, 1, 'float32', 1) as tf.Tensor4D;
  const w = tf.randomUniform([sh.k, sh.k, sh.ci, sh.co], -0.2, 0.2, 'float32', 2) as tf.Tensor4D;
  return { x, w };
}

const fwd = (sh: Shape, x: tf.Tensor4D, w: tf.Tensor4D) => () => [tf.conv2d(x, w, sh.s, 'same')];
const fwdFilterGrad = (sh: Shape, x: tf.Tensor4D, w: tf.Tensor4D) => () => {
  const g = tf.grad((wv: tf.Tensor) => tf.conv2d(x, wv as tf.Tensor4D, sh.s, 'same').sum());
  return [g(w)];
};

const result: Record<string, unknown> = {};
// cpu reference for the check shape
await initEngine({ backend: 'cpu', log: () => {} });
let t = tensors(CHECK);
const refY = await fwd(CHECK, t.x, t.w)()[0].data();
const refG = await fwdFilterGrad(CHECK, t.x, t.w)()[0].data();
tf.dispose([t.x, t.w]);

const engine = await initEngine({ backend: 'webgpu', log: () => {} });
console.log(`webgpu adapter: ${String(engine.details.adapter)}`);
t = tensors(CHECK);
const check: Record<string, { fwdMs: number; fwdGradMs: number; ratio: number; wallFwdMs: number; wallFwdGradMs: number; errFwd: number; errGrad: number }> = {};
for (const which of ['tfjs', 'ours'] as const) {
  useWebgpuKernels(which === 'ours');
  const y = fwd(CHECK, t.x, t.w)()[0];
  const g = fwdFilterGrad(CHECK, t.x, t.w)()[0];
  const errFwd = relErr(await y.data(), refY), errGrad = relErr(await g.data(), refG);
  tf.dispose([y, g]);
  const a = await timeIt(fwd(CHECK, t.x, t.w), 3000);
  // tf.grad of sum(conv(x, w)) w.r.t. w runs the forward conv and the filter gradient (dy is ones).
  const b = await timeIt(fwdFilterGrad(CHECK, t.x, t.w), 3000);
  check[which] = { fwdMs: a.gpu, fwdGradMs: b.gpu, ratio: b.gpu / a.gpu, wallFwdMs: a.wall, wallFwdGradMs: b.wall, errFwd, errGrad };
}
tf.dispose([t.x, t.w]);
useWebgpuKernels(true);
console.log(`\n${CHECK.name}: forward + filter gradient (tf.grad) vs forward alone (GPU ms, best of runs; wall ms); error vs cpu`);
console.log('kernels | forward ms | fwd+dW ms | ratio | wall fwd | wall fwd+dW | err fwd | err dW');
for (const [k, v] of Object.entries(check)) {
  console.log(`${k.padEnd(7)} | ${v.fwdMs.toFixed(2).padStart(10)} | ${v.fwdGradMs.toFixed(2).padStart(9)} | ${v.ratio.toFixed(2).padStart(5)} | ${v.wallFwdMs.toFixed(1).padStart(8)} | ${v.wallFwdGradMs.toFixed(1).padStart(11)} | ${v.errFwd.toExponential(1)} | ${v.errGrad.toExponential(1)}`);
}
console.log(`ours vs tfjs: forward ${(check.tfjs.fwdMs / check.ours.fwdMs).toFixed(2)}x, forward+dW ${(check.tfjs.fwdGradMs / check.ours.fwdGradMs).toFixed(2)}x faster`);
result.check = { shape: CHECK, ...check };

const layers: unknown[] = [];
if (LAYERS.length) console.log('\nGFLOPS (tfjs / ours): forward | input gradient | filter gradient');
for (const sh of LAYERS) {
  const { x, w } = tensors(sh);
  const dy = tf.randomUniform([sh.b, sh.h, sh.w, sh.co], -1, 1, 'float32', 3) as tf.Tensor4D;
  const flop = 2 * sh.b * sh.h * sh.w * sh.ci * sh.co * sh.k * sh.k;
  const row: Record<string, number | string> = { shape: sh.name };
  for (const which of ['tfjs', 'ours'] as const) {
    useWebgpuKernels(which === 'ours');
    row[`${which}Fwd`] = flop / 1e6 / (await timeIt(() => [tf.conv2d(x, w, sh.s, 'same')], 1500)).gpu;
    row[`${which}Dx`] = flop / 1e6 / (await timeIt(() => [tf.conv2dTranspose(dy, w, x.shape, sh.s, 'same')], 1500)).gpu;
    row[`${which}Dw`] = flop / 1e6 / (await timeIt(() => [tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
      { strides: sh.s, pad: 'same', dataFormat: 'NHWC', filterShape: w.shape }) as tf.Tensor], 1500)).gpu;
  }
  useWebgpuKernels(true);
  layers.push(row);
  const g = (k: string) => (row[k] as number).toFixed(2);
  console.log(`${sh.name.padEnd(24)} | ${g('tfjsFwd')} / ${g('oursFwd')} | ${g('tfjsDx')} / ${g('oursDx')} | ${g('tfjsDw')} / ${g('oursDw')}`);
  tf.dispose([x, w, dy]);
}
result.layers = layers;
const dir = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}webgpu-conv.json`, JSON.stringify({ date: new Date().toISOString(), adapter: engine.details.adapter, ...result }, null, 2));
console.log(`\nwrote bench/results/webgpu-conv.json`);
