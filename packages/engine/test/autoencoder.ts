/**
 * A small conv autoencoder touching every op family our models train with, its inputs, and a function that
 * returns its loss and all gradients as plain arrays on the active backend. Shared by the gradient tests and
 * bench/gpu/check.ts.
 */
import { tf } from '../src/index.js';
import { randomValues } from './helpers.js';

export const B = 2, H = 16, W = 16;

/** Parameter shapes of a small conv autoencoder touching every op family our models train with. */
export const PARAMS: Record<string, number[]> = {
  w1: [3, 3, 3, 8], b1: [8],
  w2: [3, 3, 8, 16],          // stride-2 conv (downsample)
  gamma: [16], beta: [16],    // batch norm
  w3: [1, 1, 16, 16],         // 1x1 conv
  w4: [3, 3, 16, 8],
  wt: [3, 3, 8, 8],           // conv2dTranspose (upsample), filter [kh, kw, out, in]
  w5: [3, 3, 16, 3], b5: [3],
};

export function initValues(): Record<string, Float32Array> {
  const v: Record<string, Float32Array> = {};
  let seed = 11;
  for (const [k, shape] of Object.entries(PARAMS)) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (k === 'gamma') v[k] = new Float32Array(n).map((_, i) => 1 + 0.1 * Math.sin(i));
    else v[k] = randomValues(n, seed++, k.startsWith('b') ? 0.1 : Math.sqrt(3 / (shape.slice(0, -1).reduce((a, b) => a * b, 1))));
  }
  return v;
}

export const xValues = randomValues(B * H * W * 3, 101, 1).map((v) => 0.5 + 0.5 * v);
export const targetValues = randomValues(B * H * W * 3, 202, 1).map((v) => 0.5 + 0.4 * v);

/** Forward pass and loss: conv (stride 1 and 2, 'same'), leakyRelu, avg/max pool, batch norm, 1x1 conv,
 *  nearest and bilinear resize, conv2dTranspose, sigmoid, and a loss with mean/abs/sqrt/square. */
export function loss(p: Record<string, tf.Tensor>, x: tf.Tensor4D, target: tf.Tensor4D): tf.Scalar {
  let h = tf.leakyRelu(tf.add(tf.conv2d(x, p.w1 as tf.Tensor4D, 1, 'same'), p.b1), 0.2) as tf.Tensor4D;
  h = tf.leakyRelu(tf.conv2d(h, p.w2 as tf.Tensor4D, 2, 'same'), 0.2);                       // 8x8x16
  const pooled = tf.add(tf.avgPool(h, 2, 1, 'same'), tf.maxPool(h, 2, 1, 'same')) as tf.Tensor4D;
  const { mean, variance } = tf.moments(pooled, [0, 1, 2]);
  h = tf.batchNorm(pooled, mean, variance, p.beta as tf.Tensor1D, p.gamma as tf.Tensor1D, 1e-3) as tf.Tensor4D;
  h = tf.conv2d(h, p.w3 as tf.Tensor4D, 1, 'valid');
  const down = tf.avgPool(h, 2, 2, 'same');                                                  // 4x4x16
  const up = tf.image.resizeNearestNeighbor(down, [8, 8]);
  let d = tf.leakyRelu(tf.conv2d(tf.add(up, h) as tf.Tensor4D, p.w4 as tf.Tensor4D, 1, 'same'), 0.2); // 8x8x8
  const t = tf.conv2dTranspose(d, p.wt as tf.Tensor4D, [B, H, W, 8], 2, 'same');               // 16x16x8
  const r = tf.image.resizeBilinear(d, [H, W]);
  d = tf.concat([t, r], 3);
  const out = tf.sigmoid(tf.add(tf.conv2d(d, p.w5 as tf.Tensor4D, 1, 'same'), p.b5));
  const diff = tf.sub(out, target);
  const l1 = tf.mean(tf.abs(diff));
  const charbonnier = tf.mean(tf.sqrt(tf.add(tf.square(diff), 1e-3)));
  const tv = tf.mean(tf.abs(tf.sub(out.slice([0, 1, 0, 0], [B, H - 1, W, 3]), out.slice([0, 0, 0, 0], [B, H - 1, W, 3]))));
  return tf.addN([l1, charbonnier, tf.mul(tv, 0.1)]) as tf.Scalar;
}

/** Loss and gradients (all parameters and the input) on the active backend, as plain arrays. */
export async function gradients(values: Record<string, Float32Array>): Promise<Record<string, Float32Array>> {
  const names = Object.keys(PARAMS);
  const params = names.map((k) => tf.tensor(values[k], PARAMS[k]));
  const x = tf.tensor4d(xValues, [B, H, W, 3]);
  const target = tf.tensor4d(targetValues, [B, H, W, 3]);
  const { value, grads } = tf.valueAndGrads((...args: tf.Tensor[]) => {
    const p: Record<string, tf.Tensor> = {};
    names.forEach((k, i) => { p[k] = args[i]; });
    return loss(p, args[names.length] as tf.Tensor4D, target);
  })([...params, x]);
  const out: Record<string, Float32Array> = { loss: (await value.data()) as Float32Array };
  for (let i = 0; i < names.length; i++) out[names[i]] = (await grads[i].data()) as Float32Array;
  out.x = (await grads[names.length].data()) as Float32Array;
  tf.dispose([...params, x, target, value, ...grads]);
  return out;
}

