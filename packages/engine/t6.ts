import { tf, wasmBinaryDir, applyTfjsFixes, registerWasmTrainingKernels } from './src/index.js';
if (process.env.FIX) { applyTfjsFixes(); }
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { relError } from './test/helpers.js';
setWasmPaths(wasmBinaryDir()); if (process.env.FIX) { await tf.setBackend('wasm'); registerWasmTrainingKernels(); }
// distinct integer-valued inputs so finite differences of max pool are exact
const perm = (n: number, seed: number) => { const a = Array.from({length:n}, (_, i) => i); let s = seed; for (let i = n-1; i > 0; i--) { s = (s * 1103515245 + 12345) % 2147483648; const j = s % (i+1); [a[i], a[j]] = [a[j], a[i]]; } return new Float32Array(a.map((v) => v - n / 2)); };
const cases: [string, number[], (x: tf.Tensor) => tf.Tensor][] = [
  ['maxPool 2 s2 valid', [2,4,4,3], (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid')],
  ['maxPool 3 s1 same', [2,5,5,2], (x) => tf.maxPool(x as tf.Tensor4D, 3, 1, 'same')],
  ['nearest x2', [2,3,3,2], (x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [6,6])],
  ['nearest 3->7', [2,3,3,2], (x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [7,7])],
  ['nearest down', [2,6,6,2], (x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [3,3])],
  ['nearest ac', [2,3,3,2], (x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [7,7], true)],
  ['bilinear', [2,3,3,2], (x) => tf.image.resizeBilinear(x as tf.Tensor4D, [7,7])],
  ['avgPool 3 s2 same', [2,5,5,2], (x) => tf.avgPool(x as tf.Tensor4D, 3, 2, 'same')],
];
for (const [name, shape, f] of cases) {
  const n = shape.reduce((a,b)=>a*b), xv = perm(n, 5);
  const res: Record<string, Float32Array> = {};
  for (const be of ['cpu','wasm']) {
    await tf.setBackend(be);
    const x = tf.tensor(xv, shape); const y0 = f(x); const wv = perm(y0.size, 9);
    const obj = (a: tf.Tensor) => tf.sum(tf.mul(f(a), tf.tensor(wv, y0.shape)));
    res[be] = await tf.grad(obj)(x).data() as Float32Array;
    if (be === 'cpu') {
      const fd = new Float32Array(n), base = (await obj(x).data())[0];
      for (let i = 0; i < n; i++) { const e = xv.slice(); e[i] += 0.25; fd[i] = ((await obj(tf.tensor(e, shape)).data())[0] - base) / 0.25; }
      res.fd = fd;
    }
  }
  console.log(name.padEnd(20), 'cpu', relError(res.cpu, res.fd).toExponential(1), 'wasm(original)', relError(res.wasm, res.fd).toExponential(1));
}
