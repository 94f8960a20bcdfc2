/**
 * The conv gradient kernels registered by this package (wasm: Conv2DBackpropFilter, Conv2DBackpropInput;
 * cpu: Conv2DBackpropFilter) against direct float64 loops over many geometries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, initEngine, setWasmFilterGradMethod, type FilterGradMethod } from '../src/index.js';
import { randomValues, relError, tryEngine } from './helpers.js';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface Case { b: number; h: number; w: number; ci: number; co: number; kh: number; kw: number; stride: number | [number, number]; pad: Pad }

const CASES: Case[] = [
  { b: 2, h: 9, w: 9, ci: 3, co: 4, kh: 3, kw: 3, stride: 1, pad: 'same' },
  { b: 2, h: 9, w: 9, ci: 3, co: 4, kh: 3, kw: 3, stride: 2, pad: 'same' },
  { b: 2, h: 8, w: 8, ci: 3, co: 4, kh: 3, kw: 3, stride: 2, pad: 'same' },
  { b: 2, h: 8, w: 8, ci: 3, co: 4, kh: 3, kw: 3, stride: 2, pad: 'valid' },
  { b: 2, h: 8, w: 7, ci: 3, co: 4, kh: 1, kw: 1, stride: 1, pad: 'valid' },
  { b: 2, h: 8, w: 7, ci: 3, co: 4, kh: 1, kw: 1, stride: 2, pad: 'same' },
  { b: 2, h: 10, w: 8, ci: 3, co: 4, kh: 4, kw: 4, stride: 2, pad: 'same' },
  { b: 2, h: 10, w: 8, ci: 3, co: 4, kh: 3, kw: 3, stride: 2, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { b: 1, h: 11, w: 13, ci: 2, co: 3, kh: 5, kw: 5, stride: 3, pad: 'same' },
  { b: 1, h: 11, w: 13, ci: 2, co: 3, kh: 3, kw: 3, stride: [2, 1], pad: 'same' },
  { b: 1, h: 11, w: 13, ci: 2, co: 3, kh: 2, kw: 2, stride: 2, pad: 'valid' },
  { b: 3, h: 7, w: 9, ci: 5, co: 2, kh: 3, kw: 1, stride: 1, pad: 'same' },
  { b: 2, h: 16, w: 16, ci: 8, co: 8, kh: 3, kw: 3, stride: 1, pad: 'same' },
];

const label = (c: Case) => `B${c.b} ${c.h}x${c.w} C${c.ci}->${c.co} k${c.kh}x${c.kw} s${c.stride} ${JSON.stringify(c.pad)}`;

/** Direct loops in float64 for dW and dx of y = conv2d(x, W). */
function reference(c: Case, x: Float32Array, w: Float32Array, dy: Float32Array) {
  const info = tf.backend_util.computeConv2DInfo([c.b, c.h, c.w, c.ci], [c.kh, c.kw, c.ci, c.co], c.stride, 1, c.pad);
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const dW = new Float64Array(c.kh * c.kw * c.ci * c.co);
  const dx = new Float64Array(c.b * c.h * c.w * c.ci);
  for (let b = 0; b < c.b; b++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
    for (let p = 0; p < c.kh; p++) {
      const r = i * sh + p - top;
      if (r < 0 || r >= c.h) continue;
      for (let q = 0; q < c.kw; q++) {
        const s = j * sw + q - left;
        if (s < 0 || s >= c.w) continue;
        for (let ci = 0; ci < c.ci; ci++) {
          const xi = ((b * c.h + r) * c.w + s) * c.ci + ci;
          for (let co = 0; co < c.co; co++) {
            const g = dy[((b * oh + i) * ow + j) * c.co + co];
            const wi = ((p * c.kw + q) * c.ci + ci) * c.co + co;
            dW[wi] += x[xi] * g;
            dx[xi] += w[wi] * g;
          }
        }
      }
    }
  }
  return { dW, dx, dyShape: [c.b, oh, ow, c.co] };
}

async function kernelGrads(c: Case, xv: Float32Array, wv: Float32Array, dyv: Float32Array, dyShape: number[]) {
  const x = tf.tensor4d(xv, [c.b, c.h, c.w, c.ci]);
  const w = tf.tensor4d(wv, [c.kh, c.kw, c.ci, c.co]);
  const dy = tf.tensor4d(dyv, dyShape as [number, number, number, number]);
  const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
  const before = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
  const dW = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape } as never) as tf.Tensor;
  const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape } as never) as tf.Tensor;
  const out = { dW: await dW.data(), dx: await dx.data(), dWShape: dW.shape, dxShape: dx.shape };
  tf.dispose([dW, dx]);
  const leaked = (tf.backend() as unknown as { numDataIds(): number }).numDataIds() - before;
  tf.dispose([x, w, dy]);
  return { ...out, leaked };
}

for (const engine of ['wasm', 'cpu', 'webgpu'] as const) {
  test(`${engine}: Conv2DBackpropFilter and Conv2DBackpropInput match direct loops (relative error < 1e-5)`, async (t) => {
    const why = await tryEngine(engine);
    if (why) { t.skip(why); return; }
    const methods: FilterGradMethod[] = engine === 'wasm' ? ['conv', 'gemm', 'auto'] : ['auto'];
    let seed = 1;
    for (const c of CASES) {
      const xv = randomValues(c.b * c.h * c.w * c.ci, seed++);
      const wv = randomValues(c.kh * c.kw * c.ci * c.co, seed++);
      const ref0 = reference(c, xv, wv, new Float32Array(0));
      const dyv = randomValues(ref0.dyShape.reduce((a, b) => a * b, 1), seed++);
      const ref = reference(c, xv, wv, dyv);
      for (const m of methods) {
        setWasmFilterGradMethod(m);
        const got = await kernelGrads(c, xv, wv, dyv, ref.dyShape);
        assert.deepEqual(got.dWShape, [c.kh, c.kw, c.ci, c.co], label(c));
        assert.deepEqual(got.dxShape, [c.b, c.h, c.w, c.ci], label(c));
        const eW = relError(got.dW, ref.dW), eX = relError(got.dx, ref.dx);
        assert.ok(eW < 1e-5, `${engine} ${m} dW ${label(c)}: relative error ${eW.toExponential(2)}`);
        assert.ok(eX < 1e-5, `${engine} dx ${label(c)}: relative error ${eX.toExponential(2)}`);
        assert.equal(got.leaked, 0, `${engine} ${m} ${label(c)}: ${got.leaked} backend buffers leaked`);
      }
    }
    setWasmFilterGradMethod('auto');
  });
}

test('wasm: repeated conv gradients do not grow the wasm heap', async (t) => {
  const why = await tryEngine('wasm');
  if (why) { t.skip(why); return; }
  const x = tf.tensor4d(randomValues(4 * 32 * 32 * 16, 3), [4, 32, 32, 16]);
  const w = tf.tensor4d(randomValues(3 * 3 * 16 * 16, 4, 0.2), [3, 3, 16, 16]);
  const step = () => tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same').square().sum())([x, w]));
  const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
  for (let i = 0; i < 5; i++) tf.dispose(step());
  const size = heap(), tensors = tf.memory().numTensors;
  for (let i = 0; i < 30; i++) { const g = step(); await g[1].data(); tf.dispose(g); }
  assert.equal(heap(), size, 'wasm heap grew over 30 gradient steps');
  assert.equal(tf.memory().numTensors, tensors);
  tf.dispose([x, w]);
  await initEngine({ backend: 'cpu', log: () => {} });
});
