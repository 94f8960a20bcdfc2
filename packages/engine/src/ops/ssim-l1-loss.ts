/**
 * The masked reconstruction loss l1 * L1 + ssim * (share - S) / 2 (+ an extra term), S the masked SSIM with a
 * box window, L1 the masked mean absolute difference, both averaged over the mask (or over a whole batch's mask
 * sums, for a shard: see LossNorm in @facecomb/train). Kernel: webgpu/ssim-loss.ts (4 programs for loss and
 * gradient w.r.t. y); test/ssim-l1-loss.test.ts checks the op against the reference below.
 */
import { tf } from '../tf.js';
import { defineOp } from './registry.js';

type T4 = tf.Tensor4D;

/** What the loss computes: l1 * L1 + ssim * (share - S) / 2, with optional whole-batch mask sums (shards). */
export interface FusedLossSpec {
  l1: number;
  ssim: number;
  window: number;
  /** Mask sums of the whole batch and this shard's share (see LossNorm in @facecomb/train). */
  norm?: { l1: number; ssim: number; share: number };
  /** A term added first (train's detail term), so the sum is formed in the order the composed loss forms it. */
  extra?: tf.Scalar;
}

const C1 = 0.01 ** 2;
const C2 = 0.03 ** 2;
const EPS = 1e-6;

/** sum(map * w) / (sum(w) * channels): map [B,h,w,C], w [B,h,w,1]. `den` replaces sum(w) (a whole batch's, for a shard of it). */
export function maskedMean(map: T4, w: T4, den?: number): tf.Scalar {
  const c = map.shape[3];
  return tf.div(tf.sum(tf.mul(map, w)), den === undefined ? tf.add(tf.mul(tf.sum(w), c), EPS) : den * c + EPS) as tf.Scalar;
}

/** SSIM's luminance and contrast-structure maps of a and b with a box window of `win` (valid). */
export function ssimParts(a: T4, b: T4, win: number): { l: T4; cs: T4 } {
  const pool = (t: T4) => tf.avgPool(t, win, 1, 'valid');
  const ma = pool(a);
  const mb = pool(b);
  const va = tf.sub(pool(tf.mul(a, a)), tf.mul(ma, ma));
  const vb = tf.sub(pool(tf.mul(b, b)), tf.mul(mb, mb));
  const cov = tf.sub(pool(tf.mul(a, b)), tf.mul(ma, mb));
  const l = tf.div(tf.add(tf.mul(tf.mul(ma, mb), 2), C1), tf.add(tf.add(tf.mul(ma, ma), tf.mul(mb, mb)), C1)) as T4;
  const cs = tf.div(tf.add(tf.mul(cov, 2), C2), tf.add(tf.add(va, vb), C2)) as T4;
  return { l, cs };
}

/** Masked SSIM of a and b ([B,R,R,3] in [0,1]) with a box window; mask [B,R,R,1] in [0,1]. */
export function maskedSsim(a: T4, b: T4, mask: T4, win = 7, den?: number): tf.Scalar {
  const { l, cs } = ssimParts(a, b, win);
  return maskedMean(tf.mul(l, cs) as T4, tf.avgPool(mask, win, 1, 'valid'), den);
}

/** Masked mean absolute difference. */
export function maskedL1(a: T4, b: T4, mask: T4, den?: number): tf.Scalar {
  return maskedMean(tf.abs(tf.sub(a, b)) as T4, mask, den);
}

/** The reference: the composed tf ops (dozens of kernels for loss and gradient). */
export function ssimL1LossReference(y: T4, x: T4, mask: T4, s: FusedLossSpec): tf.Scalar {
  let loss: tf.Tensor = tf.scalar(0);
  if (s.extra) loss = tf.add(loss, s.extra);
  if (s.l1 > 0) loss = tf.add(loss, tf.mul(maskedL1(y, x, mask, s.norm?.l1), s.l1));
  if (s.ssim > 0) loss = tf.add(loss, tf.mul(tf.sub(s.norm?.share ?? 1, maskedSsim(y, x, mask, s.window, s.norm?.ssim)), s.ssim / 2));
  return loss as tf.Scalar;
}

export const ssimL1LossOp = defineOp('FacecombSsimL1Loss', ssimL1LossReference);

/** The loss (a scalar, differentiable w.r.t. y; x and mask are data). */
export function ssimL1Loss(y: T4, x: T4, mask: T4, spec: FusedLossSpec): tf.Scalar {
  return ssimL1LossOp.run(y, x, mask, spec);
}
