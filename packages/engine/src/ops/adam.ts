/**
 * Adam steps of many variables (torch.optim.Adam: bias-corrected, eps outside the square root), w, m and v
 * updated in place. Kernel: webgpu/adam.ts (several variables per dispatch, optionally loss-scaled);
 * test/adam.test.ts checks the op against the reference below on every engine that initialises.
 */
import { tf } from '../tf.js';
import type { LossScaler } from '../webgpu/loss-scale.js';
import { defineOp } from './registry.js';

export interface AdamHyper { lr: number; beta1: number; beta2: number; epsilon: number }

/** One variable's part of a step: w, m, v updated in place with gradient g at step t (1-based). */
export interface AdamItem { w: tf.Variable; m: tf.Variable; v: tf.Variable; g: tf.Tensor; t: number; skips?: tf.Variable }

/** The reference: tf ops per variable (about a dozen kernels each). Loss scaling needs the webgpu kernel. */
export function adamReference(items: AdamItem[], h: AdamHyper, scaler?: LossScaler): true {
  if (scaler) throw new Error('optimizer: loss scaling needs the fused webgpu Adam (f16 runs on webgpu only)');
  const { lr, beta1, beta2, epsilon } = h;
  for (const it of items) {
    const bc1 = 1 - beta1 ** it.t;
    const bc2 = 1 - beta2 ** it.t;
    tf.tidy(() => {
      const m = tf.add(tf.mul(it.m, beta1), tf.mul(it.g, 1 - beta1));
      const v = tf.add(tf.mul(it.v, beta2), tf.mul(tf.square(it.g), 1 - beta2));
      it.m.assign(m);
      it.v.assign(v);
      const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), epsilon);
      it.w.assign(tf.sub(it.w, tf.mul(tf.div(m, denom), lr / bc1)));
    });
  }
  return true;
}

export const adamOp = defineOp('FacecombAdam', adamReference);

/**
 * One Adam step of each item. With `scaler` (f16 on webgpu) every g is its gradient times the scaler's scale
 * and carries its `skips` counter: a step the scaler flagged is skipped (skips += 1; bias correction t - skips).
 */
export function adamSteps(items: AdamItem[], h: AdamHyper, scaler?: LossScaler): void {
  adamOp.run(items, h, scaler);
}
