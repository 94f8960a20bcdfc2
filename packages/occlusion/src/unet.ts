import { concatFloat32, tf } from '@facecomb/engine';
import { INPUT_CHANNELS } from './batch.js';

/**
 * A small U-Net: three stride-2 encoder levels, a bottleneck and three decoder levels with skip connections,
 * predicting one logit per pixel (visible face). Weights are plain named variables so a checkpoint is a flat
 * map of arrays.
 */
export interface UNet {
  /** Input side in pixels (a multiple of 8). */
  size: number;
  widths: number[];
  vars: Map<string, tf.Variable>;
}


/** The conv layers as [name, kernel, in, out] for the given widths. */
function layers(w: number[]): [string, number, number, number][] {
  const [a, b, c, d] = w;
  return [
    ['e0', 3, INPUT_CHANNELS, a], ['e1', 3, a, b], ['e2', 3, b, c], ['e3', 3, c, d],
    ['b0', 3, d, d],
    ['d2', 3, d + c, c], ['d1', 3, c + b, b], ['d0', 3, b + a, a],
    ['out', 1, a, 1],
  ];
}

/** Deterministic He-uniform initial weights from `seed`. */
export function createUNet(size: number, widths = [16, 24, 32, 48], seed = 1): UNet {
  if (size % 8 !== 0) throw new Error(`segmenter size ${size} must be a multiple of 8`);
  const vars = new Map<string, tf.Variable>();
  for (const [name, k, cin, cout] of layers(widths)) {
    const lim = Math.sqrt(6 / (k * k * cin));
    vars.set(`${name}.w`, tf.variable(tf.randomUniform([k, k, cin, cout], -lim, lim, 'float32', seed++), true, `${name}.w`));
    vars.set(`${name}.b`, tf.variable(tf.zeros([cout]), true, `${name}.b`));
  }
  return { size, widths, vars };
}

function conv(net: UNet, x: tf.Tensor4D, name: string, stride: 1 | 2 = 1, act = true): tf.Tensor4D {
  const y = tf.add(tf.conv2d(x, net.vars.get(`${name}.w`) as tf.Tensor4D, stride, 'same'), net.vars.get(`${name}.b`)!) as tf.Tensor4D;
  return act ? tf.leakyRelu(y, 0.1) : y;
}

function up(x: tf.Tensor4D, skip: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = skip.shape;
  return tf.concat([tf.image.resizeNearestNeighbor(x, [h, w]), skip], 3);
}

/** Logits [n, size, size, 1] for inputs [n, size, size, INPUT_CHANNELS] (see packInput). */
export function forward(net: UNet, x: tf.Tensor4D): tf.Tensor4D {
  const e0 = conv(net, tf.sub(x, 0.5) as tf.Tensor4D, 'e0');
  const e1 = conv(net, e0, 'e1', 2);
  const e2 = conv(net, e1, 'e2', 2);
  const e3 = conv(net, e2, 'e3', 2);
  const b = conv(net, e3, 'b0');
  const d2 = conv(net, up(b, e2), 'd2');
  const d1 = conv(net, up(d2, e1), 'd1');
  const d0 = conv(net, up(d1, e0), 'd0');
  return conv(net, d0, 'out', 1, false);
}

/** The weights as one Float32Array in the variables' order (checkpoint). */
export async function saveWeights(net: UNet): Promise<Float32Array> {
  return concatFloat32(await Promise.all([...net.vars.values()].map((v) => v.data() as Promise<Float32Array>)));
}

/** Loads weights saved by saveWeights; `file` names them in the error when the sizes do not match. */
export function loadWeights(net: UNet, w: Float32Array, file: string): void {
  const total = [...net.vars.values()].reduce((s, v) => s + v.size, 0);
  if (w.length !== total) throw new Error(`${file}: ${w.length} weights where the segmenter has ${total} (delete the file to train again)`);
  let o = 0;
  for (const v of net.vars.values()) {
    v.assign(tf.tensor(w.subarray(o, o + v.size), v.shape));
    o += v.size;
  }
}
