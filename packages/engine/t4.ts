import { tf, initEngine } from './src/index.js';
import { randomValues, relError } from './test/helpers.js';
const shape = [2,4,4,3], n = 96;
for (const [ac, hpc, out] of [[false,true,[8,8]],[false,false,[8,8]],[false,false,[2,2]], [false,true,[2,2]]] as [boolean,boolean,[number,number]][]) {
const res: Record<string, Float32Array> = {};
const wv = randomValues(2*out[0]*out[1]*3, 9);
for (const be of ['cpu', 'wasm'] as const) {
  await initEngine({ backend: be, log: () => {} });
  const f = (a: tf.Tensor) => tf.image.resizeNearestNeighbor(a as tf.Tensor4D, out, ac, hpc);
  const w = tf.tensor(wv, [2, out[0], out[1], 3]);
  res[be] = await tf.grad((a: tf.Tensor) => f(a).mul(w).sum())(tf.tensor(randomValues(n, 7), shape)).data() as Float32Array;
  if (be === 'cpu') {
    const bf = new Float32Array(n);
    for (let i = 0; i < n; i++) { const e = new Float32Array(n); e[i] = 1; bf[i] = (await f(tf.tensor(e, shape)).mul(w).sum().data())[0]; }
    res.brute = bf;
  }
}
console.log(out, hpc, 'cpu vs brute', relError(res.cpu, res.brute), 'wasm vs brute', relError(res.wasm, res.brute));
}
