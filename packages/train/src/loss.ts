/**
 * Masked reconstruction losses: SSIM (box window, as the reference model), MS-SSIM from 128 px up, L1 and
 * the detail term (L1 of image gradients), each averaged over the face mask only.
 * loss = l1 * L1 + ssim * (1 - S) / 2 + detail * G.
 */
import { tf, type Scalar, type Tensor, type Tensor4D } from './tf.js';
import type { LossWeights } from './config.js';
import { maskedL1, maskedMean, maskedSsim, ssimL1Loss, ssimParts } from '@facecomb/engine';

export { maskedL1, maskedSsim } from '@facecomb/engine';

const EPS = 1e-6;
const MS_WEIGHTS = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];

/** Number of MS-SSIM scales that fit at size r with a window of `win` (at most 5). */
export function msScales(r: number, win: number): number {
  let n = 1;
  while (n < 5 && r / 2 ** n >= win + 1) n++;
  return n;
}

/** Masked MS-SSIM (Wang et al. 2003 weights, renormalised when fewer than 5 scales fit). */
export function maskedMsSsim(a: Tensor4D, b: Tensor4D, mask: Tensor4D, win = 7): Scalar {
  const n = msScales(a.shape[1], win);
  const weights = MS_WEIGHTS.slice(0, n);
  const total = weights.reduce((x, y) => x + y, 0);
  let value: Tensor = tf.scalar(1);
  for (let j = 0; j < n; j++) {
    if (j > 0) {
      a = tf.avgPool(a, 2, 2, 'valid');
      b = tf.avgPool(b, 2, 2, 'valid');
      mask = tf.avgPool(mask, 2, 2, 'valid');
    }
    const { l, cs } = ssimParts(a, b, win);
    const w = tf.avgPool(mask, win, 1, 'valid');
    const term = j === n - 1 ? maskedMean(tf.mul(l, cs) as Tensor4D, w) : maskedMean(cs, w);
    value = tf.mul(value, tf.pow(tf.maximum(term, EPS), weights[j] / total));
  }
  return value as Scalar;
}

/**
 * The detail term: masked L1 of the difference of horizontal and vertical neighbour differences (image
 * gradients), summed over both directions and normalised by the mask's sum like L1 (`den`: a whole batch's).
 * L1 and SSIM barely penalise a blur of fine lines (wrinkles, teeth edges); this term grows with it.
 */
export function maskedGradientL1(a: Tensor4D, b: Tensor4D, mask: Tensor4D, den?: number): Scalar {
  const [n, h, w, c] = a.shape;
  const d = tf.sub(a, b) as Tensor4D;
  const diff = (t: Tensor4D, dy: number, dx: number) =>
    [tf.slice(t, [0, dy, dx, 0], [n, h - dy, w - dx, t.shape[3]]), tf.slice(t, [0, 0, 0, 0], [n, h - dy, w - dx, t.shape[3]])] as const;
  let total: Tensor = tf.scalar(0);
  for (const [dy, dx] of [[0, 1], [1, 0]]) {
    const [d1, d0] = diff(d, dy, dx);
    const [m1, m0] = diff(mask, dy, dx);
    total = tf.add(total, tf.sum(tf.mul(tf.abs(tf.sub(d1, d0)), tf.minimum(m1, m0))));
  }
  return tf.div(total, den === undefined ? tf.add(tf.mul(tf.sum(mask), c), EPS) : den * c + EPS) as Scalar;
}

/** Whether MS-SSIM replaces SSIM at resolution r. */
export function usesMsSsim(w: Pick<LossWeights, 'msssim'>, r: number): boolean {
  return w.msssim === true ? r >= 128 : typeof w.msssim === 'number' ? r >= w.msssim : false;
}

/**
 * The mask sums of a whole batch, for splitting its loss over shards: with them, the shards' losses
 * (reconstructionLoss with `norm`) add up to the batch's loss, and so do their gradients.
 */
export interface LossNorm {
  /** sum of the mask over the whole batch. */
  l1: number;
  /** sum of the SSIM window weights (the mask box-filtered, valid) over the whole batch. */
  ssim: number;
  /** This shard's share of the batch (its size / the batch size). */
  share: number;
}

/** Whether a batch's loss at resolution r is a sum over its samples (so shards can share it): not MS-SSIM (a product of scales). */
export function lossSplits(w: LossWeights, r: number): boolean {
  return !(w.ssim > 0 && usesMsSsim(w, r));
}

/** The LossNorm of a whole batch's mask [B,R,R,1] (share 1). */
export function lossNorm(mask: Tensor4D, w: LossWeights): LossNorm {
  return tf.tidy(() => ({
    l1: tf.sum(mask).dataSync()[0],
    ssim: tf.sum(tf.avgPool(mask, w.window, 1, 'valid')).dataSync()[0],
    share: 1,
  }));
}

/**
 * The training loss of a reconstruction y of target x under mask. With `norm` (a shard of a batch, see
 * LossNorm; SSIM only, not MS-SSIM), the shard's part of the whole batch's loss.
 */
export function reconstructionLoss(y: Tensor4D, x: Tensor4D, mask: Tensor4D, w: LossWeights, norm?: LossNorm): Scalar {
  if (norm && !lossSplits(w, x.shape[1])) throw new Error('MS-SSIM is not a sum over samples: it cannot be split over shards');
  const detail = w.detail > 0 ? (tf.mul(maskedGradientL1(y, x, mask, norm?.l1), w.detail) as Scalar) : undefined;
  // SSIM + L1: the engine's op (4 fused dispatches on webgpu for loss and gradient, tf ops elsewhere)
  if (!(w.ssim > 0 && usesMsSsim(w, x.shape[1]))) return ssimL1Loss(y, x, mask, { l1: w.l1, ssim: w.ssim, window: w.window, norm, extra: detail });
  let loss: Tensor = tf.scalar(0);
  if (detail) loss = tf.add(loss, detail);
  if (w.l1 > 0) loss = tf.add(loss, tf.mul(maskedL1(y, x, mask, norm?.l1), w.l1));
  loss = tf.add(loss, tf.mul(tf.sub(norm?.share ?? 1, maskedMsSsim(y, x, mask, w.window)), w.ssim / 2));
  return loss as Scalar;
}
