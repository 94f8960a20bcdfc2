import { tf, initEngine } from '@facecomb/engine';
await initEngine({ backend: 'wasm', log: () => {} });
const cmp = async (shapeX, shapeW, stride, pad) => {
  const x = tf.randomNormal(shapeX, 0, 1, 'float32', 1), w = tf.randomNormal(shapeW, 0, 1, 'float32', 2);
  const y = tf.conv2d(x, w, stride, pad);
  const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 3);
  const before = tf.backend().numDataIds();
  const r = tf.engine().runKernel('Conv2DBackpropInput',{dy,filter:w},{strides:stride,pad,dataFormat:'NHWC',inputShape:shapeX});
  const got = await r.data(); r.dispose();
  const leak = tf.backend().numDataIds() - before;
  const [dyv, wv] = [await dy.data(), await w.data()];
  await tf.setBackend('cpu');
  const ref = await tf.engine().runKernel('Conv2DBackpropInput',{dy:tf.tensor(dyv, y.shape),filter:tf.tensor(wv,shapeW)},{strides:stride,pad,dataFormat:'NHWC',inputShape:shapeX}).data();
  await tf.setBackend('wasm');
  let e=0, n=0; for (let i=0;i<ref.length;i++){ e=Math.max(e,Math.abs(ref[i]-got[i])); n=Math.max(n,Math.abs(ref[i])); }
  console.log(JSON.stringify([shapeX, shapeW, stride, pad]), 'rel', (e/n).toExponential(2), 'leak', leak, ref.length===got.length);
};
await cmp([2,9,9,3],[3,3,3,4],1,'same');
await cmp([2,9,9,3],[3,3,3,4],2,'same');
await cmp([2,8,8,3],[3,3,3,4],2,'same');
await cmp([2,8,8,3],[3,3,3,4],2,'valid');
await cmp([2,8,7,3],[1,1,3,4],1,'valid');
await cmp([2,8,7,3],[1,1,3,4],2,'same');
await cmp([2,10,8,3],[4,4,3,4],2,'same');
await cmp([2,10,8,3],[3,3,3,4],2,[[0,0],[1,2],[0,1],[0,0]]);
await cmp([1,11,13,2],[5,5,2,3],3,'same');
await cmp([1,11,13,2],[3,3,2,3],[2,1],'same');
await cmp([1,11,13,2],[2,2,2,3],2,'valid');
