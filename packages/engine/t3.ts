import { tf, initEngine } from '../engine/src/index.js';
import { randomValues, relError } from './test/helpers.js';
const cases: [string, number[], (x: tf.Tensor) => tf.Tensor][] = [
  ['maxPool 2 s2 valid', [1,4,4,1], (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid')],
  ['maxPool 2 s2 valid c4', [2,8,8,4], (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid')],
  ['maxPool 3 s1 same', [2,8,8,4], (x) => tf.maxPool(x as tf.Tensor4D, 3, 1, 'same')],
  ['nearest x2', [1,2,2,1], (x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [4,4])],
  ['nearest x2 hpc', [2,4,4,3], (x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [8,8], false, true)],
  ['nearest x2 ac', [2,4,4,3], (x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [8,8], true, false)],
  ['nearest 3->7', [2,3,3,3], (x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [7,7])],
  ['nearest down', [2,8,8,3], (x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [4,4])],
  ['bilinear ac', [2,5,5,3], (x) => tf.image.resizeBilinear(x as tf.Tensor4D, [9,9], true)],
  ['bilinear hpc', [2,5,5,3], (x) => tf.image.resizeBilinear(x as tf.Tensor4D, [10,10], false, true)],
  ['bilinear down', [2,8,8,3], (x) => tf.image.resizeBilinear(x as tf.Tensor4D, [3,3])],
  ['fused conv leaky', [2,8,8,3], (x) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: tf.tensor4d(randomValues(3*3*3*4, 5), [3,3,3,4]), strides: 1, pad: 'same', bias: tf.tensor1d([0.1,-0.2,0.3,0]), activation: 'relu' })],
  ['bn', [2,8,8,4], (x) => { const {mean, variance} = tf.moments(x,[0,1,2]); return tf.batchNorm(x, mean, variance, tf.zeros([4]), tf.ones([4]), 1e-3); }],
  ['convT', [2,8,8,4], (x) => tf.conv2dTranspose(x as tf.Tensor4D, tf.tensor4d(randomValues(3*3*5*4, 5), [3,3,5,4]), [2,16,16,5], 2, 'same')],
  ['depthwise', [2,8,8,4], (x) => tf.depthwiseConv2d(x as tf.Tensor4D, tf.tensor4d(randomValues(3*3*4*2, 5), [3,3,4,2]), 1, 'same')],
  ['sqrt', [2,8,8,4], (x) => tf.sqrt(tf.add(tf.square(x), 1e-3))],
  ['abs', [2,8,8,4], (x) => tf.abs(x)],
  ['elu', [2,8,8,4], (x) => tf.elu(x)],
  ['tanh', [2,8,8,4], (x) => tf.tanh(x)],
  ['relu', [2,8,8,4], (x) => tf.relu(x)],
  ['prelu', [2,8,8,4], (x) => tf.prelu(x, tf.scalar(0.2))],
  ['clip', [2,8,8,4], (x) => tf.clipByValue(x, -0.5, 0.5)],
  ['pad/slice', [2,8,8,4], (x) => tf.slice(tf.pad(x, [[0,0],[1,1],[2,2],[0,0]]), [0,1,0,1], [2,8,9,3])],
  ['mirrorpad', [2,8,8,4], (x) => tf.mirrorPad(x, [[0,0],[1,1],[2,2],[0,0]], 'reflect')],
  ['max/min', [2,8,8,4], (x) => tf.add(tf.max(x, [1,2]), tf.min(x, [1,2]))],
  ['log/exp/pow', [2,8,8,4], (x) => tf.add(tf.log(tf.add(tf.abs(x), 1)), tf.add(tf.exp(x), tf.pow(tf.abs(x), 1.5)))],
  ['div', [2,8,8,4], (x) => tf.div(x, tf.add(tf.abs(x), 1))],
  ['matmul', [4,6], (x) => tf.matMul(x as tf.Tensor2D, tf.tensor2d(randomValues(6*5, 5), [6,5]))],
  ['transpose/tile', [2,3,4], (x) => tf.tile(tf.transpose(x, [2,0,1]), [2,1,3])],
  ['softmax', [4,6], (x) => tf.softmax(x)],
];
for (const [name, shape, f] of cases) {
  const n = shape.reduce((a,b)=>a*b);
  const xv = randomValues(n, 7); 
  const res: Record<string, Float32Array> = {};
  for (const be of ['cpu','wasm'] as const) {
    await initEngine({ backend: be, log: () => {} });
    const x = tf.tensor(xv, shape);
    const y0 = f(x); const wv = randomValues(y0.size, 9);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(f(a), tf.tensor(wv, y0.shape))))(x);
    res[be] = await g.data() as Float32Array;
  }
  console.log(name, relError(res.wasm, res.cpu).toExponential(2));
}
