import { tf, initEngine, setFilterGradBandBytes, setWasmFilterGradMethod } from './src/index.js';
await initEngine({ backend: 'wasm', log: () => {} });
setWasmFilterGradMethod('conv');
for (const [b, h, c] of [[8, 256, 32], [8, 128, 64], [8, 64, 32], [8, 16, 128]]) {
  const x = tf.randomNormal([b, h, h, c]) as tf.Tensor4D, dy = tf.randomNormal([b, h, h, c]) as tf.Tensor4D;
  const flops = 2 * b * h * h * 9 * c * c;
  const fwd = () => tf.conv2d(x, tf.zeros([3,3,c,c]) as tf.Tensor4D, 1, 'same');
  const row: string[] = [];
  const timeit = async (fn: () => tf.Tensor) => { let y = fn(); await y.data(); y.dispose(); const t0 = performance.now(); let n = 0; while (n < 3 || (performance.now() - t0 < 1500 && n < 20)) { y = fn(); await y.data(); y.dispose(); n++; } return (performance.now() - t0) / n; };
  row.push(`fwd ${(flops / (await timeit(fwd)) / 1e6).toFixed(1)}`);
  for (const bytes of [1 << 18, 1 << 19, 1 << 20, 1 << 21, 1 << 22, 1 << 30]) {
    setFilterGradBandBytes(bytes);
    const ms = await timeit(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, c, c] } as never) as tf.Tensor);
    row.push(`${bytes >> 10}K ${(flops / ms / 1e6).toFixed(1)}`);
  }
  console.log(`B${b} ${h}x${h} C${c}: ${row.join(' | ')}`);
  tf.dispose([x, dy]);
}
